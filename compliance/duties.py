"""Who answers for a finding, and by when: the 责任单位/牵头单位 of every rule and its 整改期限.

**Who.** A finding's 责任单位 is either the 街办 the finding is filed under
(``responsible_kind`` = ``street``, ``responsible_unit`` blank: the unit is the
finding's ``sub_district``), or a district department (``responsible_kind`` =
``department``, ``responsible_unit`` one ``accounts.models.Unit`` code such as
``housing``). The 牵头单位 (``lead_unit``) is blank or one or more Unit codes
joined by ``,`` in the order the clause names them. The table is per rule (not
per 措施): the 措施's 分工 names several units, the rule's nature picks which
one must act, e.g. an unhanded facility is the accepting department's to hand
over (措施八), a 社区用房 debt the 街办's to recover with the planning and
housing departments leading (措施九). A 街办-owned finding with no 街办 (a
compound not yet in any 街办) falls to 区民政局, which must place it.

**By when.** Violations and warnings get a 整改期限 (``due_date``); notices
none, and they never escalate. A rule whose clause sets its own date uses it
(``DUE_BY_RULE``: M12 training by 12-01, M14 assessment by 04-01, the M11
election deadline, M08 handover by day 90, M15 filing by day 30); any other
rule's deadline is ``first_seen`` plus a number of days, a dated parameter
stored in ``RuleParameter`` under the key ``deadline`` (not a rule id): the
name ``violation_days``/``warning_days`` for the default by severity, or a rule
id for that rule alone. The days in force on the day the finding was first
found count, so a later change does not move an existing deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from accounts.models import Unit

from .catalogue import RULES, Severity
from .models import RuleParameter, lead_labels, unit_label  # noqa: F401  (lead_labels: read as duties.lead_labels)

STREET = "street"
DEPARTMENT = "department"
KIND_CHOICES = [(STREET, "街办"), (DEPARTMENT, "部门")]

# 大兴新区's 管委会 accepts and hands over the facilities in its area (措施七、八); elsewhere 区住建局 does.
# The area is the 街办 whose communities it administers (facilities/demo.py places acceptances the same way).
DAXING_SUB_DISTRICTS = frozenset({"610104009"})  # 枣园街道

_MCA = (Unit.CIVIL_AFFAIRS.value,)
_PLANNING_HOUSING = (Unit.PLANNING.value, Unit.HOUSING.value)


@dataclass(frozen=True)
class Duty:
    """``responsible``: ``STREET`` or a Unit code; ``by_area``: pick the unit from the 街办 (措施八)."""

    responsible: str
    lead: tuple[str, ...] = ()
    by_area: bool = False
    why: str = ""

    def unit_for(self, sub_district_id: str | None) -> tuple[str, str]:
        """(responsible_kind, responsible_unit) for a finding filed under this 街办 code."""
        if self.by_area:
            return DEPARTMENT, (Unit.DAXING.value if sub_district_id in DAXING_SUB_DISTRICTS else Unit.HOUSING.value)
        if self.responsible == STREET:
            if sub_district_id:
                return STREET, ""
            return DEPARTMENT, Unit.CIVIL_AFFAIRS.value
        return DEPARTMENT, self.responsible

    @property
    def lead_code(self) -> str:
        return ",".join(self.lead)


_STREET_MCA = Duty(STREET, _MCA, why="街办落实，区民政局牵头")

DUTIES: dict[str, Duty] = {
    "M01.sub_district": _STREET_MCA,
    "M03.compound_unassigned": _STREET_MCA,
    "M03.compound_register": _STREET_MCA,
    "M03.jurisdiction_dispute": Duty(Unit.CIVIL_AFFAIRS.value, why="管理主体未明确的小区由区民政局裁定"),
    "M04.boundaries": _STREET_MCA,
    "M04.households": _STREET_MCA,
    "M04.population": _STREET_MCA,
    "M06.adjustment_plan": _STREET_MCA,
    "M06.oversized_staffing": _STREET_MCA,
    "M06.district_adjustment": Duty(Unit.CIVIL_AFFAIRS.value, why="全区优化调整由区民政局统筹"),
    "M07.facility_area": Duty(STREET, _PLANNING_HOUSING, why="建设标准：资源规划、住建部门牵头，街办落实"),
    "M07.outdoor_plaza": Duty(STREET, _PLANNING_HOUSING, why="建设标准：资源规划、住建部门牵头，街办落实"),
    "M07.activity_share": Duty(STREET, _PLANNING_HOUSING, why="建设标准：资源规划、住建部门牵头，街办落实"),
    "M08.handover": Duty(Unit.HOUSING.value, _MCA, by_area=True,
                         why="验收合格后由区住建局（大兴新区由管委会）移交街办，区民政局牵头"),
    "M08.planned_area": Duty(Unit.PLANNING.value, _MCA, why="规划审批按标准把关：资源规划莲湖分局，区民政局牵头"),
    "M09.facility_debt": Duty(STREET, _PLANNING_HOUSING, why="历史欠账：街办追缴，资源规划、住建部门牵头"),
    "M10.party_size": _STREET_MCA,
    "M10.committee_size": _STREET_MCA,
    "M10.cross_appointment": _STREET_MCA,
    "M10.fulltime_share": _STREET_MCA,
    "M10.total_cap": _STREET_MCA,
    "M11.worker_ratio": _STREET_MCA,
    "M11.election_deadline": _STREET_MCA,
    "M11.vacancy": _STREET_MCA,
    "M12.worker_training": _STREET_MCA,
    "M12.leader_training": _STREET_MCA,
    "M13.post_grade": _STREET_MCA,
    "M13.archive": _STREET_MCA,
    "M14.annual_assessment": _STREET_MCA,
    "M14.incompetent_decision": _STREET_MCA,
    "M13.grade_growth": _STREET_MCA,
    "M15.resignation_notice": _STREET_MCA,
    "M15.exit_filing": _STREET_MCA,
    "M15.approval_before_filing": _STREET_MCA,
    "M16.embedded_services": _STREET_MCA,
    "M17.social_orgs": _STREET_MCA,
    "M17.district_targets": Duty(Unit.CIVIL_AFFAIRS.value, why="全区目标由区民政局统筹"),
    "M18.property_service": Duty(STREET, (Unit.HOUSING.value, Unit.CIVIL_AFFAIRS.value),
                                 why="物业服务：区住建局、区民政局牵头，街办落实"),
    "M18.property_committee": Duty(STREET, (Unit.HOUSING.value, Unit.CIVIL_AFFAIRS.value),
                                   why="物业服务：区住建局、区民政局牵头，街办落实"),
    "M19.work_funds": Duty(Unit.FINANCE.value, _MCA, why="经费保障：区财政局足额拨付，区民政局牵头"),
    "M19.residential_utilities": Duty(STREET, (Unit.CIVIL_AFFAIRS.value, Unit.FINANCE.value),
                                      why="设施水电气暖价格：街办落实，区民政局、区财政局牵头"),
    "M19.property_fee": Duty(STREET, (Unit.HOUSING.value, Unit.CIVIL_AFFAIRS.value),
                             why="物业收费：街办落实，区住建局、区民政局牵头"),
    "M19.task_funds": Duty(Unit.FINANCE.value, _MCA, why="费随事转：交办事项的经费由区财政局落实，区民政局牵头"),
    "M19.salary_share": Duty(Unit.FINANCE.value, _MCA, why="薪酬分担：区财政局落实，区民政局牵头"),
}

DEFAULT_DUTY = _STREET_MCA


def duty(rule_id: str) -> Duty:
    return DUTIES.get(rule_id, DEFAULT_DUTY)


def responsible_label(rule_id: str) -> str:
    """The catalogue page's 责任单位 of a rule (the 街办, or the department)."""
    d = duty(rule_id)
    if d.by_area:
        return f"{unit_label(Unit.HOUSING.value)}（大兴新区：{unit_label(Unit.DAXING.value)}）"
    return "所在街办" if d.responsible == STREET else unit_label(d.responsible)


