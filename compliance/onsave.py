"""Re-judging after saves: one mechanism for every model any rule reads.

``post_save``/``post_delete`` receivers map each changed row to the targets of
the rules that read its model and add them to a per-transaction buffer; the
buffer is evaluated once, in ``transaction.on_commit``, so a rolled-back save
leaves no findings behind. Outside a transaction (autocommit) on_commit runs
at once.

Bulk writers (the workbook import) wrap their work in ``bulk_changes()``:
per-row receivers then only collect the rows (no mapping queries per row),
``bulk.add(Model, objs)`` adds rows written with ``bulk_create``/``update``,
and when the block ends the touched targets are mapped once per model and
evaluated after commit. ``compliance.services.reevaluate()`` takes
rule id → pks directly.

What the evaluation opened/resolved is published to ``capture_changes()``
(see ``compliance.engine``). With a real Celery broker (COMPLIANCE_REJUDGE_ASYNC)
a page's save hands its buffer to the ``compliance.rejudge`` task instead, and
``capture_changes()`` learns only that results are pending; same engine code.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save, pre_save

from .rules import Mapper, Registry, Rule, registry, same_pk

logger = logging.getLogger(__name__)

_local = threading.local()

RuleTargets = dict[str, set[int]]


def read_index(reg: Registry | None = None) -> dict[type[models.Model], list[tuple[Rule, Mapper]]]:
    index: dict[type[models.Model], list[tuple[Rule, Mapper]]] = defaultdict(list)
    for rule in (reg or registry).all():
        for model, mapper in rule.read_models().items():
            index[model].append((rule, mapper))
    return index


_INDEX: dict[type[models.Model], list[tuple[Rule, Mapper]]] = {}


def targets_for(model: type[models.Model], objs: Sequence[models.Model],
                changed: set[str] | None = None) -> RuleTargets:
    """Rule id → target pks touched by these rows of ``model``; ``changed``: the columns an update changed
    (None: unknown, every mapper runs)."""
    out: RuleTargets = defaultdict(set)
    if not objs:
        return out
    mapped: dict[Mapper, set[int]] = {}  # many rules share a mapper (same_pk): map each rows once
    for rule, mapper in _INDEX.get(model, ()):
        watched = getattr(mapper, "fields", None)
        if changed is not None and watched is not None and not watched & changed:
            continue
        if mapper not in mapped:
            mapped[mapper] = set(mapper(list(objs)))
        pks = mapped[mapper]
        if pks:
            out[rule.id] |= pks
    return out


def _merge(into: RuleTargets, more: RuleTargets) -> None:
    for rule_id, pks in more.items():
        into.setdefault(rule_id, set()).update(pks)


class _Buffer:
    def __init__(self) -> None:
        self.targets: RuleTargets = {}
        self.callback = self.flush  # one bound method, so we can find it in the on-commit queue

    def flush(self) -> None:
        if getattr(_local, "buffer", None) is self:
            _local.buffer = None
        if self.targets and not (_deferrable() and _defer(self.targets)):
            from .services import reevaluate

            reevaluate(self.targets)


def _deferrable() -> bool:
    """A page's save (inside ``capture_changes()``) re-judges in a Celery worker when a real broker is
    configured, so the request does not wait for it; eager mode, imports and commands judge here."""
    from django.conf import settings

    from .engine import capturing

    return bool(getattr(settings, "COMPLIANCE_REJUDGE_ASYNC", False)) and capturing()


def _defer(targets: RuleTargets) -> bool:
    """Queue the targets for ``compliance.rejudge``; False (judge here instead) if the broker refuses."""
    from django.utils import timezone

    from .engine import Changes, _publish
    from .tasks import rejudge

    payload = {rule_id: sorted(pks) for rule_id, pks in targets.items()}
    try:
        # No publish retries: with the broker down the save's findings are judged in the request instead.
        rejudge.apply_async(args=(payload, timezone.localdate().isoformat()), retry=False)
    except Exception:
        logger.exception("重新判定任务无法排队，改为当场判定")
        return False
    _publish(Changes(pending=sum(len(pks) for pks in payload.values())))
    return True


def _pending(buffer: _Buffer, using: str | None) -> bool:
    """Is this buffer's callback still queued, registered at the current savepoint level?

    Saves in one atomic block share one evaluation. A save in another
    savepoint gets its own buffer, so a rolled-back or merely released inner
    block never hides its targets in a callback registered elsewhere.
    """
    connection = transaction.get_connection(using)
    current = set(connection.savepoint_ids)
    return any(func is buffer.callback and sids == current for sids, func, _robust in connection.run_on_commit)


def enqueue(targets: RuleTargets, using: str | None = None) -> None:
    """Evaluate these targets once the current transaction commits."""
    if not targets:
        return
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        from .services import reevaluate

        reevaluate(targets)
        return
    buffer = getattr(_local, "buffer", None)
    # A rollback drops the callback but not our buffer: start a fresh one then.
    if buffer is None or not _pending(buffer, using):
        buffer = _local.buffer = _Buffer()
        # robust: the data is already committed; a failing rule must not turn the save into an error page.
        transaction.on_commit(buffer.callback, using=using, robust=True)
    _merge(buffer.targets, targets)


class BulkChanges:
    def __init__(self) -> None:
        # (model, columns changed or None for unknown) → rows
        self.rows: dict[tuple[type[models.Model], frozenset[str] | None], list[models.Model]] = defaultdict(list)
        self.targets: RuleTargets = {}

    def add(self, model: type[models.Model], objs: Iterable[models.Model], changed: set[str] | None = None) -> None:
        """Rows written without signals (bulk_create, queryset.update); ``changed`` as for ``targets_for``."""
        self.rows[(model, None if changed is None else frozenset(changed))].extend(objs)

    def add_targets(self, targets: RuleTargets | dict[str, Iterable[int]]) -> None:
        _merge(self.targets, {k: set(v) for k, v in targets.items()})

    def collect(self) -> RuleTargets:
        out: RuleTargets = {}
        for (model, changed), objs in self.rows.items():
            _merge(out, targets_for(model, objs, None if changed is None else set(changed)))
        _merge(out, self.targets)
        return out


def _bulk_stack() -> list[BulkChanges]:
    if not hasattr(_local, "bulk"):
        _local.bulk = []
    return _local.bulk


@contextmanager
def bulk_changes() -> Iterator[BulkChanges]:
    """Suspend per-row re-judging; evaluate everything touched once, after commit."""
    bulk = BulkChanges()
    _bulk_stack().append(bulk)
    try:
        yield bulk
    finally:
        _bulk_stack().pop()
    # Only reached without an exception: a failed import evaluates nothing.
    enqueue(bulk.collect())


# -- receivers ----------------------------------------------------------------


def _needs_old_row(model: type[models.Model]) -> bool:
    return any(mapper is not same_pk for _rule, mapper in _INDEX.get(model, ()))


def _on_pre_save(sender, instance, raw=False, using=None, **kwargs) -> None:
    if raw or _bulk_stack() or instance._state.adding or instance.pk is None or not _needs_old_row(sender):
        return
    # The row as it was, so a move (e.g. a compound to another community) re-judges both sides.
    instance._compliance_old = sender._base_manager.using(using).filter(pk=instance.pk).first()


def _on_change(sender, instance, using=None, raw=False, **kwargs) -> None:
    if raw:
        return
    stack = _bulk_stack()
    if stack:
        stack[-1].rows[(sender, None)].append(instance)
        return
    objs = [instance]
    old = instance.__dict__.pop("_compliance_old", None)
    changed = None
    if old is not None:
        objs.append(old)
        changed = {f.attname for f in sender._meta.concrete_fields if getattr(old, f.attname) != getattr(instance, f.attname)}
    try:
        targets = targets_for(sender, objs, changed)
    except Exception:
        logger.exception("无法确定 %s 变更影响的规则对象", sender.__name__)
        return
    enqueue(targets, using)


def connect_receivers() -> None:
    """Called from ``ComplianceConfig.ready()`` after every rules module is imported."""
    _INDEX.clear()
    _INDEX.update(read_index())
    for model in _INDEX:
        uid = f"compliance:{model._meta.label}"
        pre_save.connect(_on_pre_save, sender=model, dispatch_uid=f"{uid}:pre", weak=False)
        post_save.connect(_on_change, sender=model, dispatch_uid=f"{uid}:post", weak=False)
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"{uid}:delete", weak=False)


def rows_written(model: type[models.Model], objs: Sequence[models.Model], *, created: bool = False,
                 changed: Iterable[str] | None = None) -> None:
    """Rows written without save signals (bulk inserts and updates): re-judge what they touch after commit.

    ``created``: new rows, which no other row refers to yet, so only their own targets are re-judged (as an
    update changing no watched column); ``changed``: the columns an update wrote. Inside ``bulk_changes()``
    they join its batch; otherwise their targets are queued like a save's."""
    columns: set[str] | None = set() if created else (None if changed is None else set(changed))
    stack = _bulk_stack()
    if stack:
        stack[-1].add(model, objs, columns)
    else:
        enqueue(targets_for(model, objs, columns))
