"""Sweeps: every rule (or some) over the whole district, in chunks of communities that Celery workers share.

A sweep as of today is live and reconciles the live findings; any other date is a replay that writes its own
snapshot. ``nightly_sweep`` starts one and fans its chunks out as a chord; ``sweep_run`` does the same in this
process (the command and tests).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from celery import chord, shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import Kind
from audit.services import security_event_record
from communities.models import Community

from . import pg
from .changes import Changes
from .digest import queue_digest
from .engine import evaluate_rules, snapshot_rules
from .models import Finding, FindingStatus, Sweep, SweepStatus
from .rules import registry
from .trends import daily_counts_refresh

logger = logging.getLogger(__name__)

# Chunks of a sweep (settings.COMPLIANCE_SWEEP_CHUNKS): enough for a few Celery workers; fixed, so the
# queries of a sweep do not grow with the communities.
DEFAULT_CHUNKS = 8

# A sweep that stands in for a large re-judge (compliance.rejudge): it mails no digest, as a save does not.
REJUDGE_SWEEP_TRIGGER = "大批量修改后重新判定"


def sweep_lease() -> timedelta:
    """A running sweep with no heartbeat for this long lost its worker; the next sweep takes over."""
    return timedelta(seconds=int(getattr(settings, "COMPLIANCE_SWEEP_LEASE_SECONDS", 1200)))


SWEEP_TAKEN_OVER = "巡检进程中断（超过 {minutes} 分钟没有进展），已由新的巡检接替"


SWEEP_RUNNING_MESSAGE = "已有一次巡检正在进行（{started}开始，评估日期 {as_of}），请等它结束后再试。"


def sweep_refusal(running: Sweep | None) -> ValidationError:
    """Why a new sweep cannot start now (the page says it; ``sweep_start`` raises it)."""
    if running is None:
        return ValidationError("已有一次巡检正在进行，请等它结束后再试。", code="sweep_running")
    started = timezone.localtime(running.started_at).strftime("%Y-%m-%d %H:%M")
    return ValidationError(SWEEP_RUNNING_MESSAGE.format(started=started, as_of=f"{running.as_of:%Y-%m-%d}"),
                           code="sweep_running")


def _stale_sweeps(now: dt.datetime):
    last_sign = Coalesce("heartbeat_at", "started_at")
    return Sweep.objects.alias(last_sign=last_sign).filter(status=SweepStatus.RUNNING,
                                                           last_sign__lt=now - sweep_lease())


def sweep_running() -> Sweep | None:
    """The sweep that is running and alive (heartbeat within the lease); None when a new one may start."""
    running = Sweep.objects.filter(status=SweepStatus.RUNNING).first()
    if running is None or (running.heartbeat_at or running.started_at) < timezone.now() - sweep_lease():
        return None
    return running


def sweep_start(*, as_of: dt.date, rule_ids: Iterable[str] | None = None, triggered_by: str = "") -> Sweep:
    """Create the running sweep record, or refuse while another one runs.

    A sweep as of today (Asia/Shanghai) is live: it reconciles the live findings. Any other date is a replay
    (or a look ahead): its findings are its own snapshot and no live finding is touched.

    A running sweep whose worker died (no heartbeat within the lease) is marked failed and this one takes over."""
    ids = [r.id for r in registry.select(rule_ids)]
    now = timezone.now()
    with transaction.atomic():
        minutes = max(1, int(sweep_lease().total_seconds() // 60))
        for old in _stale_sweeps(now).select_for_update():
            old.status = SweepStatus.FAILED
            old.finished_at = now
            old.errors = [*old.errors, {"rule": "", "error": SWEEP_TAKEN_OVER.format(minutes=minutes)}]
            old.save(update_fields=["status", "finished_at", "errors"])
        try:
            with transaction.atomic():
                # The partial unique constraint refuses a second running sweep, whichever process asks.
                return Sweep.objects.create(as_of=as_of, rule_ids=ids, triggered_by=triggered_by[:100],
                                            heartbeat_at=now, live=as_of == timezone.localdate())
        except IntegrityError:
            pass
    raise sweep_refusal(Sweep.objects.filter(status=SweepStatus.RUNNING).first())


def sweep_start_record(*, sweep: Sweep, user_id: int | None, ip: str | None) -> None:
    """The security log's line for a sweep a user started from a page and a worker ran: the worker has no
    request, so who and from where come with the task."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    security_event_record(kind=Kind.SWEEP, user=user, ip=ip or None,
                          detail={"via": "worker", "sweep": sweep.pk, "as_of": sweep.as_of,
                                  "triggered_by": sweep.triggered_by})


