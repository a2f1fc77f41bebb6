"""The eight steps of the 附件 (社区设立审批流程) as one declared table.

Each row is a step: the state in which it is due, the state it leads to, who
acts, what the actor must record, and conditions that return the unmet
reason in Chinese (or None). ``services.request_act`` is the only code that
moves a request, and it moves it only along a row of this table, or one row
back (退回) with a reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from accounts.roles import is_admin, is_clerk_of, is_reviewer
from communities.models import Community, CommunityStatus

from .credit_code import credit_code_problem
from .models import Action, EstablishmentRequest, ProposedCommunity, RequestKind, State, StepDeadline

CLERK = "clerk"
REVIEWER = "reviewer"
ACTOR_LABELS = {CLERK: "属地街办办事员", REVIEWER: "区民政局审核员"}


@dataclass
class StepInput:
    """What the actor submits with a step (already parsed by the form)."""

    opinion: str = ""
    document_no: str = ""
    decided_on: dt.date | None = None
    data: dict[str, Any] = field(default_factory=dict)
    today: dt.date | None = None


Condition = Callable[[EstablishmentRequest, StepInput], str | None]


@dataclass(frozen=True)
class Step:
    number: int
    state: str
    next_state: str
    title: str
    actor: str
    # Whose decision the reviewer records (市民政局, 市政府, 区政府常务会), if not the actor's own.
    records_outcome_of: str = ""
    needs_document: bool = False  # the outcome's date and document number must be recorded
    conditions: tuple[Condition, ...] = ()
    default_days: int = 30
    effect: str = ""  # the name of the services function that does the step's work

    @property
    def actor_label(self) -> str:
        label = ACTOR_LABELS[self.actor]
        return f"{label}（登记{self.records_outcome_of}意见）" if self.records_outcome_of else label

    @property
    def short(self) -> str:
        """The step's one name (the request's state shows it too): 区政府常务会审批."""
        return str(State(self.state).label).split(" ", 1)[-1]

    @property
    def label(self) -> str:
        return f"第{self.number}步 {self.short}"


# -- conditions ---------------------------------------------------------------

BOUNDARIES = (("east", "东至"), ("south", "南至"), ("west", "西至"), ("north", "北至"))


def proposal_complete(req: EstablishmentRequest, inp: StepInput) -> str | None:
    parts = list(req.parts.prefetch_related("compounds"))
    if not parts:
        return "申请中没有拟设社区。"
    for part in parts:
        missing = [label for name, label in BOUNDARIES if not getattr(part, name).strip()]
        if missing:
            return f"拟设社区“{part.name}”的四至未填全：缺{'、'.join(missing)}。"
        if part.population < part.households:
            return f"拟设社区“{part.name}”的常住人口（{part.population}）少于户数（{part.households}）。"
    sources = list(req.sources.all())
    if req.kind == RequestKind.SPLIT:
        if len(parts) < 2:
            return "拆分须至少拆为两个社区。"
        owned = {c.pk for c in sources[0].compounds.all()} if sources else set()
        placed = [c.pk for p in parts for c in p.compounds.all()]
        if owned - set(placed):
            return f"原社区还有 {len(owned - set(placed))} 个小区/院落未划入任何拆分后的社区。"
    if req.kind == RequestKind.MERGE and len(sources) < 2:
        return "合并须至少有两个原社区。"
    if any(s.status == CommunityStatus.REVOKED for s in sources):
        return "原社区中有已撤销的社区。"
    return None


def residents_agreed(req: EstablishmentRequest, inp: StepInput) -> str | None:
    if inp.data.get("residents_agreed"):
        return None
    return "须先征得居民同意（村转居的须经村民会议同意），并勾选确认。"


def opinion_given(req: EstablishmentRequest, inp: StepInput) -> str | None:
    return None if inp.opinion.strip() else "请填写办理意见。"


def document_recorded(req: EstablishmentRequest, inp: StepInput) -> str | None:
    missing = [label for label, value in (("文号", inp.document_no.strip()), ("日期", inp.decided_on)) if not value]
    return f"请登记意见的{'和'.join(missing)}。" if missing else None


def _last_decided(req: EstablishmentRequest) -> dt.date | None:
    return (
        req.records.filter(action=Action.ADVANCE, decided_on__isnull=False)
        .order_by("-acted_at", "-id").values_list("decided_on", flat=True).first()
    )


def decided_in_order(req: EstablishmentRequest, inp: StepInput) -> str | None:
    if inp.decided_on is None:
        return None
    today = inp.today or timezone.localdate()
    if inp.decided_on > today:
        return f"日期 {inp.decided_on:%Y-%m-%d} 晚于今天，不能登记尚未发生的决定。"
    last = _last_decided(req)
    if last and inp.decided_on < last:
        return f"日期 {inp.decided_on:%Y-%m-%d} 早于上一环节的日期 {last:%Y-%m-%d}。"
    return None


def _already_established(req: EstablishmentRequest) -> bool:
    """Step 6 was passed once and then sent back: its communities exist, its sources are retired by it."""
    return req.kind != RequestKind.NEW and req.parts.filter(community__isnull=False).exists()


def sources_active(req: EstablishmentRequest, inp: StepInput) -> str | None:
    if _already_established(req):
        return None
    revoked = [s.name for s in req.sources.all() if s.status == CommunityStatus.REVOKED]
    return f"原社区已撤销：{'、'.join(revoked)}。" if revoked else None


def codes_still_free(req: EstablishmentRequest, inp: StepInput) -> str | None:
    if req.kind == RequestKind.NEW:
        return None  # the new community already holds its code
    parts = list(req.parts.all())
    taken = list(Community.objects.filter(code__in=[p.code for p in parts])
                 .exclude(pk__in=[p.community_id for p in parts if p.community_id])
                 .values_list("code", flat=True))
    return f"社区代码已被占用：{'、'.join(taken)}，请退回街办修改。" if taken else None


ELECTION_FIELDS = (
    ("election_on", "两委选举日期"),
    ("initial_inspection_on", "区民政局初验日期"),
    ("final_inspection_on", "市民政局终验日期"),
)


def election_and_inspections(req: EstablishmentRequest, inp: StepInput) -> str | None:
    # Any, not Any | None: the missing check below returns before a None is compared.
    dates: dict[str, Any] = {name: inp.data.get(name) for name, _label in ELECTION_FIELDS}
    missing = [label for name, label in ELECTION_FIELDS if not dates[name]]
    if missing:
        return f"请登记{'、'.join(missing)}。"
    today = inp.today or timezone.localdate()
    for name, label in ELECTION_FIELDS:
        if dates[name] > today:
            return f"{label} {dates[name]:%Y-%m-%d} 晚于今天。"
    approved = _last_decided(req)
    if approved and dates["election_on"] < approved:
        return f"两委选举日期 {dates['election_on']:%Y-%m-%d} 早于批复日期 {approved:%Y-%m-%d}。"
    if dates["initial_inspection_on"] < dates["election_on"]:
        return "区民政局初验须在两委选举之后。"
    if dates["final_inspection_on"] < dates["initial_inspection_on"]:
        return "市民政局终验须在区民政局初验之后。"
    return None


def gov_agreed_first(req: EstablishmentRequest, inp: StepInput) -> str | None:
    """措施五: 经区政府研究同意后报市民政局. The agreement's date is recorded with step 3 and precedes the city's
    opinion; a date after today has not happened."""
    agreed = inp.data.get("gov_agreed_on")
    if not agreed:
        return "须先经区政府研究同意，请登记区政府研究同意日期。"
    today = inp.today or timezone.localdate()
    if agreed > today:
        return f"区政府研究同意日期 {agreed:%Y-%m-%d} 晚于今天。"
    if inp.decided_on and agreed > inp.decided_on:
        return (f"区政府研究同意日期 {agreed:%Y-%m-%d} 晚于市民政局意见日期 {inp.decided_on:%Y-%m-%d}："
                "须经区政府同意后再报市民政局。")
    return None


# 达标后列入台账 (附件第七步): the community rules a new community must pass before it enters the ledger. Violations
# only: a warning or notice (an unusual but lawful size) does not hold it back.
LEDGER_RULES: tuple[str, ...] = (
    "M04.boundaries", "M07.facility_area", "M07.outdoor_plaza", "M07.activity_share", "M10.party_size",
    "M10.committee_size", "M10.cross_appointment", "M10.fulltime_share", "M10.total_cap", "M11.worker_ratio",
)


def ledger_failures(req: EstablishmentRequest, today: dt.date) -> list[str]:
    """The LEDGER_RULES violations of the request's communities on ``today``, judged by the engine's own rules
    (the election window that spares a new community elsewhere does not apply: this is the 验收)."""
    from compliance.catalogue import Severity
    from compliance.parameters import params_for_rules
    from compliance.rules import registry

    ids = [p.community_id for p in req.parts.all() if p.community_id]
    if not ids:
        return []
    rules = registry.select(LEDGER_RULES)
    params = params_for_rules(rules, today)
    out = []
    for rule in rules:
        for result in rule.evaluate(Community.objects.filter(pk__in=ids), today, params[rule.id]):
            if not result.passed and (result.severity or rule.severity) == Severity.VIOLATION:
                out.append(f"{rule.title}：{result.message}")
    return out


def ledger_standard_met(req: EstablishmentRequest, inp: StepInput) -> str | None:
    if (inp.data.get("ledger_exception") or "").strip():
        return None  # the reviewer lists it anyway, with the reason recorded on the step
    failures = ledger_failures(req, inp.today or timezone.localdate())
    if not failures:
        return None
    return ("未达标，不能列入台账（或填写“未达标仍列入台账的理由”）：" + "；".join(failures))


def credit_codes_valid(req: EstablishmentRequest, inp: StepInput) -> str | None:
    codes: dict[str, str] = inp.data.get("credit_codes") or {}
    parts = list(req.parts.all())
    seen: set[str] = set()
    for part in parts:
        code = (codes.get(str(part.pk)) or "").strip().upper()
        if not code:
            return f"请登记“{part.name}”居委会的统一社会信用代码。"
        problem = credit_code_problem(code)
        if problem:
            return f"“{part.name}”：{problem}"
        if code in seen or ProposedCommunity.objects.filter(credit_code=code).exclude(request=req).exists():
            return f"统一社会信用代码 {code} 已登记给其他社区。"
        seen.add(code)
    return None


# -- the table ----------------------------------------------------------------

S = State
STEPS: tuple[Step, ...] = (
    Step(1, S.DRAFT, S.DISTRICT_REVIEW, "街办申报", CLERK,
         conditions=(proposal_complete, residents_agreed), default_days=30),
    Step(2, S.DISTRICT_REVIEW, S.CITY_CONSULT, "区民政局审核（审查材料、实地查看、征求部门意见）", REVIEWER,
         conditions=(opinion_given,), default_days=20),
    Step(3, S.CITY_CONSULT, S.CITY_OPINION, "征求市民政局意见（市民政局审核、实地查看）", REVIEWER,
         records_outcome_of="市民政局", needs_document=True,
         conditions=(opinion_given, document_recorded, decided_in_order, gov_agreed_first), default_days=30),
    Step(4, S.CITY_OPINION, S.REPORT, "市政府审核后市民政局反馈意见", REVIEWER,
         records_outcome_of="市民政局（经市政府审核）", needs_document=True,
         conditions=(opinion_given, document_recorded, decided_in_order), default_days=60),
    Step(5, S.REPORT, S.GOV_APPROVAL, "区民政局报区政府", REVIEWER,
         conditions=(opinion_given, decided_in_order), default_days=15),
    Step(6, S.GOV_APPROVAL, S.INSPECTION, "区政府常务会批准，报市民政局备案", REVIEWER,
         records_outcome_of="区政府常务会", needs_document=True,
         conditions=(opinion_given, document_recorded, decided_in_order, sources_active, codes_still_free),
         default_days=30, effect="establish"),
    Step(7, S.INSPECTION, S.CERTIFICATION, "两委选举、区民政局初验、市民政局终验，列入台账", REVIEWER,
         conditions=(election_and_inspections, ledger_standard_met), default_days=120, effect="enter_ledger"),
    Step(8, S.CERTIFICATION, S.COMPLETED, "年终报市民政局，颁发统一社会信用代码证书", REVIEWER,
         records_outcome_of="市民政局", conditions=(credit_codes_valid,), default_days=365, effect="certify"),
)

BY_STATE: dict[str, Step] = {step.state: step for step in STEPS}
BY_NUMBER: dict[int, Step] = {step.number: step for step in STEPS}


def step_for(state: str) -> Step | None:
    return BY_STATE.get(state)


def previous_state(state: str) -> str | None:
    """Where 退回 leads: one step back; the first step has nowhere to go back to."""
    step = BY_STATE.get(state)
    if step is None or step.number == 1:
        return None
    return BY_NUMBER[step.number - 1].state


def unmet(step: Step, req: EstablishmentRequest, inp: StepInput) -> list[str]:
    return [reason for cond in step.conditions if (reason := cond(req, inp))]


def deadlines() -> dict[str, int]:
    """Days allowed per state: the table's defaults, overridden by what an administrator set."""
    days = {step.state: step.default_days for step in STEPS}
    days.update(StepDeadline.objects.values_list("state", "days"))
    return days


# -- who may act ----------------------------------------------------------------


def clerk_of(user, req: EstablishmentRequest) -> bool:
    return is_clerk_of(user, req.sub_district_id)


def refusal(user, step: Step, req: EstablishmentRequest) -> tuple[str, str] | None:
    """(code, Chinese reason) when ``user`` may not act on ``step`` of ``req``; None when they may."""
    if step.actor == CLERK:
        if clerk_of(user, req) or is_admin(user):
            return None
        return "wrong_role", f"“{step.label}”须由{req.sub_district.name}的街办办事员办理。"
    if not is_reviewer(user):
        return "wrong_role", f"“{step.label}”须由区民政局审核员办理。"
    if req.submitted_by_id is not None and req.submitted_by_id == user.pk:
        return "own_submission", "不能审批自己申报的申请，请由其他审核员办理。"
    return None
