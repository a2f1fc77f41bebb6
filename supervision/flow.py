"""The 整改 of a finding and the 通报's review as declared tables.

整改 (措施二十, issue 12 item 2): the responsible unit records 整改措施 and
预计完成日期, then 申请销号 with a note and attachments; a reviewer 复核 and
either 销号 (the finding closes as 已销号, its record kept) or 退回 with a
reason, after which the unit records again and asks again.

Each row: the action, the states it may start from, the state it leads to,
who acts, and conditions returning the unmet reason in Chinese (or None).
``services.rectification_act`` moves a rectification only along a row here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from accounts.roles import is_admin, is_reviewer
from compliance.models import Finding, FindingStatus

from .models import BulletinState, RectAction, Rectification, RectState

UNIT = "unit"
REVIEWER = "reviewer"
ACTOR_LABELS = {UNIT: "责任单位（属地街办办事员或部门用户）", REVIEWER: "区民政局审核员"}


@dataclass
class RectInput:
    note: str = ""
    measures: str = ""
    expected_on: dt.date | None = None
    files: list = field(default_factory=list)
    today: dt.date | None = None


Condition = Callable[[Finding, Rectification, RectInput], str | None]


def finding_open(finding: Finding, rect: Rectification, inp: RectInput) -> str | None:
    if finding.status == FindingStatus.OPEN:
        return None
    return f"该问题当前状态为“{finding.get_status_display()}”，不在整改中。"


def measures_given(finding: Finding, rect: Rectification, inp: RectInput) -> str | None:
    return None if inp.measures.strip() else "请填写整改措施。"


def expected_date_sensible(finding: Finding, rect: Rectification, inp: RectInput) -> str | None:
    if inp.expected_on is None:
        return "请填写预计完成日期（YYYY-MM-DD）。"
    if inp.expected_on < finding.first_seen:
        return f"预计完成日期 {inp.expected_on:%Y-%m-%d} 早于问题发现日期 {finding.first_seen:%Y-%m-%d}。"
    return None


def measures_on_record(finding: Finding, rect: Rectification, inp: RectInput) -> str | None:
    return None if rect.measures.strip() else "请先登记整改措施，再申请销号。"


def note_given(finding: Finding, rect: Rectification, inp: RectInput) -> str | None:
    return None if inp.note.strip() else "请填写整改情况说明。"


def reason_given(finding: Finding, rect: Rectification, inp: RectInput) -> str | None:
    return None if inp.note.strip() else "退回须写明理由。"


def opinion_given(finding: Finding, rect: Rectification, inp: RectInput) -> str | None:
    return None if inp.note.strip() else "请填写复核意见。"


@dataclass(frozen=True)
class RectTransition:
    action: str
    sources: tuple[str, ...]
    target: str
    actor: str
    conditions: tuple[Condition, ...] = ()
    takes_files: bool = False

    @property
    def label(self) -> str:
        return RectAction(self.action).label


S = RectState
RECT_TRANSITIONS: tuple[RectTransition, ...] = (
    RectTransition(RectAction.MEASURES, (S.PENDING, S.IN_PROGRESS, S.RETURNED), S.IN_PROGRESS, UNIT,
                   (finding_open, measures_given, expected_date_sensible)),
    RectTransition(RectAction.REQUEST, (S.IN_PROGRESS, S.RETURNED), S.REQUESTED, UNIT,
                   (finding_open, measures_on_record, note_given), takes_files=True),
    RectTransition(RectAction.RETURN, (S.REQUESTED,), S.RETURNED, REVIEWER, (finding_open, reason_given)),
    RectTransition(RectAction.CLOSE, (S.REQUESTED,), S.CLOSED, REVIEWER, (finding_open, opinion_given)),
)
BY_ACTION = {t.action: t for t in RECT_TRANSITIONS}


def transitions_from(state: str) -> list[RectTransition]:
    return [t for t in RECT_TRANSITIONS if state in t.sources]


def unmet(t: RectTransition, finding: Finding, rect: Rectification, inp: RectInput) -> list[str]:
    return [reason for cond in t.conditions if (reason := cond(finding, rect, inp))]


def refusal(user, t: RectTransition, finding: Finding, rect: Rectification) -> tuple[str, str] | None:
    """(code, Chinese reason) when ``user`` may not take ``t``; None when they may."""
    from .selectors import answers_for

    if t.actor == UNIT:
        if answers_for(user, finding) or is_admin(user):
            return None
        return "wrong_unit", f"“{t.label}”须由责任单位（{rect.unit}）办理。"
    if not is_reviewer(user):
        return "wrong_role", f"“{t.label}”须由区民政局审核员办理。"
    if rect.requested_by_id is not None and rect.requested_by_id == user.pk:
        return "own_request", "不能复核自己提出的销号申请，请由其他审核员办理。"
    return None


def allowed(user, finding: Finding, rect: Rectification) -> list[RectTransition]:
    return [t for t in transitions_from(rect.state) if refusal(user, t, finding, rect) is None]


# ---------------------------------------------------------------- 通报


@dataclass(frozen=True)
class BulletinTransition:
    action: str
    label: str
    source: str
    target: str


B = BulletinState
BULLETIN_TRANSITIONS: tuple[BulletinTransition, ...] = (
    BulletinTransition("review", "审核通过", B.DRAFT, B.REVIEWED),
    BulletinTransition("return", "退回修改", B.REVIEWED, B.DRAFT),
    BulletinTransition("issue", "签发印发", B.REVIEWED, B.ISSUED),
)
BULLETIN_BY_ACTION = {t.action: t for t in BULLETIN_TRANSITIONS}