# -- deadlines -------------------------------------------------------------------

DEADLINE_KEY = "deadline"
DEADLINE_TITLE = "整改期限（措施二十）"
DEADLINE_DEFAULTS: dict[str, int] = {"violation_days": 30, "warning_days": 60}
DEADLINE_LABELS = {
    "violation_days": "违规问题整改期限（自首次发现起，天）",
    "warning_days": "预警问题整改期限（自首次发现起，天）",
}

DeadlineDays = Callable[[str, dt.date], int | None]


def _month_day(text: str, year: int) -> dt.date:
    month, day = (int(p) for p in str(text).split("-"))
    return dt.date(year, month, day)


def _m12(severity: str, as_of: dt.date, params: dict[str, Any], result: Any) -> dt.date:
    due = _month_day(params.get("training_due", "12-01"), as_of.year)
    # A violation before this year's date is last year's training, due last year.
    if severity == Severity.VIOLATION and as_of < due:
        return _month_day(params.get("training_due", "12-01"), as_of.year - 1)
    return due


def _m14(severity: str, as_of: dt.date, params: dict[str, Any], result: Any) -> dt.date:
    # Assessed "by 03-31": a violation from the day after, the deadline the clause sets.
    return _month_day(params.get("assessment_due", "03-31"), as_of.year) + dt.timedelta(days=1)


