"""Write operations of the compliance engine: re-evaluation, parameters,
waivers and sweeps."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.roles import is_reviewer

from . import pg
from .engine import Changes, evaluate_rules, snapshot_rules
from .models import (
    Finding,
    FindingEvent,
    FindingEventKind,
    FindingStatus,
    RuleParameter,
    Sweep,
    SweepStatus,
)
from .onsave import bulk_changes, targets_for  # noqa: F401  (re-exported for bulk writers)
from .parameters import param_label, to_json
from .rules import registry
from .trends import daily_counts_refresh

logger = logging.getLogger(__name__)

# Chunks of a sweep (settings.COMPLIANCE_SWEEP_CHUNKS): enough for a few Celery workers; fixed, so the
# queries of a sweep do not grow with the communities.
DEFAULT_CHUNKS = 8


def sweep_lease() -> timedelta:
    """A running sweep with no heartbeat for this long lost its worker; the next sweep takes over."""
    from django.conf import settings

    return timedelta(seconds=int(getattr(settings, "COMPLIANCE_SWEEP_LEASE_SECONDS", 1200)))


SWEEP_TAKEN_OVER = "巡检进程中断（超过 {minutes} 分钟没有进展），已由新的巡检接替"


def reevaluate(rule_targets: Mapping[str, Iterable[int]] | Iterable[tuple[str, int]], *,
               as_of: dt.date | None = None) -> Changes:
    """Re-judge the given (rule id → target pks) now; what bulk writers call."""
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
    if sum(len(pks) for pks in targets.values()) > SWEEP_INSTEAD_ABOVE:
        swept = _sweep_instead(sorted(targets), as_of)
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
            _fresh_finding_statistics()
    return total


REEVALUATE_SLICE = 5_000
# Past this many targets (an import of a whole city's communities) a sweep of the rules concerned is cheaper than
# judging the targets by lists: it reads by community ranges, in chunks that Celery workers share, and shows in
# the sweep history. Measured: 5,000 new 社区 re-judged by lists 16.6 s; a first sweep of every rule over
# 115,000 about 140 s.
SWEEP_INSTEAD_ABOVE = 20_000
REJUDGE_SWEEP_TRIGGER = "大批量修改后重新判定"


def _sweep_instead(rule_ids: list[str], as_of: dt.date | None) -> Changes | None:
    """Re-judge by a sweep of these rules: here when Celery runs eagerly, else queued for the workers.
    None when a sweep is already running (the caller then judges by lists, so nothing is left stale)."""
    from django.conf import settings

    day = as_of or timezone.localdate()
    if day != timezone.localdate():
        return None  # a sweep of another day is a replay and would write nothing live: judge by lists
    if sweep_running() is not None:
        return None
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True):
        try:
            sweep_run(as_of=day, rule_ids=rule_ids, triggered_by=REJUDGE_SWEEP_TRIGGER)
        except ValidationError:
            return None
        return Changes()
    from lianhu.queue import QueueUnavailable, enqueue

    from .tasks import nightly_sweep

    try:
        enqueue(nightly_sweep, day.isoformat(), None, REJUDGE_SWEEP_TRIGGER, rule_ids, what="重新判定巡检")
    except QueueUnavailable:
        return None  # the broker is down: judge by lists here, nothing is left stale
    return Changes()


# -- parameters ---------------------------------------------------------------


def rule_parameter_set(*, rule_id: str, name: str, value: Any, effective_from: dt.date, user=None,
                       reason: str) -> RuleParameter:
    """Record a new value in force from ``effective_from``; earlier values stay."""
    if rule_id not in registry:
        raise ValidationError(f"规则 {rule_id} 不存在。", code="unknown_rule")
    rule = registry.get(rule_id)
    if name in rule.shared:
        source = rule.shared[name]
        raise ValidationError(
            f"规则 {rule_id} 的“{param_label(name)}”与规则 {source} 共用同一个数值，请在 {source} 上设置"
            "（一处设置，共用的规则同时生效）。", code="shared_parameter")
    if name not in rule.params:
        known = "、".join(rule.params) or "无"
        raise ValidationError(f"规则 {rule_id} 没有参数“{name}”（可设置的参数：{known}）。", code="unknown_parameter")
    if not (reason or "").strip():
        raise ValidationError("请填写调整参数的理由。", code="reason_required")
    if not isinstance(effective_from, dt.date):
        raise ValidationError("请填写生效日期（YYYY-MM-DD）。", code="effective_from_required")
    stored = to_json(rule.params[name], value)
    with transaction.atomic():
        parameter = RuleParameter.objects.create(
            rule_id=rule_id, name=name, value=stored, effective_from=effective_from,
            set_by=user if user is not None and user.is_authenticated else None, reason=reason.strip(),
        )
        _parameter_audit(parameter, user)
        return parameter


# -- waivers ------------------------------------------------------------------


def finding_waive(*, finding: Finding, user, reason: str, until: dt.date) -> Finding:
    """A reviewer's decision to accept a finding for now (e.g. 暂不拆分)."""
    if user is None or not is_reviewer(user):
        raise PermissionDenied("只有区民政局审核员可以豁免问题。")
    if not (reason or "").strip():
        raise ValidationError("请填写豁免理由。", code="waiver_reason_required")
    today = timezone.localdate()
    if not isinstance(until, dt.date):
        raise ValidationError("请填写豁免截止日期。", code="waiver_until_required")
    if until < today:
        raise ValidationError(f"豁免截止日期不能早于今天（{today:%Y-%m-%d}）。", code="waiver_until_past")
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != FindingStatus.OPEN:
            raise ValidationError(f"该问题当前状态为“{locked.get_status_display()}”，不能豁免。", code="finding_not_open")
        locked.status = FindingStatus.WAIVED
        locked.waived_reason = reason.strip()
        locked.waived_until = until
        locked.waived_by = user
        locked.save(update_fields=["status", "waived_reason", "waived_until", "waived_by"])
        FindingEvent.objects.create(finding=locked, kind=FindingEventKind.WAIVED, user=user, as_of=today,
                                    severity=locked.severity, note=f"{locked.waived_reason}（至 {until:%Y-%m-%d}）")
    finding.refresh_from_db()
    return finding


