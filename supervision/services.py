"""Write operations of 整改, 督办单/约谈通知 and 通报. The flows are the tables in ``supervision.flow``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import is_reviewer
from approvals.attachments import check_upload
from compliance.models import Finding, SupervisionLevel

from . import compat, flow, reports
from .models import (
    Bulletin,
    BulletinState,
    DocCounter,
    DocKind,
    RectAction,
    RectAttachment,
    Rectification,
    RectState,
    RectStep,
    SupervisionDocument,
)


def _error(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


# ---------------------------------------------------------------- 整改


def rectification_for(finding: Finding) -> Rectification:
    """The finding's rectification, unsaved and 待整改 when nobody has acted yet."""
    try:
        return finding.rectification
    except Rectification.DoesNotExist:
        return Rectification(finding=finding, unit=compat.finding_unit(finding))


def rectification_act(*, finding_id: int, action: str, user, expected_state: str | None = None, note: str = "",
                      measures: str = "", expected_on: dt.date | None = None, files: Sequence = (),
                      today: dt.date | None = None) -> RectStep:
    """Take one row of ``flow.RECT_TRANSITIONS`` on a finding's rectification.

    The finding row is locked and the state compared with the one the actor saw
    (``expected_state``): of a reviewer and a unit acting at once, the second is
    told the request moved on, and nothing is written for them.
    """
    transition = flow.BY_ACTION.get(action)
    if transition is None:
        raise _error("未知的整改办理事项。", "unknown_action")
    if files and not transition.takes_files:
        raise _error(f"“{transition.label}”不接收附件。", "files_not_accepted")
    checked = [(f, *check_upload(f)) for f in files]  # refuse a bad file before locking anything
    today = today or timezone.localdate()
    with transaction.atomic():
        try:
            finding = Finding.objects.select_for_update(of=("self",)).select_related("sub_district").get(pk=finding_id)
        except Finding.DoesNotExist:
            raise _error("没有找到这个问题。", "not_found") from None
        rect = rectification_for(finding)
        if expected_state is not None and rect.state != expected_state:
            raise _error(f"该问题的整改已由他人办理，当前为“{rect.get_state_display()}”"
                         f"（您看到的是“{RectState(expected_state).label}”）。请刷新页面后再操作。", "stale_state")
        if rect.state not in transition.sources:
            raise _error(f"整改状态为“{rect.get_state_display()}”时不能“{transition.label}”。", "wrong_state")
        refused = flow.refusal(user, transition, finding, rect)
        if refused:
            raise PermissionDenied(refused[1])
        inp = flow.RectInput(note=note, measures=measures, expected_on=expected_on, today=today)
        reasons = flow.unmet(transition, finding, rect, inp)
        if reasons:
            raise _error("；".join(reasons), "condition_unmet")
        source = rect.state
        if action == RectAction.MEASURES:
            rect.measures = measures.strip()
            rect.expected_on = expected_on
        elif action == RectAction.REQUEST:
            rect.requested_by = user
        rect.state = transition.target
        rect.save()
        step = RectStep.objects.create(
            rectification=rect, action=action, from_state=source, to_state=rect.state, actor=user,
            note=note.strip(), measures=rect.measures if action == RectAction.MEASURES else "",
            expected_on=rect.expected_on if action == RectAction.MEASURES else None,
        )
        for upload, kind, digest in checked:
            RectAttachment.objects.create(step=step, file=upload, original_name=upload.name[:200], content_type=kind,
                                          size=upload.size, sha256=digest)
        event_note = _event_note(action, note, rect, len(checked))
        if action == RectAction.CLOSE:
            compat.close_by_review(finding=finding, user=user, note=event_note)
        else:
            compat.record_event(finding=finding, action=action, user=user, note=event_note)
        return step


def _event_note(action: str, note: str, rect: Rectification, files: int) -> str:
    if action == RectAction.MEASURES:
        return f"整改措施：{rect.measures}；预计完成日期 {rect.expected_on:%Y-%m-%d}" + (
            f"。{note.strip()}" if note.strip() else "")
    if action == RectAction.REQUEST:
        return f"申请销号：{note.strip()}" + (f"（附件 {files} 个）" if files else "")
    if action == RectAction.RETURN:
        return f"退回：{note.strip()}"
    return f"复核销号：{note.strip()}"


# ---------------------------------------------------------------- 文号


