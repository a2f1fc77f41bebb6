"""A reviewer's decisions on findings: waive one for now, close one after review (销号), record the
提醒/督办/约谈 given to a unit (措施二十)."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import is_reviewer

from .models import (
    Finding,
    FindingEvent,
    FindingEventKind,
    FindingStatus,
    ResponsibleKind,
    SupervisionAction,
    SupervisionLevel,
)
from .trends import daily_counts_refresh


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


def supervision_action_record(*, user, level: str, taken_on: dt.date, note: str, finding: Finding | None = None,
                              unit: str = "") -> Any:
    """A reviewer records the 提醒/督办/约谈 they gave a unit, about one finding or in general."""
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