def finding_close_by_review(*, finding: Finding, user, note: str) -> Finding:
    """A reviewer's 复核 after the responsible unit's 申请销号: 销号 (closed, no longer live).

    The data may still fail (a measure taken that the figures do not show yet): closing is the reviewer's
    judgement, recorded with who and when. If a later judging still finds the rule failing, a new finding
    opens: a recurrence is a new problem with its own deadline."""
    if user is None or not is_reviewer(user):
        raise PermissionDenied("只有区民政局审核员可以复核销号。")
    if not (note or "").strip():
        raise ValidationError("请填写复核意见。", code="close_note_required")
    today = timezone.localdate()
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != FindingStatus.OPEN:
            raise ValidationError(f"该问题当前状态为“{locked.get_status_display()}”，不能销号。",
                                  code="finding_not_open")
        locked.status = FindingStatus.CLOSED
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "resolved_at"])
        FindingEvent.objects.create(finding=locked, kind=FindingEventKind.CLOSED, user=user, as_of=today,
                                    severity=locked.severity, note=note.strip())
        transaction.on_commit(partial(daily_counts_refresh, day=today, pairs={(locked.rule_id, locked.sub_district_id)}))
    finding.refresh_from_db()
    return finding


# -- sweeps -------------------------------------------------------------------

SWEEP_RUNNING_MESSAGE = "已有一次巡检正在进行（{started}开始，评估日期 {as_of}），请等它结束后再试。"


def _refuse(running: Sweep | None) -> ValidationError:
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
    raise _refuse(Sweep.objects.filter(status=SweepStatus.RUNNING).first())


def sweep_start_record(*, sweep: Sweep, user_id: int | None, ip: str | None) -> None:
    """The security log's line for a sweep a user started from a page and a worker ran: the worker has no
    request, so who and from where come with the task."""
    from django.contrib.auth import get_user_model

    from audit.models import Kind
    from audit.services import security_event_record

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    security_event_record(kind=Kind.SWEEP, user=user, ip=ip or None,
                          detail={"via": "worker", "sweep": sweep.pk, "as_of": sweep.as_of,
                                  "triggered_by": sweep.triggered_by})


def _chunk_count(chunks: int | None) -> int:
    from django.conf import settings

    # django-environ types env.int(default=8) as possibly None; the setting is always an int.
    return max(1, int(chunks or getattr(settings, "COMPLIANCE_SWEEP_CHUNKS", DEFAULT_CHUNKS)))  # type: ignore[arg-type]