def number_take(*, year: int, kind: str) -> int:
    """The next 文号 of ``kind`` in ``year``: the counter row is locked until the caller's transaction ends,
    and the documents' unique (year, kind, number) refuses a number given twice even if the counter is wrong."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_take must run inside the transaction that stores the document")
    DocCounter.objects.get_or_create(year=year, kind=kind)
    counter = DocCounter.objects.select_for_update().get(year=year, kind=kind)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


# ---------------------------------------------------------------- 督办单 / 约谈通知

DOC_LEVEL = {DocKind.SUPERVISE: SupervisionLevel.SUPERVISE, DocKind.INTERVIEW: SupervisionLevel.INTERVIEW}
DEFAULT_REPLY_DAYS = {DocKind.SUPERVISE: 15, DocKind.INTERVIEW: 10}


def supervision_document_issue(*, user, unit: str, kind: str, issued_on: dt.date | None = None,
                               reply_days: int | None = None, note: str = "") -> SupervisionDocument:
    """A numbered 督办单 or 约谈通知 to ``unit`` naming its findings at that level or above, recorded as a
    supervision action (compliance.SupervisionAction) that the document links to."""
    from compliance.services import supervision_action_record

    if user is None or not is_reviewer(user):
        raise PermissionDenied("只有区民政局审核员可以生成督办单、约谈通知。")
    if kind not in DOC_LEVEL:
        raise _error("请选择文书种类：督办单或约谈通知。", "doc_kind_invalid")
    today = timezone.localdate()
    issued_on = issued_on or today
    if issued_on > today:
        raise _error("发文日期不能晚于今天。", "date_in_future")
    days = DEFAULT_REPLY_DAYS[DocKind(kind)] if reply_days is None else reply_days
    if not 1 <= days <= 90:
        raise _error("整改反馈期限应为 1～90 天。", "reply_days_invalid")
    unit = (unit or "").strip()
    level = DOC_LEVEL[DocKind(kind)]
    items = reports.unit_findings_at_level(unit, level, as_of=issued_on)
    if not items:
        raise _error(f"{unit or '该单位'}没有达到“{level.label}”的未整改问题，不能生成{DocKind(kind).label}。",
                     "no_findings_at_level")
    requirement = note.strip() or reports.default_requirement(DocKind(kind), days)
    with transaction.atomic():
        action = supervision_action_record(
            user=user, level=level, taken_on=issued_on, unit=unit,
            note=f"{DocKind(kind).label}：列问题 {len(items)} 项，限 {days} 日内反馈整改情况。",
        )
        number = number_take(year=issued_on.year, kind=kind)
        return SupervisionDocument.objects.create(
            kind=kind, year=issued_on.year, number=number, unit=unit, issued_on=issued_on,
            reply_by=issued_on + dt.timedelta(days=days), findings=items, note=requirement, action=action,
            created_by=user,
        )


# ---------------------------------------------------------------- 通报


def _require_reviewer(user, what: str) -> None:
    if user is None or not is_reviewer(user):
        raise PermissionDenied(f"只有区民政局审核员可以{what}。")


def bulletin_draft(*, user, period_start: dt.date, period_end: dt.date, remarks: str = "") -> Bulletin:
    """A 通报 drafted from the record for [period_start, period_end], compared with the period just before."""
    _require_reviewer(user, "起草通报")
    if period_end < period_start:
        raise _error("统计截止日不能早于起始日。", "period_order")
    if period_end > timezone.localdate():
        raise _error("统计截止日不能晚于今天：通报只统计已经发生的情况。", "period_future")
    with transaction.atomic():
        return Bulletin.objects.create(
            period_start=period_start, period_end=period_end, title=reports.bulletin_title(period_start, period_end),
            figures=reports.bulletin_figures(period_start, period_end), remarks=remarks.strip(), drafted_by=user,
            drafted_at=timezone.now(),
        )


def bulletin_redraft(*, user, bulletin_id: int, remarks: str | None = None) -> Bulletin:
    """A draft's figures are recomputed from the record; a reviewed or issued one is refused."""
    _require_reviewer(user, "修改通报")
    with transaction.atomic():
        b = Bulletin.objects.select_for_update().get(pk=bulletin_id)
        if b.state != BulletinState.DRAFT:
            raise _error(f"通报“{b.title}”已{b.get_state_display()}，数据已冻结，不能重新统计。", "bulletin_frozen")
        b.figures = reports.bulletin_figures(b.period_start, b.period_end)
        if remarks is not None:
            b.remarks = remarks.strip()
        b.drafted_by = user
        b.drafted_at = timezone.now()
        b.save()
        return b


def bulletin_act(*, user, bulletin_id: int, action: str, expected_state: str | None = None) -> Bulletin:
    _require_reviewer(user, "审核、签发通报")
    t = flow.BULLETIN_BY_ACTION.get(action)
    if t is None:
        raise _error("未知的通报办理事项。", "unknown_action")
    with transaction.atomic():
        b = Bulletin.objects.select_for_update().get(pk=bulletin_id)
        if expected_state is not None and b.state != expected_state:
            raise _error(f"该通报已由他人办理，当前为“{b.get_state_display()}”。请刷新页面。", "stale_state")
        if b.state != t.source:
            raise _error(f"通报为“{b.get_state_display()}”时不能“{t.label}”。", "wrong_state")
        if action == "review" and b.drafted_by_id == user.pk:
            raise _error("不能审核自己起草的通报，请由其他审核员审核。", "own_draft")
        now = timezone.now()
        fields: dict[str, Any] = {"state": t.target}
        if action == "review":
            fields.update(reviewed_by=user, reviewed_at=now)
        elif action == "return":
            fields.update(reviewed_by=None, reviewed_at=None)
        elif action == "issue":
            year = timezone.localdate(now).year
            fields.update(issued_by=user, issued_at=now, year=year,
                          number=number_take(year=year, kind=DocKind.BULLETIN))
        for name, value in fields.items():
            setattr(b, name, value)
        b.save()
        return b
