"""Re-judging after a write: the whole way from a written row to its findings, in the order it runs.

1. ``rejudge_on_commit(Model, rows, changed=...)``: every write names the rows it wrote, in so many words.
   The domain services call it after each write, single or bulk: a save passes the row and the row as it was
   (which the service read or copied before changing it, so a compound moved to another community re-judges
   both sides) with ``changed=changed_columns(old, row)``; a new row passes ``created=True``; a delete passes
   the row. The admin's edits come through ``RejudgeAdmin`` at the bottom of this module, the one hook left
   (the system check compliance.E009 holds every admin of a model a rule reads to it). A bare
   ``Model.save()`` re-judges nothing: no signal receiver stands behind the services.
2. ``targets_for``: each rule's ``reads`` mappers turn the rows into the targets to re-judge; a ``@watching``
   mapper is skipped when the update changed none of its columns, and for new rows unless it is marked
   ``new_rows`` (a new row that reaches rows written before it).
3. The targets wait for the transaction to commit (``transaction.on_commit``): a rolled-back write judges
   nothing, and the writes of one transaction are judged together, once (``_Pending``). Inside
   ``bulk_changes()`` (the workbook import, the demo) rows are only collected, and each mapper runs once per
   model when the block ends.
4. At commit, ``_judge``: a page's save with a real Celery broker (COMPLIANCE_REJUDGE_ASYNC) goes to the
   ``compliance.rejudge`` task and the page hears "pending"; otherwise ``rejudge_now`` judges here:
   ``compliance.engine.evaluate_rules`` on those targets (in slices for an import, or a sweep of the rules
   concerned past ``SWEEP_INSTEAD_ABOVE`` targets).
5. What it opened and resolved is published to ``capture_changes()``, which the page's message reads
   (``compliance.feedback.report_changes``).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import logging
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.deletion import Collector
from django.utils import timezone

from lianhu.queue import QueueUnavailable, enqueue

from . import pg
from .changes import Changes, capturing, publish
from .engine import evaluate_rules
from .models import Finding
from .rules import Mapper, Registry, Rule, registry
from .sweeps import REJUDGE_SWEEP_TRIGGER, nightly_sweep, sweep_run, sweep_running

logger = logging.getLogger(__name__)

RuleTargets = dict[str, set[int]]

_local = threading.local()


# -- 1. the call ----------------------------------------------------------------------------------------------


def rejudge_on_commit(model: type[models.Model], rows: Sequence[models.Model], *,
                      changed: Iterable[str] | None = None, created: bool = False, using: str | None = None) -> None:
    """Re-judge what these rows of ``model`` touch once the current transaction commits (at once outside one).

    ``created``: new rows; ``changed``: the columns (attnames) an update wrote (None: unknown, every mapper
    runs). For an update, pass the row as it was too (``[row, old]``, with ``changed_columns(old, row)``) when a
    mapper may follow a changed column; for a delete, the row as it was deleted (its pk still set)."""
    columns = None if changed is None else frozenset(changed)
    batch = _open_batch()
    if batch is not None:
        batch.add(model, rows, columns, created=created)
        return
    try:
        targets = targets_for(model, rows, columns, created=created)
    except Exception:
        # The write itself stands: a mapper's failure is logged, the next sweep judges what it missed.
        logger.exception("无法确定 %s 变更影响的规则对象", model.__name__)
        return
    _queue(targets, using)


def changed_columns(old: models.Model, new: models.Model) -> set[str]:
    """The columns (attnames) whose value differs between the row as it was and as it is now."""
    return {f.attname for f in new._meta.concrete_fields if getattr(old, f.attname) != getattr(new, f.attname)}


# -- 2. rows to targets ---------------------------------------------------------------------------------------


def read_index(reg: Registry | None = None) -> dict[type[models.Model], list[tuple[Rule, Mapper]]]:
    """Model → the (rule, mapper) pairs that read it; built once at startup from every rule's ``reads``."""
    index: dict[type[models.Model], list[tuple[Rule, Mapper]]] = defaultdict(list)
    for rule in (reg or registry).all():
        for model, mapper in rule.read_models().items():
            index[model].append((rule, mapper))
    return index


_INDEX: dict[type[models.Model], list[tuple[Rule, Mapper]]] = {}


def targets_for(model: type[models.Model], objs: Sequence[models.Model],
                changed: Iterable[str] | None = None, *, created: bool = False) -> RuleTargets:
    """Rule id → target pks touched by these rows of ``model``; ``changed``: the columns an update changed
    (None: unknown, every mapper runs); ``created``: the rows are new."""
    out: RuleTargets = defaultdict(set)
    if not objs:
        return out
    columns = None if changed is None else frozenset(changed)
    mapped: dict[Mapper, set[int]] = {}  # many rules share a mapper (same_pk): map the rows once per mapper
    for rule, mapper in _INDEX.get(model, ()):
        if not _reaches(mapper, columns, created):
            continue
        key = _maps_like(mapper)
        if key not in mapped:
            mapped[key] = set(mapper(list(objs)))
        pks = mapped[key]
        if pks:
            out[rule.id] |= pks
    return out