def sweep_plan(*, sweep: Sweep, chunks: int | None = None) -> list[list[int | None]]:
    """A fixed number of chunks, each a range [lo, hi) of community pks (None: open end).

    One query finds the boundaries (equal numbers of communities per chunk), so
    a sweep costs the same number of queries whatever the number of
    communities. The last chunk also judges the district and the targets with
    no community.
    """
    from communities.models import Community

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
            transaction.on_commit(partial(_queue_digest, sweep_id))
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


# -- the clerks' digest after a sweep (issue 3 item 9) --------------------------


def _queue_digest(sweep_id: int) -> None:
    from .tasks import sweep_digest

    try:
        sweep_digest.delay(sweep_id)
    except Exception:
        # A broker outage must not turn a finished sweep into a failed one.
        logger.exception("巡检 %s 的摘要邮件未能排队", sweep_id)


DIGEST_LIST_MAX = 200  # findings listed in one 街办's email; the rest are counted and on the findings page


def sweep_digest_send(*, sweep_id: int) -> int:
    """One email per 街办 to its clerks, listing what the sweep opened for their communities.

    Returns the number of emails sent. A sweep's digest goes out once: a
    redelivered task finds ``digest_sent_at`` set and sends nothing.
    """
    from django.conf import settings
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string

    from communities.models import SubDistrict

    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().get(pk=sweep_id)
        if sweep.status != SweepStatus.FINISHED or sweep.digest_sent_at is not None:
            return 0
        opened = FindingEvent.objects.filter(sweep_id=sweep_id,
                                             kind__in=[FindingEventKind.OPENED, FindingEventKind.REOPENED],
                                             finding__sub_district__isnull=False)
        # A first sweep opens hundreds of thousands: count per 街办, list the first DIGEST_LIST_MAX, and read
        # nothing for a 街办 whose clerks left no email.
        totals = dict(opened.values_list("finding__sub_district_id").annotate(n=Count("pk")).order_by())
        recipients: dict[str, list[str]] = {}
        clerks = SubDistrict.objects.filter(code__in=list(totals)).values_list(
            "code", "clerk_group__user__email", "clerk_group__user__is_active"
        )
        for code, email, active in clerks:
            if email and active:
                recipients.setdefault(code, []).append(email)
        for code in sorted(set(totals) - set(recipients)):
            logger.info("街办 %s 没有留有邮箱的办事员，巡检 %s 的摘要未发送", code, sweep_id)
        streets = {s.code: s for s in SubDistrict.objects.filter(code__in=list(recipients))}
        messages = []
        for code in sorted(recipients):
            street, total = streets[code], totals[code]
            findings = [event.finding for event in opened.filter(finding__sub_district__code=code)
                        .select_related("finding", "finding__community")
                        .order_by("finding__rule_id", "finding__target_key")[:DIGEST_LIST_MAX]]
            context = {"sweep": sweep, "street": street, "findings": findings, "total": total,
                       "more": total - len(findings), "base_url": getattr(settings, "SITE_URL", "").rstrip("/")}
            subject = f"【合规巡检】{street.name} {sweep.as_of:%Y-%m-%d}：新发现 {total} 项问题"
            messages.append(EmailMessage(subject=subject, body=render_to_string("compliance/email/digest.txt", context),
                                         to=sorted(set(recipients[code]))))
        sweep.digest_sent_at = timezone.now()
        sweep.save(update_fields=["digest_sent_at"])
    if messages:
        from django.core.mail import get_connection

        get_connection().send_messages(messages)
    return len(messages)


# -- supervision (措施二十) -------------------------------------------------------


def supervision_action_record(*, user, level: str, taken_on: dt.date, note: str, finding: Finding | None = None,
                              unit: str = "") -> Any:
    """A reviewer records the 提醒/督办/约谈 they gave a unit, about one finding or in general."""
    from .models import ResponsibleKind, SupervisionAction, SupervisionLevel

    if user is None or not is_reviewer(user):
        raise PermissionDenied("只有区民政局审核员可以登记督导措施。")
    if level not in SupervisionLevel.values:
        raise ValidationError("请选择督导方式：提醒、督办或约谈。", code="supervision_level_invalid")
    if not isinstance(taken_on, dt.date):
        raise ValidationError("请填写督导日期（YYYY-MM-DD）。", code="supervision_date_required")
    if taken_on > timezone.localdate():
        raise ValidationError("督导日期不能晚于今天。", code="date_in_future")
    if not (note or "").strip():
        raise ValidationError("请填写督导情况说明。", code="supervision_note_required")
    sub_district_id = None
    if finding is not None:
        # A department's action is not a 街办's: it is listed under the 街办 only when the 街办 answers.
        if finding.responsible_kind == ResponsibleKind.STREET:
            sub_district_id = finding.sub_district_id
        unit = finding.responsible_name
    unit = (unit or "").strip()
    if not unit:
        raise ValidationError("请填写被督导的责任单位。", code="supervision_unit_required")
    with transaction.atomic():
        return SupervisionAction.objects.create(
            finding=finding, unit=unit[:200], sub_district_id=sub_district_id, level=level, taken_on=taken_on,
            note=note.strip(), taken_by=user,
        )


