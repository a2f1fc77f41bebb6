"""What a re-judging changed, and the page that waits to say so.

``Changes`` is what the engine returns; ``capture_changes()`` is how a view hears of what its save opened and
resolved (``compliance.feedback.report_changes`` turns it into the page's message). ``compliance.rejudge``
publishes here after it judged a save; nothing else does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .models import Finding


@dataclass
class Changes:
    """What an evaluation did to the findings."""

    opened: list[Finding] = field(default_factory=list)  # new, or reopened after a waiver ended
    resolved: list[Finding] = field(default_factory=list)
    still_open: list[Finding] = field(default_factory=list)  # failing before and still failing
    errors: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    recorded: int = 0  # a replay's snapshot rows (SweepFinding) written
    # (rule, 街办) of every finding opened, changed or resolved: the daily counts to refresh.
    touched: set[tuple[str, str | None]] = field(default_factory=set)
    # Targets handed to a Celery worker instead of judged here (compliance.rejudge): their findings are not known yet.
    pending: int = 0
    # Sweeps that judged here instead of lists (a re-judge past SWEEP_INSTEAD_ABOVE): what they opened and resolved
    # is counted on the sweep, not listed here.
    sweep_ids: list[int] = field(default_factory=list)

    def merge(self, other: Changes) -> Changes:
        self.pending += other.pending
        self.sweep_ids += other.sweep_ids
        self.recorded += other.recorded
        self.touched |= other.touched
        self.opened += other.opened
        self.resolved += other.resolved
        self.still_open += other.still_open
        self.errors += other.errors
        for rule_id, seconds in other.timings.items():
            self.timings[rule_id] = self.timings.get(rule_id, 0.0) + seconds
        return self

    def __bool__(self) -> bool:
        return bool(self.opened or self.resolved or self.pending)


# -- what the last evaluation changed, for the page after a save -------------

_local = threading.local()


def _collectors() -> list[tuple[Changes, bool]]:
    """The open ``capture_changes()`` blocks of this thread: (what they collect, whether a page waits on it)."""
    if not hasattr(_local, "collectors"):
        _local.collectors = []
    return _local.collectors


@contextmanager
def capture_changes(*, page: bool = True) -> Iterator[Changes]:
    """Collect what evaluations run inside the block open and resolve.

    A view wraps its service call: the service's on-commit evaluation runs
    before the block ends (the service's atomic block commits inside it), so

        with capture_changes() as changes:
            compound_update(compound=c, **data)
        messages.info(request, f"新发现 {len(changes.opened)} 项，已整改 {len(changes.resolved)} 项")

    ``page=False``: a writer that only records what its re-judging did (the workbook import, whose result page
    says it afterwards). No page waits on it, so it does not send the re-judging to a worker (``capturing``).
    """
    entry = (Changes(), page)
    _collectors().append(entry)
    try:
        yield entry[0]
    finally:
        # By identity: Changes compare by value, and an outer block may hold an equal one.
        stack = _collectors()
        del stack[next(i for i, open_entry in enumerate(stack) if open_entry is entry)]


def capturing() -> bool:
    """Is a page waiting to say what this save changed (a ``capture_changes()`` block is open for a page)?"""
    return any(page for _changes, page in _collectors())


def publish(changes: Changes) -> None:
    for collector, _page in _collectors():
        collector.merge(changes)