def _maps_like(mapper: Mapper) -> Mapper:
    """The mapper whose output this one's equals on the same rows (``same_pk_watching``: ``same_pk``)."""
    return getattr(mapper, "maps_like", mapper)


def _reaches(mapper: Mapper, changed: frozenset[str] | None, created: bool) -> bool:
    """Whether rows written so can reach a target through this mapper. A ``@watching`` mapper looks from a row
    to the rows that refer to it (a community's people): no row refers to a row that did not exist before, so
    new rows skip it, unless it is marked ``new_rows`` (it looks from the new row to rows written before it)."""
    watched = getattr(mapper, "fields", None)
    if watched is None:
        return True
    if created:
        return bool(getattr(mapper, "new_rows", False))
    return changed is None or bool(watched & changed)


def _merge(into: RuleTargets, more: Mapping[str, Iterable[int]]) -> None:
    for rule_id, pks in more.items():
        into.setdefault(rule_id, set()).update(pks)


# -- 3. waiting for the commit --------------------------------------------------------------------------------


class _Pending:
    """The targets of one write, judged after the transaction that holds it commits.

    Each write queues its own ``_Pending`` with ``transaction.on_commit``, so Django's own rules decide what
    runs: a savepoint rolled back drops the callbacks queued inside it. Django's queue holds the only strong
    reference; this thread keeps the live ones in a weak set, so a dropped one simply disappears from it.
    Django runs a commit's callbacks in the order they were queued: the first to run takes the targets of
    itself and of every later one still waiting and judges them together, once; those find they are done.
    (Only later ones: in a test, whose transaction never commits, callbacks its set-up queued and nothing ran
    stay waiting, as they would in Django's queue.)"""

    def __init__(self, targets: RuleTargets) -> None:
        self.targets = targets
        self.seq = next(_sequence)
        self.done = False

    def __call__(self) -> None:
        if self.done:
            return
        targets: RuleTargets = {}
        for pending in sorted(_waiting(), key=lambda p: p.seq):
            if pending.seq >= self.seq:
                _merge(targets, pending.targets)
                pending.done = True
                _waiting().discard(pending)
        _judge(targets)


_sequence = itertools.count()


def _waiting() -> weakref.WeakSet[_Pending]:
    if not hasattr(_local, "waiting"):
        _local.waiting = weakref.WeakSet()
    return _local.waiting


def _queue(targets: RuleTargets, using: str | None = None) -> None:
    if not targets:
        return
    if not transaction.get_connection(using).in_atomic_block:
        _judge(targets)
        return
    pending = _Pending(targets)
    _waiting().add(pending)
    # robust: the data is already committed; a failing rule must not turn the save into an error page.
    transaction.on_commit(pending, using=using, robust=True)


class BulkChanges:
    """The rows of a bulk block, mapped to targets when it ends: each mapper once per model, over every row
    that can reach a target through it."""

    def __init__(self) -> None:
        # model → (columns changed or None for unknown, created) → rows
        self.rows: dict[type[models.Model], dict[tuple[frozenset[str] | None, bool], list[models.Model]]] = \
            defaultdict(lambda: defaultdict(list))
        self.targets: RuleTargets = {}

    def add(self, model: type[models.Model], objs: Iterable[models.Model], changed: Iterable[str] | None = None,
            *, created: bool = False) -> None:
        """Rows written inside the block; ``changed`` and ``created`` as for ``targets_for``."""
        self.rows[model][(None if changed is None else frozenset(changed), created)].extend(objs)

    def add_targets(self, targets: Mapping[str, Iterable[int]]) -> None:
        _merge(self.targets, targets)

    def collect(self) -> RuleTargets:
        out: RuleTargets = {}
        for model, groups in self.rows.items():
            # (what the mapper maps like, the groups of rows that reach it) → targets
            mapped: dict[tuple[Mapper, tuple], set[int]] = {}
            for rule, mapper in _INDEX.get(model, ()):
                reached = tuple(group for group in groups if _reaches(mapper, *group))
                key = (_maps_like(mapper), reached)
                if key not in mapped:
                    objs = [obj for group in reached for obj in groups[group]]
                    mapped[key] = set(mapper(objs)) if objs else set()
                if mapped[key]:
                    out.setdefault(rule.id, set()).update(mapped[key])
        _merge(out, self.targets)
        return out


