"""The one evaluation path: saves, bulk imports and sweeps all come here.

For each rule: build its target queryset (narrowed to the changed targets or
to a sweep chunk), let the rule compute results with the database, and
reconcile them with the live findings in bulk. The number of queries per rule
does not depend on the number of targets.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import catalogue
from .models import LIVE_STATUSES, Finding, FindingEvent, FindingEventKind, FindingStatus, Sweep
from .parameters import params_for_rules
from .rules import DISTRICT_PK, Result, Rule

logger = logging.getLogger(__name__)

# Keeps IN lists under every backend's parameter limit (SQLite: 32766).
IN_CHUNK = 5000
WRITE_BATCH = 500


@dataclass
class Changes:
    """What an evaluation did to the findings."""

    opened: list[Finding] = field(default_factory=list)  # new, or reopened after a waiver ended
    resolved: list[Finding] = field(default_factory=list)
    still_open: list[Finding] = field(default_factory=list)  # failing before and still failing
    errors: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def merge(self, other: Changes) -> Changes:
        self.opened += other.opened
        self.resolved += other.resolved
        self.still_open += other.still_open
        self.errors += other.errors
        for rule_id, seconds in other.timings.items():
            self.timings[rule_id] = self.timings.get(rule_id, 0.0) + seconds
        return self

    def __bool__(self) -> bool:
        return bool(self.opened or self.resolved)


# -- what the last evaluation changed, for the page after a save -------------

_local = threading.local()


def _collectors() -> list[Changes]:
    if not hasattr(_local, "collectors"):
        _local.collectors = []
    return _local.collectors


@contextmanager
def capture_changes() -> Iterator[Changes]:
    """Collect what evaluations run inside the block open and resolve.

    A view wraps its service call: the service's on-commit evaluation runs
    before the block ends (the service's atomic block commits inside it), so

        with capture_changes() as changes:
            compound_update(compound=c, **data)
        messages.info(request, f"新发现 {len(changes.opened)} 项，已整改 {len(changes.resolved)} 项")
    """
    changes = Changes()
    _collectors().append(changes)
    try:
        yield changes
    finally:
        _collectors().remove(changes)


def _publish(changes: Changes) -> None:
    for collector in _collectors():
        collector.merge(changes)


# -- evaluation ---------------------------------------------------------------


def _chunks(items: list, size: int = IN_CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _scoped_queryset(rule: Rule, as_of: dt.date, target_pks, community_pks, orphans: bool):
    qs = rule.target_queryset(as_of)
    if rule.is_district or qs is None:
        return qs
    if target_pks is not None:
        qs = qs.filter(pk__in=list(target_pks))
    if community_pks is not None:
        qs = qs.filter(**{f"{rule.community_lookup}__in": list(community_pks)})
    if orphans:
        if rule.community_lookup == "pk":
            return qs.none()
        qs = qs.filter(**{f"{rule.community_lookup}__isnull": True})
    return qs


def _locate(results: list[Result], rule: Rule) -> None:
    """Fill 街办 and responsible unit where the rule left them out (two small queries)."""
    from communities.models import Community, SubDistrict

    need = {r.community_id for r in results if r.community_id is not None and r.sub_district_id is None}
    streets: dict[int, str] = {}
    for part in _chunks(sorted(need)):
        streets.update(Community.objects.filter(pk__in=part).values_list("pk", "sub_district_id"))
    names = dict(SubDistrict.objects.values_list("code", "name")) if results else {}
    info = rule.clause_info
    fallback = info.lead_text if info else ""
    for r in results:
        if r.sub_district_id is None and r.community_id is not None:
            r.sub_district_id = streets.get(r.community_id)
        if not r.responsible:
            r.responsible = names.get(r.sub_district_id, "") if r.sub_district_id else fallback
        if r.severity is None:
            r.severity = rule.severity


_DATA_FIELDS = ("target_key", "community_id", "sub_district_id", "severity", "measured", "required", "message",
                "responsible_unit")


def _evaluate_one(rule: Rule, *, as_of: dt.date, params: dict[str, Any], target_pks: list[int] | None,
                  community_pks: Iterable[int] | None, orphans: bool, sweep: Sweep | None, now) -> Changes:
    changes = Changes()
    scoped = target_pks is not None
    if rule.is_district and ((target_pks is not None and DISTRICT_PK not in target_pks) or community_pks is not None):
        return changes  # the district is judged once per sweep, in its last chunk
    qs = _scoped_queryset(rule, as_of, target_pks, community_pks, orphans)
    if scoped and not rule.is_district and not target_pks:
        return changes
    results = [r for r in rule.evaluate(qs, as_of, params) if not r.passed]
    failing: dict[int, Result] = {}
    for r in results:
        # Two conditions on one target: the higher severity is the finding.
        prev = failing.get(r.target_pk)
        if prev is None or catalogue.Severity.RANK.get(r.severity or rule.severity, 0) > catalogue.Severity.RANK.get(
            prev.severity or rule.severity, 0
        ):
            failing[r.target_pk] = r
    results = list(failing.values())
    _locate(results, rule)

    live = Finding.objects.filter(rule_id=rule.id, target_type=rule.target, status__in=LIVE_STATUSES)
    existing: dict[int, Finding] = {}
    if rule.is_district:
        existing = {f.target_pk: f for f in live}
        scope: set[int] | None = {DISTRICT_PK}
    elif target_pks is not None:
        for part in _chunks(sorted(set(target_pks))):
            existing.update((f.target_pk, f) for f in live.filter(target_pk__in=part))
        scope = set(target_pks)
    elif sweep is None and community_pks is None and not orphans:
        existing = {f.target_pk: f for f in live}
        scope = None  # everything: any live finding not failing now is resolved
    else:
        # A sweep chunk only records what fails; sweep_finish resolves the unseen.
        for part in _chunks(sorted(failing)):
            existing.update((f.target_pk, f) for f in live.filter(target_pk__in=part))
        scope = set()

    create: list[Finding] = []
    update: list[Finding] = []
    touch: list[int] = []
    events: list[FindingEvent] = []
    sweep_id = sweep.pk if sweep else None
    for r in results:
        data = {
            "target_key": str(r.key), "community_id": r.community_id, "sub_district_id": r.sub_district_id,
            "severity": r.severity, "measured": r.measured, "required": r.required, "message": r.message,
            "responsible_unit": r.responsible[:200],
        }
        f = existing.get(r.target_pk)
        if f is None:
            f = Finding(rule_id=rule.id, clause=rule.clause, target_type=rule.target, target_pk=r.target_pk,
                        status=FindingStatus.OPEN, first_seen=as_of, last_seen=as_of, opened_at=now,
                        last_sweep_id=sweep_id, **data)
            create.append(f)
            changes.opened.append(f)
            continue
        reopened = f.status == FindingStatus.WAIVED and f.waived_until is not None and as_of > f.waived_until
        old_severity = f.severity
        changed = [k for k, v in data.items() if getattr(f, k) != v]
        if not changed and not reopened:
            touch.append(f.pk)
            f.last_seen, f.last_sweep_id = as_of, sweep_id
            if f.status == FindingStatus.OPEN:
                changes.still_open.append(f)
            continue
        for k in changed:
            setattr(f, k, data[k])
        f.last_seen, f.last_sweep_id = as_of, sweep_id
        if reopened:
            f.status = FindingStatus.OPEN
            f.opened_at = now
            f.resolved_at = None
            events.append(FindingEvent(finding=f, kind=FindingEventKind.REOPENED, as_of=as_of, severity=f.severity,
                                       measured=f.measured, sweep_id=sweep_id,
                                       note=f"豁免已于 {f.waived_until:%Y-%m-%d} 到期，数据仍不达标"))
            changes.opened.append(f)
        else:
            if f.severity != old_severity:
                events.append(FindingEvent(finding=f, kind=FindingEventKind.SEVERITY, as_of=as_of,
                                           severity=f.severity, measured=f.measured, sweep_id=sweep_id,
                                           note=f"{catalogue.Severity.label(old_severity)} → "
                                                f"{catalogue.Severity.label(f.severity)}"))
            if f.status == FindingStatus.OPEN:
                changes.still_open.append(f)
        update.append(f)

    resolve = [f for pk, f in existing.items() if pk not in failing and (scope is None or pk in scope)]

    if create:
        Finding.objects.bulk_create(create, batch_size=WRITE_BATCH)
        events += [FindingEvent(finding=f, kind=FindingEventKind.OPENED, as_of=as_of, severity=f.severity,
                                measured=f.measured, sweep_id=sweep_id, note=f.message) for f in create]
    if update:
        Finding.objects.bulk_update(
            update, [*_DATA_FIELDS, "last_seen", "last_sweep_id", "status", "opened_at", "resolved_at"],
            batch_size=WRITE_BATCH,
        )
    for part in _chunks(touch):
        Finding.objects.filter(pk__in=part).update(last_seen=as_of, last_sweep_id=sweep_id)
    if resolve:
        for part in _chunks([f.pk for f in resolve]):
            Finding.objects.filter(pk__in=part).update(status=FindingStatus.RESOLVED, resolved_at=now)
        for f in resolve:
            f.status, f.resolved_at = FindingStatus.RESOLVED, now
            events.append(FindingEvent(finding=f, kind=FindingEventKind.RESOLVED, as_of=as_of, sweep_id=sweep_id,
                                       note="数据已达标（或对象已不再评估）"))
        changes.resolved += resolve
    if events:
        FindingEvent.objects.bulk_create(events, batch_size=WRITE_BATCH)
    return changes


def evaluate_rules(
    *,
    rules: Iterable[Rule],
    as_of: dt.date | None = None,
    target_pks: Mapping[str, Iterable[int]] | Iterable[int] | None = None,
    sweep: Sweep | None = None,
    community_pks: Iterable[int] | None = None,
    orphans: bool = False,
    catch_errors: bool = False,
    params: dict[str, dict[str, Any]] | None = None,
) -> Changes:
    """Evaluate ``rules`` as of a date and reconcile their findings.

    ``target_pks``: None for every target, a list of pks for all rules, or a
    dict rule id → pks (what the on-save mechanism builds). ``community_pks``
    / ``orphans`` select a sweep chunk. With ``catch_errors`` a rule that
    raises is recorded in ``changes.errors`` and the others still run.
    """
    as_of = as_of or timezone.localdate()
    rules = list(rules)
    now = timezone.now()
    all_params = params if params is not None else params_for_rules(rules, as_of)
    total = Changes()
    for rule in rules:
        if isinstance(target_pks, Mapping):
            if rule.id not in target_pks:
                continue
            pks: list[int] | None = list(target_pks[rule.id])
        else:
            pks = None if target_pks is None else list(target_pks)
        started = time.perf_counter()
        try:
            # A savepoint per rule: a rule that fails leaves no half-written findings.
            with transaction.atomic():
                total.merge(_evaluate_one(rule, as_of=as_of, params=all_params[rule.id], target_pks=pks,
                                          community_pks=community_pks, orphans=orphans, sweep=sweep, now=now))
        except Exception as exc:
            if not catch_errors:
                raise
            logger.exception("规则 %s 评估失败", rule.id)
            total.errors.append({"rule": rule.id, "error": f"{type(exc).__name__}: {exc}"})
        total.timings[rule.id] = total.timings.get(rule.id, 0.0) + (time.perf_counter() - started)
    if sweep is None:
        _publish(total)
    return total


def preview_rules(
    *,
    rules: Iterable[Rule],
    community_pks: Iterable[int],
    as_of: dt.date | None = None,
    params: dict[str, dict[str, Any]] | None = None,
) -> list[tuple[Rule, Result]]:
    """What ``rules`` would find in these communities (and their compounds,
    facilities, people), without touching any finding.

    For proposals that do not exist yet as records (an establishment request
    before it is submitted): the caller may build them inside a transaction it
    rolls back; nothing here writes, so nothing here needs undoing.
    """
    as_of = as_of or timezone.localdate()
    rules = list(rules)
    pks = list(community_pks)
    all_params = params if params is not None else params_for_rules(rules, as_of)
    out: list[tuple[Rule, Result]] = []
    for rule in rules:
        if rule.is_district:
            continue  # a district rule does not judge one proposed community
        qs = _scoped_queryset(rule, as_of, None, pks, False)
        failing: dict[int, Result] = {}
        for r in rule.evaluate(qs, as_of, all_params[rule.id]):
            if r.passed:
                continue
            r.severity = r.severity or rule.severity
            prev = failing.get(r.target_pk)
            if prev is None or catalogue.Severity.RANK.get(r.severity, 0) > catalogue.Severity.RANK.get(
                prev.severity or rule.severity, 0
            ):
                failing[r.target_pk] = r
        out += [(rule, r) for r in failing.values()]
    return out
