"""How long findings, sweep records, security events and task records are kept, and the batched purge.

The periods are dated parameters like the rules' own: ``RuleParameter`` rows under
the key ``retention`` (not a rule id, as compliance/escalation.py does with
``escalation``), so a change keeps the old value and the day it took effect.

Each kind is deleted in batches of ``batch`` rows, one short transaction per batch,
so a first purge of years of rows neither holds long locks nor builds one huge
transaction. Security events keep their 180-day floor whatever the parameter
says: the floor is applied here, and on PostgreSQL the table's trigger refuses
anything younger anyway (audit/migrations/0002).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from audit.models import MIN_RETENTION_DAYS, SecurityEvent
from compliance.models import Finding, FindingEvent, FindingStatus, RuleParameter, Sweep, SweepStatus
from exports.models import ExportJob, ExportState

from .models import TaskRecord

RETENTION_KEY = "retention"
RETENTION_TITLE = "数据保存期限"
DEFAULTS: dict[str, int] = {
    # Counted from the day a finding was resolved; open and waived findings are never purged.
    "finding_days": 1095,
    "sweep_days": 400,
    "security_event_days": MIN_RETENTION_DAYS,
    "task_days": 90,
    # Counted from the request: a finished ledger with personal data should not sit in the media storage.
    "export_days": 7,
}
PARAM_LABELS = {
    "finding_days": "已整改问题（及其处理记录）的保存天数，从整改之日算起",
    "sweep_days": "巡检记录的保存天数",
    "security_event_days": f"安全审计记录的保存天数（不少于 {MIN_RETENTION_DAYS} 天）",
    "task_days": "后台任务记录的保存天数",
    "export_days": "后台导出文件（我的导出）的保存天数，从导出之日算起",
}
# Below these nothing is purged, whatever a parameter says: a finding's history must outlive 措施二十's
# 约谈 ladder, and the status check needs the last nightly sweep.
FLOORS: dict[str, int] = {"finding_days": 180, "sweep_days": 30, "security_event_days": MIN_RETENTION_DAYS,
                          "task_days": 7, "export_days": 1}
BATCH = 1000


def params(as_of: dt.date) -> dict[str, int]:
    """The periods in force on ``as_of``: defaults, overridden by the latest dated value, then the floors."""
    out = dict(DEFAULTS)
    rows = (
        RuleParameter.objects.filter(rule_id=RETENTION_KEY, effective_from__lte=as_of)
        .order_by("name", "effective_from", "created_at", "id")
        .values_list("name", "value")
    )
    for name, value in rows:
        if name in out:
            out[name] = int(value)
    out["security_event_days"] = max(out["security_event_days"], getattr(settings, "AUDIT_RETENTION_DAYS", 0))
    return {name: max(days, FLOORS[name]) for name, days in out.items()}


@dataclass
class PurgeResult:
    kind: str
    label: str
    days: int
    cutoff: dt.datetime
    deleted: int = 0
    batches: int = 0


def _in_batches(result: PurgeResult, pks: Callable[[], list], delete: Callable[[list], int],
                count: Callable[[], int], dry_run: bool) -> PurgeResult:
    if dry_run:
        result.deleted = count()
        return result
    while True:
        with transaction.atomic():
            batch = pks()
            if not batch:
                return result
            result.deleted += delete(batch)
            result.batches += 1


def _model_purge(model: type[models.Model], queryset: models.QuerySet, batch: int) -> tuple[Callable, Callable, Callable]:
    def pks() -> list:
        return list(queryset.order_by("pk").values_list("pk", flat=True)[:batch])

    def delete(ids: list) -> int:
        # Django's collector: cascades (finding events) and SET NULLs (a sweep's events) per batch.
        _deleted, by_model = model._default_manager.filter(pk__in=ids).delete()
        return by_model.get(model._meta.label, 0)

    return pks, delete, queryset.count


def _unreferenced(queryset: models.QuerySet, model: type[models.Model], *, keep_with: set | None) -> models.QuerySet:
    """Leave out rows another record still needs.

    ``keep_with`` given: every relation but those models' (a finding's own events go with it) keeps the row —
    a finding that was supervised (提醒/督办/约谈) or rectified (supervision's 整改, PROTECT) is part of that
    record. ``None``: only relations that forbid the delete (PROTECT, RESTRICT) keep it; the others are
    cascaded or set to null batch by batch.
    """
    for rel in model._meta.related_objects:
        if keep_with is not None:
            if rel.related_model in keep_with:
                continue
        elif rel.on_delete not in (models.PROTECT, models.RESTRICT):
            continue
        queryset = queryset.filter(**{f"{rel.name}__isnull": True})
    return queryset


def purge(*, now: dt.datetime | None = None, batch: int = BATCH, dry_run: bool = False) -> list[PurgeResult]:
    now = now or timezone.now()
    periods = params(timezone.localdate(now))
    results = []

    cutoff = now - dt.timedelta(days=periods["finding_days"])
    findings = _unreferenced(Finding.objects.filter(status=FindingStatus.RESOLVED, resolved_at__lt=cutoff),
                             Finding, keep_with={FindingEvent})
    result = PurgeResult("findings", "已整改问题", periods["finding_days"], cutoff)
    results.append(_in_batches(result, *_model_purge(Finding, findings, batch), dry_run))

    cutoff = now - dt.timedelta(days=periods["sweep_days"])
    sweeps = _unreferenced(Sweep.objects.filter(started_at__lt=cutoff).exclude(status=SweepStatus.RUNNING), Sweep,
                           keep_with=None)
    result = PurgeResult("sweeps", "巡检记录", periods["sweep_days"], cutoff)
    results.append(_in_batches(result, *_model_purge(Sweep, sweeps, batch), dry_run))

    cutoff = now - dt.timedelta(days=periods["task_days"])
    records = TaskRecord.objects.filter(updated_at__lt=cutoff)
    result = PurgeResult("tasks", "后台任务记录", periods["task_days"], cutoff)
    results.append(_in_batches(result, *_model_purge(TaskRecord, records, batch), dry_run))

    # Export jobs and their files (exports/signals.py deletes the file with the row); a running one is kept.
    cutoff = now - dt.timedelta(days=periods["export_days"])
    jobs = ExportJob.objects.filter(created_at__lt=cutoff).exclude(state__in=[ExportState.QUEUED, ExportState.RUNNING])
    result = PurgeResult("exports", "后台导出文件", periods["export_days"], cutoff)
    results.append(_in_batches(result, *_model_purge(ExportJob, jobs, batch), dry_run))

    results.append(_security_events(now, periods["security_event_days"], batch, dry_run))
    return results


def _security_events(now: dt.datetime, days: int, batch: int, dry_run: bool) -> PurgeResult:
    """The model refuses deletes; like audit's security_events_purge, plain SQL inside a transaction that set
    ``audit.purge`` (the PostgreSQL trigger lets only rows older than 180 days go even then)."""
    cutoff = now - dt.timedelta(days=max(days, MIN_RETENTION_DAYS))
    table = connection.ops.quote_name(SecurityEvent._meta.db_table)
    when = connection.ops.quote_name("when")
    result = PurgeResult("security_events", "安全审计记录", max(days, MIN_RETENTION_DAYS), cutoff)

    def pks() -> list:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table} WHERE {when} < %s ORDER BY id LIMIT %s", [cutoff, batch])
            return [row[0] for row in cursor.fetchall()]

    def delete(ids: list) -> int:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL audit.purge = 'on'")
            placeholders = ", ".join(["%s"] * len(ids))
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({placeholders}) AND {when} < %s", [*ids, cutoff])
            return cursor.rowcount

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {when} < %s", [cutoff])
            return cursor.fetchone()[0]

    return _in_batches(result, pks, delete, count, dry_run)