def escalation_parameter_set(*, name: str, value: Any, effective_from: dt.date, user=None,
                             reason: str) -> RuleParameter:
    """A new 提醒/督办/约谈 threshold in force from a date; the old ones stay."""
    from .escalation import DEFAULTS, ESCALATION_KEY, PARAM_LABELS
    from .escalation import params as escalation_params

    if name not in DEFAULTS:
        raise ValidationError(f"督导升级没有参数“{name}”（可设置的参数：{'、'.join(DEFAULTS)}）。",
                              code="unknown_parameter")
    if not (reason or "").strip():
        raise ValidationError("请填写调整参数的理由。", code="reason_required")
    if not isinstance(effective_from, dt.date):
        raise ValidationError("请填写生效日期（YYYY-MM-DD）。", code="effective_from_required")
    stored = to_json(DEFAULTS[name], value)
    if stored < 0:
        raise ValidationError(f"{PARAM_LABELS[name]}应为不小于 0 的整数。", code="invalid_value")
    # The ladder must keep rising on the day the value takes effect.
    thresholds = {**escalation_params(effective_from), name: stored}
    remind, supervise, interview = (thresholds["remind_overdue_days"], thresholds["supervise_overdue_days"],
                                    thresholds["interview_overdue_days"])
    if not remind < supervise < interview:
        raise ValidationError(
            f"逾期天数须逐级增加：提醒 {remind} 天 < 督办 {supervise} 天 < 约谈 {interview} 天。",
            code="escalation_order")
    with transaction.atomic():
        parameter = RuleParameter.objects.create(
            rule_id=ESCALATION_KEY, name=name, value=stored, effective_from=effective_from,
            set_by=user if user is not None and user.is_authenticated else None, reason=reason.strip(),
        )
        _parameter_audit(parameter, user)
        return parameter


def deadline_parameter_set(*, name: str, value: Any, effective_from: dt.date, user=None,
                           reason: str) -> RuleParameter:
    """A new 整改期限 (days from first found) in force from a date: by severity (``violation_days``,
    ``warning_days``) or for one rule (its id). Findings first found before keep their deadline."""
    from .duties import DEADLINE_DEFAULTS, DEADLINE_KEY, DUE_BY_RULE

    if name not in DEADLINE_DEFAULTS and name not in registry:
        raise ValidationError(f"整改期限没有参数“{name}”（可设置：{'、'.join(DEADLINE_DEFAULTS)} 或规则编号）。",
                              code="unknown_parameter")
    if name in DUE_BY_RULE:
        raise ValidationError(f"规则 {name} 的整改期限由措施条文规定的日期确定，不能按天数设置。",
                              code="deadline_fixed_by_rule")
    if not (reason or "").strip():
        raise ValidationError("请填写调整参数的理由。", code="reason_required")
    if not isinstance(effective_from, dt.date):
        raise ValidationError("请填写生效日期（YYYY-MM-DD）。", code="effective_from_required")
    stored = to_json(30, value)
    if stored <= 0:
        raise ValidationError("整改期限应为正整数（天）。", code="invalid_value")
    with transaction.atomic():
        parameter = RuleParameter.objects.create(
            rule_id=DEADLINE_KEY, name=name, value=stored, effective_from=effective_from,
            set_by=user if user is not None and user.is_authenticated else None, reason=reason.strip(),
        )
        _parameter_audit(parameter, user)
        return parameter


def _parameter_audit(parameter: RuleParameter, user) -> None:
    from audit.models import Kind
    from audit.services import security_event_record

    security_event_record(
        kind=Kind.PARAMETER_CHANGE, user=user,
        detail={"rule": parameter.rule_id, "name": parameter.name, "value": parameter.value,
                "effective_from": parameter.effective_from, "reason": parameter.reason},
    )