def _open_batch() -> BulkChanges | None:
    stack = getattr(_local, "bulk", None)
    return stack[-1] if stack else None


@contextmanager
def bulk_changes() -> Iterator[BulkChanges]:
    """Collect the rows the services name inside the block (single saves included) and queue what they touch
    once, when it ends without an exception (a failed import judges nothing)."""
    bulk = BulkChanges()
    if not hasattr(_local, "bulk"):
        _local.bulk = []
    _local.bulk.append(bulk)
    try:
        yield bulk
    finally:
        _local.bulk.pop()
    _queue(bulk.collect())


# -- 4. judging -----------------------------------------------------------------------------------------------


def _judge(targets: RuleTargets) -> None:
    if not (_deferrable() and _defer(targets)):
        rejudge_now(targets)


def _deferrable() -> bool:
    """A page's save (inside ``capture_changes()``) re-judges in a Celery worker when a real broker is
    configured, so the request does not wait for it; eager mode, imports and commands judge here."""
    return bool(getattr(settings, "COMPLIANCE_REJUDGE_ASYNC", False)) and capturing()


def _defer(targets: RuleTargets) -> bool:
    """Queue the targets for ``compliance.rejudge``; False (judge here instead) if the broker refuses."""
    payload = {rule_id: sorted(pks) for rule_id, pks in targets.items()}
    try:
        # No publish retries: with the broker down the save's findings are judged in the request instead.
        rejudge.apply_async(args=(payload, timezone.localdate().isoformat()), retry=False)
    except Exception:
        logger.exception("重新判定任务无法排队，改为当场判定")
        return False
    publish(Changes(pending=sum(len(pks) for pks in payload.values())))
    return True


REEVALUATE_SLICE = 5_000
# Past this many targets (an import of a whole city's communities) a sweep of the rules concerned is cheaper than
# judging the targets by lists: it reads by community ranges, in chunks that Celery workers share, and shows in
# the sweep history. Measured: 5,000 new 社区 re-judged by lists 16.6 s; a first sweep of every rule over
# 115,000 about 140 s.
SWEEP_INSTEAD_ABOVE = 20_000


def rejudge_now(rule_targets: Mapping[str, Iterable[int]] | Iterable[tuple[str, int]], *,
                as_of: dt.date | None = None) -> Changes:
    """Re-judge the given (rule id → target pks) now and publish what changed to ``capture_changes()``."""
    changes = _rejudge(rule_targets, as_of)
    publish(changes)
    return changes


def _rejudge(rule_targets: Mapping[str, Iterable[int]] | Iterable[tuple[str, int]],
             as_of: dt.date | None) -> Changes:
    if isinstance(rule_targets, Mapping):
        by_rule: Mapping[str, Iterable[int]] = rule_targets
    else:
        grouped: dict[str, set[int]] = {}
        for rule_id, pk in rule_targets:
            grouped.setdefault(rule_id, set()).add(pk)
        by_rule = grouped
    targets = {k: sorted(v) for k, v in by_rule.items() if k in registry}
    if not targets:
        return Changes()
    total_targets = sum(len(pks) for pks in targets.values())
    if total_targets > SWEEP_INSTEAD_ABOVE:
        swept = _sweep_instead(sorted(targets), as_of, total_targets)
        if swept is not None:
            return swept
    biggest = max(len(pks) for pks in targets.values())
    if biggest <= REEVALUATE_SLICE:
        # One broken rule must not keep the others from judging a save; its error is logged.
        return evaluate_rules(rules=registry.select(sorted(targets)), as_of=as_of, target_pks=targets,
                              catch_errors=True)
    # An import may touch a hundred thousand targets. Judged all at once, each rule's queries carry lists of
    # that size and the planner, whose statistics still describe the table before the findings this very
    # re-judge writes, picks nested loops (20 s a query, measured). Slices keep lists small, the statistics
    # are refreshed between slices as a sweep's chunks do, and JIT stays off as for a sweep.
    total = Changes()
    with pg.no_jit():
        for start in range(0, biggest, REEVALUATE_SLICE):
            part = {k: pks[start:start + REEVALUATE_SLICE] for k, pks in targets.items() if len(pks) > start}
            total.merge(evaluate_rules(rules=registry.select(sorted(part)), as_of=as_of, target_pks=part,
                                       catch_errors=True))
            pg.analyze_if_stale(Finding._meta.db_table)
    return total