def _required_date(severity: str, as_of: dt.date, params: dict[str, Any], result: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(result.required))
    except (TypeError, ValueError):
        return None


def _days_after_event(severity: str, as_of: dt.date, params: dict[str, Any], result: Any) -> dt.date | None:
    """Measured = days since the event (acceptance, leaving), required = days allowed: the deadline's day."""
    try:
        return as_of - dt.timedelta(days=int(result.measured)) + dt.timedelta(days=int(result.required))
    except (TypeError, ValueError):
        return None


DueRule = Callable[[str, dt.date, dict[str, Any], Any], dt.date | None]

# Rules whose clause or reading sets the date itself.
DUE_BY_RULE: dict[str, DueRule] = {
    "M12.worker_training": _m12,
    "M12.leader_training": _m12,
    "M14.annual_assessment": _m14,
    "M11.election_deadline": _required_date,
    "M08.handover": _days_after_event,
    "M15.exit_filing": _days_after_event,
    "M03.jurisdiction_dispute": _days_after_event,  # 裁定 by day 90 of the registered 未明确
    "M11.vacancy": _days_after_event,  # 补选 by day 90 of the oldest vacancy
    "M14.incompetent_decision": _days_after_event,  # a decision by day 60 of the 考核日期
}


def due_date(rule_id: str, *, severity: str, first_seen: dt.date, as_of: dt.date, params: dict[str, Any],
             result: Any, days: DeadlineDays) -> dt.date | None:
    """The 整改期限 of a failing result: none for a notice; the rule's own date; else first_seen + days."""
    if severity == Severity.NOTICE:
        return None
    own = DUE_BY_RULE.get(rule_id)
    if own is not None:
        found = own(severity, as_of, params, result)
        if found is not None:
            return found
    n = days(rule_id, first_seen)
    if n is None:
        n = days(f"{severity}_days", first_seen)
    return first_seen + dt.timedelta(days=n if n is not None else DEADLINE_DEFAULTS["violation_days"])


class Deadlines:
    """The deadline parameters (and M11's election months, which the election window reads), read once in one
    query and resolved by date in memory: ``days(name, on)`` is a DeadlineDays."""

    ELECTION = ("M11.election_deadline", "election_months")

    def __init__(self) -> None:
        self.rows = list(
            RuleParameter.objects.filter(Q(rule_id=DEADLINE_KEY) | Q(rule_id=self.ELECTION[0], name=self.ELECTION[1]))
            .order_by("effective_from", "created_at", "id").values_list("rule_id", "name", "value", "effective_from"))

    def _value(self, rule_id: str, name: str, on: dt.date, default: int | None) -> int | None:
        value = default
        for row_rule, row_name, row_value, since in self.rows:
            if row_rule == rule_id and row_name == name and since <= on:
                value = int(row_value)
        return value

    def __call__(self, name: str, on: dt.date) -> int | None:
        return self._value(DEADLINE_KEY, name, on, DEADLINE_DEFAULTS.get(name))

    def election_months(self, on: dt.date) -> int:
        default = int(RULES[self.ELECTION[0]].params[self.ELECTION[1]])
        return self._value(*self.ELECTION, on, default) or default


def deadline_days_loader() -> Deadlines:
    return Deadlines()


def deadline_params(as_of: dt.date) -> dict[str, int]:
    days = deadline_days_loader()
    return {name: days(name, as_of) or default for name, default in DEADLINE_DEFAULTS.items()}


def due_label(rule_id: str, severity: str, in_force: dict[str, int]) -> str:
    """The catalogue's 整改期限 of a rule, in words."""
    fixed = {
        "M12.worker_training": "当年 12-01（上年未培训的：上年 12-01）",
        "M12.leader_training": "当年 12-01（上年未培训的：上年 12-01）",
        "M14.annual_assessment": "当年 04-01",
        "M11.election_deadline": "批复日期起三个月的选举期限",
        "M08.handover": "验收后第 90 天",
        "M15.exit_filing": "离职后第 30 天",
        "M03.jurisdiction_dispute": "登记未明确后第 90 天（未登记日期的：首次发现后按天数）",
        "M11.vacancy": "出缺后第 90 天",
        "M14.incompetent_decision": "考核后第 60 天",
    }
    if rule_id in fixed:
        return fixed[rule_id]
    if severity == Severity.NOTICE:
        return "不设期限（提示）"
    days = in_force.get(f"{severity}_days", DEADLINE_DEFAULTS.get(f"{severity}_days", 30))
    return f"首次发现后 {days} 天"