def _chunk_count(chunks: int | None) -> int:
    """The chunks asked for; by default COMPLIANCE_SWEEP_CHUNKS, but no more than one per
    COMPLIANCE_SWEEP_MIN_CHUNK communities: every chunk runs every rule (four or five queries each), so eight
    chunks of a district's 142 communities cost eight times the queries of one and share nothing a worker could
    run beside another."""
    if chunks:
        return max(1, int(chunks))
    # django-environ types env.int(default=…) as possibly None; the settings are always ints.
    most = max(1, int(getattr(settings, "COMPLIANCE_SWEEP_CHUNKS", DEFAULT_CHUNKS)))  # type: ignore[arg-type]
    per_chunk = max(1, int(getattr(settings, "COMPLIANCE_SWEEP_MIN_CHUNK", 1)))  # type: ignore[arg-type]
    return max(1, min(most, -(-Community.objects.count() // per_chunk)))


def sweep_plan(*, sweep: Sweep, chunks: int | None = None) -> list[list[int | None]]:
    """A bounded number of chunks, each a range [lo, hi) of community pks (None: open end).

    One query finds the boundaries (equal numbers of communities per chunk), so
    a sweep costs no more queries whatever the number of communities (``chunks``
    as given, or see _chunk_count). The last chunk also judges the district and
    the targets with no community.
    """
    n = _chunk_count(chunks)
    table = connection.ops.quote_name(Community._meta.db_table)
    # The lowest pk of each of n equal tiles starts a chunk; the first chunk is open below, the last above.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id) FROM (SELECT id, NTILE(%s) OVER (ORDER BY id) AS tile FROM {table}) tiles "
                       "GROUP BY tile ORDER BY 1", [n])
        starts = [row[0] for row in cursor.fetchall()]
    bounds = [None, *starts[1:], None]
    plan: list[list[int | None]] = [[bounds[i], bounds[i + 1]] for i in range(len(bounds) - 1)]
    Sweep.objects.filter(pk=sweep.pk).update(chunks_total=len(plan))
    sweep.chunks_total = len(plan)
    return plan


def sweep_chunk_run(*, sweep_id: int, rule_ids: list[str], bounds: list[int | None] | tuple[int | None, int | None],
                    as_of: dt.date) -> Changes:
    """Evaluate one chunk and reconcile its findings; a rule that raises is recorded and the others run.

    A chunk of a sweep that is no longer running (taken over after its worker died, or failed) does nothing:
    a redelivered task must not write findings under a sweep that ended."""
    if not Sweep.objects.filter(pk=sweep_id, status=SweepStatus.RUNNING).update(heartbeat_at=timezone.now()):
        logger.warning("巡检 %s 已不在进行中，跳过其分块 %s", sweep_id, bounds)
        return Changes()
    sweep = Sweep.objects.get(pk=sweep_id)
    lo, hi = bounds
    _fresh_finding_statistics()
    if sweep.live:
        changes = evaluate_rules(
            rules=registry.select(rule_ids), as_of=as_of, sweep=sweep, bounds=(lo, hi), catch_errors=True,
        )
    else:
        changes = snapshot_rules(rules=registry.select(rule_ids), as_of=sweep.as_of, sweep=sweep, bounds=(lo, hi))
    with transaction.atomic():
        locked = Sweep.objects.select_for_update().get(pk=sweep_id)
        timings = dict(locked.rule_timings)
        for rule_id, seconds in changes.timings.items():
            timings[rule_id] = round(timings.get(rule_id, 0.0) + seconds, 4)
        locked.rule_timings = timings
        locked.errors = [*locked.errors, *changes.errors]
        locked.opened = F("opened") + len(changes.opened) + changes.recorded
        locked.resolved = F("resolved") + len(changes.resolved)
        locked.chunks_done = F("chunks_done") + 1
        locked.heartbeat_at = timezone.now()
        locked.save(update_fields=["rule_timings", "errors", "opened", "resolved", "chunks_done", "heartbeat_at"])
    return changes


def _fresh_finding_statistics() -> None:
    """Between chunks (and a large re-judge's slices): a first sweep's own writes leave the statistics stale."""
    pg.analyze_if_stale(Finding._meta.db_table)


def sweep_finish(*, sweep_id: int) -> Sweep:
    """Record the counts: every chunk already reconciled its own findings."""
    now = timezone.now()
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().get(pk=sweep_id)
        if sweep.status != SweepStatus.RUNNING:  # taken over meanwhile: it stays as the takeover left it
            return sweep
        if sweep.live:
            sweep.still_open = Finding.objects.filter(rule_id__in=sweep.rule_ids, status=FindingStatus.OPEN).count()
        else:
            sweep.still_open = sweep.snapshot.count()
        sweep.status = SweepStatus.FINISHED
        sweep.finished_at = now
        sweep.save(update_fields=["still_open", "status", "finished_at"])
        if sweep.live:
            # Today's trend point: every rule the sweep judged, per unit and severity.
            transaction.on_commit(partial(daily_counts_refresh, day=sweep.as_of))
        # The clerks hear of what this sweep opened only once it is committed. A re-judge standing in for a
        # bulk change mails nobody, as a save's re-judge does not; nor does a replay, which opened nothing.
        if sweep.triggered_by != REJUDGE_SWEEP_TRIGGER and sweep.live:
            transaction.on_commit(partial(queue_digest, sweep_id))
    sweep.refresh_from_db()
    return sweep


def sweep_fail(*, sweep_id: int, error: str) -> None:
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().get(pk=sweep_id)
        if sweep.status != SweepStatus.RUNNING:
            return
        sweep.status = SweepStatus.FAILED
        sweep.finished_at = timezone.now()
        sweep.errors = [*sweep.errors, {"rule": "", "error": error}]
        sweep.save(update_fields=["status", "finished_at", "errors"])


def sweep_run(*, as_of: dt.date | None = None, chunks: int | None = None,
              rule_ids: Iterable[str] | None = None, triggered_by: str = "") -> Sweep:
    """A whole sweep, synchronously, in this process (the command and tests)."""
    as_of = as_of or timezone.localdate()
    sweep = sweep_start(as_of=as_of, rule_ids=rule_ids, triggered_by=triggered_by)
    try:
        for bounds in sweep_plan(sweep=sweep, chunks=chunks):
            sweep_chunk_run(sweep_id=sweep.pk, rule_ids=sweep.rule_ids, bounds=bounds, as_of=as_of)
        return sweep_finish(sweep_id=sweep.pk)
    except BaseException as exc:
        sweep_fail(sweep_id=sweep.pk, error=f"{type(exc).__name__}: {exc}")
        raise


# -- the Celery tasks (thin: ids in, the functions above) -------------------------


# ignore_result: nobody waits for it, so queueing it never touches the result backend (a request that starts a
# sweep while Redis is down then fails at once with the broker's error, not after the backend's retries).
@shared_task(name="compliance.nightly_sweep", ignore_result=True)
def nightly_sweep(as_of: str | None = None, chunks: int | None = None,
                  triggered_by: str = "定时任务", rule_ids: list[str] | None = None,
                  requested_by: dict | None = None) -> int | None:
    """Start a sweep (of every rule, or of ``rule_ids``), fan its community ranges out as a group, finish in
    the chord's body. ``requested_by`` ({"user_id", "ip"}): who queued it from a page, for the security log."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    try:
        sweep = sweep_start(as_of=day, rule_ids=rule_ids, triggered_by=triggered_by)
    except ValidationError as exc:
        logger.warning("巡检未启动：%s", exc.messages[0])
        return None
    if requested_by is not None:
        sweep_start_record(sweep=sweep, user_id=requested_by.get("user_id"), ip=requested_by.get("ip"))
    try:
        plan = sweep_plan(sweep=sweep, chunks=chunks)
        header = [sweep_chunk.si(sweep.pk, sweep.rule_ids, bounds, day.isoformat()) for bounds in plan]
        chord(header)(sweep_finish_task.si(sweep.pk))
    except Exception as exc:
        sweep_fail(sweep_id=sweep.pk, error=f"{type(exc).__name__}: {exc}")
        raise
    return sweep.pk


@shared_task(name="compliance.sweep_chunk")
def sweep_chunk(sweep_id: int, rule_ids: list[str], bounds: list[int | None], as_of: str) -> dict:
    """One range [lo, hi) of community pks (None: open end); see sweep_plan."""
    changes = sweep_chunk_run(sweep_id=sweep_id, rule_ids=rule_ids, bounds=bounds, as_of=dt.date.fromisoformat(as_of))
    return {"opened": len(changes.opened), "errors": len(changes.errors)}


@shared_task(name="compliance.sweep_finish")
def sweep_finish_task(sweep_id: int) -> dict:
    sweep = sweep_finish(sweep_id=sweep_id)
    return {"opened": sweep.opened, "resolved": sweep.resolved, "still_open": sweep.still_open}