def _sweep_instead(rule_ids: list[str], as_of: dt.date | None, targets: int) -> Changes | None:
    """Re-judge by a sweep of these rules: here when Celery runs eagerly, else queued for the workers (the
    ``targets`` are then pending: their findings are not known yet). None when a sweep is already running (the
    caller then judges by lists, so nothing is left stale)."""
    day = as_of or timezone.localdate()
    if day != timezone.localdate():
        return None  # a sweep of another day is a replay and would write nothing live: judge by lists
    if sweep_running() is not None:
        return None
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True):
        try:
            sweep = sweep_run(as_of=day, rule_ids=rule_ids, triggered_by=REJUDGE_SWEEP_TRIGGER)
        except ValidationError:
            return None
        return Changes(sweep_ids=[sweep.pk])
    try:
        enqueue(nightly_sweep, day.isoformat(), None, REJUDGE_SWEEP_TRIGGER, rule_ids, what="重新判定巡检")
    except QueueUnavailable:
        return None  # the broker is down: judge by lists here, nothing is left stale
    return Changes(pending=targets)


@shared_task(name="compliance.rejudge", ignore_result=True)  # nobody waits for it: the page said pending
def rejudge(targets: dict[str, list[int]], as_of: str | None = None) -> dict:
    """A page's save, re-judged after commit off the request path (step 4)."""
    changes = rejudge_now(targets, as_of=dt.date.fromisoformat(as_of) if as_of else None)
    return {"opened": len(changes.opened), "resolved": len(changes.resolved), "errors": len(changes.errors)}




# -- the admin's hook -----------------------------------------------------------------------------------------


def build_index() -> None:
    """Called from ``ComplianceConfig.ready()`` after every rules module is imported."""
    _INDEX.clear()
    _INDEX.update(read_index())


def rule_read_models() -> set[type[models.Model]]:
    return set(_INDEX)


class RejudgeAdmin:
    """The one hook left for the Django admin, whose edits reach no service: its saves, deletes and inline rows
    re-judge through ``rejudge_on_commit`` as a service's would. An admin that saves or deletes through a
    service overrides these methods, and the service re-judges. Every admin of a model a rule reads uses this
    mixin (system check compliance.E009); put it first among the bases."""

    def save_model(self, request, obj, form, change):
        old = as_it_was(form) if change else None
        super().save_model(request, obj, form, change)
        if old is None:
            rejudge_on_commit(type(obj), [obj], created=True)
        else:
            rejudge_on_commit(type(obj), [obj, old], changed=changed_columns(old, obj))

    def delete_model(self, request, obj):
        doomed = _doomed([obj])
        super().delete_model(request, obj)
        _rejudge_deleted(doomed)

    def delete_queryset(self, request, queryset):
        doomed = _doomed(list(queryset))
        super().delete_queryset(request, queryset)
        _rejudge_deleted(doomed)

    def save_formset(self, request, form, formset, change):
        model = formset.model
        deleted = {id(f) for f in getattr(formset, "deleted_forms", ())}
        olds = {f.instance.pk: as_it_was(f) for f in formset.initial_forms
                if id(f) not in deleted and f.instance.pk is not None and f.has_changed()}
        doomed = _doomed([f.instance for f in formset.initial_forms if id(f) in deleted and f.instance.pk is not None])
        super().save_formset(request, form, formset, change)
        rejudge_on_commit(model, formset.new_objects, created=True)
        for obj, _names in formset.changed_objects:
            old = olds.get(obj.pk)
            if old is None:
                rejudge_on_commit(model, [obj])
            else:
                rejudge_on_commit(model, [obj, old], changed=changed_columns(old, obj))
        _rejudge_deleted(doomed)


def as_it_was(form) -> models.Model:
    """The row of a bound model form as it was before the form wrote its cleaned data into it: the form's
    initial values of the fields it changed (no second read of the row)."""
    old = copy.copy(form.instance)
    meta = old._meta
    for name in form.changed_data:
        try:
            field = meta.get_field(name)
        except Exception:
            continue
        if getattr(field, "concrete", False) and not field.many_to_many and name in form.initial:
            setattr(old, field.attname, form.initial[name])
    return old


def _doomed(objs: Sequence[models.Model]) -> dict[type[models.Model], list[models.Model]]:
    """The rows a rule reads that deleting ``objs`` removes, cascades included, as they are before the delete
    (which clears the pks of the instances it deletes: these are copies)."""
    if not objs:
        return {}
    collector = Collector(using=objs[0]._state.db or "default")
    collector.collect([copy.copy(obj) for obj in objs])
    out: dict[type[models.Model], list[models.Model]] = defaultdict(list)
    for model, instances in collector.data.items():
        if model in _INDEX:
            out[model].extend(instances)
    for queryset in collector.fast_deletes:
        if queryset.model in _INDEX:
            out[queryset.model].extend(queryset)
    return out


def _rejudge_deleted(doomed: Mapping[type[models.Model], Sequence[models.Model]]) -> None:
    for model, rows in doomed.items():
        rejudge_on_commit(model, rows)
