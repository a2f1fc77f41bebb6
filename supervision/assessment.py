"""年度目标责任考核 (措施二十): a scorecard per 街办 and per 区级部门 over six areas.

措施二十 names the areas: 组织建设、规模设置、阵地建设、队伍建设、能力建设、经费保障.
Every rule belongs to exactly one area (``RULE_AREA``, declared here and
printed on the method page). Scores are computed from the record each time,
never stored, so the same record always gives the same scores.

The method (``METHOD_DEFAULTS``; a value can be changed from a date by a
``RuleParameter`` row under the key ``assessment``, like the escalation
thresholds, so a past year keeps the values in force on its 31 December):

* each area starts at ``base`` points;
* a finding (违规 or 预警; 提示 have no 整改期限 and are not scored) deducts, for
  each day of the year it stayed open past its 整改期限, ``violation_day``
  (违规) or ``warning_day`` (预警) points. A day counts from the day after the
  deadline up to and including the day it closed (销号 or data resolved), or
  up to the assessment date while still open, within the year; one finding
  deducts at most ``finding_cap`` (so one long-forgotten finding cannot
  empty an area by itself, and the number of overdue findings tells);
* deductions in one area stop at ``area_cap``;
* a finding closed within the year on or before its 整改期限 earns
  ``ontime_credit`` points, up to ``credit_cap`` per area;
* the total is the plain average of the six areas, to two decimals;
* rank is by total, highest first, among units of the same kind
  (街办 among the 9 街办, 部门 among the departments); ties share a rank.

Waived findings (已豁免) are not scored. A finding answered for by several
units (a 责任单位 of "甲、乙") counts against each of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Unit
from compliance import catalogue
from compliance.catalogue import Severity
from compliance.models import Finding, FindingStatus, RuleParameter

from . import compat
from .reports import DEPARTMENT, STREET, rule_title, street_names

AREAS = ("组织建设", "规模设置", "阵地建设", "队伍建设", "能力建设", "经费保障")
ORG, SIZE, SITE, TEAM, ABILITY, FUNDS = AREAS

# Which of the six areas each rule's findings count in. Read from what the clause is about:
# 两委 and self-government are the community's organisation; boundaries, coverage and size its 规模;
# facilities and premises its 阵地; the workers' numbers, career and exits its 队伍; training,
# assessment and property services its 能力; money its 经费.
RULE_AREA: dict[str, str] = {
    "M01.sub_district": ORG,
    "M03.compound_unassigned": SIZE,
    "M03.compound_register": SIZE,
    "M03.jurisdiction_dispute": SIZE,
    "M04.boundaries": SIZE,
    "M04.households": SIZE,
    "M04.population": SIZE,
    "M06.adjustment_plan": SIZE,
    "M06.oversized_staffing": TEAM,
    "M06.district_adjustment": SIZE,
    "M07.facility_area": SITE,
    "M07.outdoor_plaza": SITE,
    "M07.activity_share": SITE,
    "M08.handover": SITE,
    "M08.planned_area": SITE,
    "M09.facility_debt": SITE,
    "M10.party_size": ORG,
    "M10.committee_size": ORG,
    "M10.cross_appointment": ORG,
    "M10.fulltime_share": ORG,
    "M10.total_cap": ORG,
    "M11.worker_ratio": TEAM,
    "M11.election_deadline": ORG,
    "M11.vacancy": ORG,
    "M12.worker_training": ABILITY,
    "M12.leader_training": ABILITY,
    "M13.post_grade": TEAM,
    "M13.archive": TEAM,
    "M13.grade_growth": TEAM,
    "M14.annual_assessment": ABILITY,
    "M14.incompetent_decision": TEAM,
    "M15.resignation_notice": TEAM,
    "M15.exit_filing": TEAM,
    "M15.approval_before_filing": TEAM,
    "M16.embedded_services": SITE,
    "M17.social_orgs": ORG,
    "M17.district_targets": ABILITY,
    "M18.property_service": ABILITY,
    "M18.property_committee": ORG,
    "M19.work_funds": FUNDS,
    "M19.salary_share": FUNDS,
    "M19.task_funds": FUNDS,
    "M19.residential_utilities": FUNDS,
    "M19.property_fee": FUNDS,
}

# The district departments the 措施 name that answer for findings (compliance.duties assigns findings to these
# accounts units only; 区发改委、区市场监管局 and the others the 措施 name as 配合单位 are given none).
DEPARTMENTS = tuple(str(u.label) for u in Unit)

ASSESSMENT_KEY = "assessment"
METHOD_EFFECTIVE = dt.date(2026, 1, 1)  # the defaults below were set for the 2026 assessment
METHOD_DEFAULTS: dict[str, Decimal] = {
    "base": Decimal("100"),
    "violation_day": Decimal("0.2"),
    "warning_day": Decimal("0.1"),
    "finding_cap": Decimal("5"),
    "area_cap": Decimal("40"),
    "ontime_credit": Decimal("1"),
    "credit_cap": Decimal("5"),
}
METHOD_LABELS = {
    "base": "每个方面的基础分",
    "violation_day": "违规问题逾期每天扣分",
    "warning_day": "预警问题逾期每天扣分",
    "finding_cap": "每个问题最多扣分",
    "area_cap": "每个方面扣分上限",
    "ontime_credit": "按期（期限内）整改销号每项加分",
    "credit_cap": "每个方面加分上限",
}
CENT = Decimal("0.01")


def method(year: int) -> dict[str, Decimal]:
    """The parameters in force on 31 December of ``year``."""
    out = dict(METHOD_DEFAULTS)
    rows = (RuleParameter.objects.filter(rule_id=ASSESSMENT_KEY, effective_from__lte=dt.date(year, 12, 31))
            .order_by("name", "effective_from", "created_at", "id").values_list("name", "value"))
    for name, value in rows:
        if name in out:
            out[name] = Decimal(str(value))
    return out


def method_history() -> list[RuleParameter]:
    return list(RuleParameter.objects.filter(rule_id=ASSESSMENT_KEY).select_related("set_by")
                .order_by("name", "effective_from", "created_at"))


@dataclass
class Item:
    """One finding's effect on one unit's area."""

    finding_id: int
    rule_id: str
    rule: str
    area: str
    severity: str
    target: str
    first_seen: dt.date
    due: dt.date
    closed: dt.date | None
    overdue_days: int
    deduction: Decimal
    credit: Decimal


@dataclass
class Card:
    unit: str
    kind: str
    areas: dict[str, Decimal] = field(default_factory=dict)
    deductions: dict[str, Decimal] = field(default_factory=dict)
    credits: dict[str, Decimal] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    total: Decimal = Decimal("0")
    rank: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "kind": self.kind, **{a: float(self.areas[a]) for a in AREAS},
                "total": float(self.total), "rank": self.rank}


def overdue_days(due: dt.date, closed: dt.date | None, start: dt.date, until: dt.date) -> int:
    """Days in [start, until] after ``due`` and up to the closing day (inclusive)."""
    first = max(due + dt.timedelta(days=1), start)
    last = min(closed, until) if closed is not None else until
    return max((last - first).days + 1, 0)


def assessment_date(year: int, today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    return min(dt.date(year, 12, 31), today)


def scorecard(year: int, *, as_of: dt.date | None = None) -> list[Card]:
    """Every 街办 and named department, scored for ``year`` from the record as of ``as_of``."""
    until = as_of or assessment_date(year)
    start = dt.date(year, 1, 1)
    m = method(year)
    streets = street_names()
    cards: dict[str, Card] = {}
    for name in sorted(streets):
        cards[name] = Card(unit=name, kind=STREET)
    for name in DEPARTMENTS:
        cards[name] = Card(unit=name, kind=DEPARTMENT)
    per_day = {Severity.VIOLATION: m["violation_day"], Severity.WARNING: m["warning_day"]}
    findings = (
        Finding.objects.exclude(severity=Severity.NOTICE).exclude(status=FindingStatus.WAIVED)
        .filter(first_seen__lte=until).select_related("sub_district")
        .order_by("pk")
    )
    for f in findings.iterator(chunk_size=2000):
        due = compat.due_date(f)
        if due is None:
            continue
        closed = compat.closed_on(f)
        if closed is not None and closed < start:
            continue
        area = RULE_AREA.get(f.rule_id)
        if area is None:
            continue
        days = overdue_days(due, closed, start, until)
        deduction = min(per_day.get(f.severity, Decimal("0")) * days, m["finding_cap"])
        on_time = closed is not None and start <= closed <= until and closed <= due
        credit = m["ontime_credit"] if on_time else Decimal("0")
        if not deduction and not credit:
            continue
        for unit in compat.finding_units(f):
            card = cards.get(unit)
            if card is None:
                continue
            card.items.append(Item(
                finding_id=f.pk, rule_id=f.rule_id, rule=rule_title(f.rule_id), area=area,
                severity=Severity.label(f.severity),
                target=f.target_label if f.target_type != catalogue.Target.PERSON else "人员",
                first_seen=f.first_seen, due=due, closed=closed, overdue_days=days, deduction=deduction,
                credit=credit,
            ))
    for card in cards.values():
        for area in AREAS:
            ded = sum((i.deduction for i in card.items if i.area == area), Decimal("0"))
            cre = sum((i.credit for i in card.items if i.area == area), Decimal("0"))
            card.deductions[area] = min(ded, m["area_cap"])
            card.credits[area] = min(cre, m["credit_cap"])
            card.areas[area] = (m["base"] - card.deductions[area] + card.credits[area]).quantize(
                CENT, rounding=ROUND_HALF_UP)
        card.total = (sum(card.areas.values(), Decimal("0")) / len(AREAS)).quantize(CENT, rounding=ROUND_HALF_UP)
    out = list(cards.values())
    for kind in (STREET, DEPARTMENT):
        group = sorted((c for c in out if c.kind == kind), key=lambda c: (-c.total, c.unit))
        for i, card in enumerate(group):
            card.rank = group[i - 1].rank if i and group[i - 1].total == card.total else i + 1
    out.sort(key=lambda c: (c.kind != STREET, c.rank, c.unit))
    return out


def workbook(year: int, cards: list[Card]) -> Any:
    from core.writer import DATE, NUMBER, Col, XlsxBook

    book = XlsxBook(in_memory=True)
    sheet = book.sheet(f"{year}年考核得分", [Col("类别", width=8), Col("排名", NUMBER, 6), Col("单位", width=20),
                                           *(Col(a, NUMBER, 10) for a in AREAS), Col("总分", NUMBER, 10)],
                       preamble=[[f"莲湖区{year}年度社区建设目标责任考核得分（措施二十）"],
                                 [f"按{assessment_date(year):%Y-%m-%d}的记录计算；计分办法见系统“考核办法”页"]])
    for c in cards:
        sheet.append([c.kind, c.rank, c.unit, *(float(c.areas[a]) for a in AREAS), float(c.total)])
    detail = book.sheet("扣分加分明细", [Col("单位", width=18), Col("方面", width=10), Col("规则编号", width=22),
                                     Col("规则", width=36), Col("严重程度", width=8), Col("对象", width=22),
                                     Col("首次发现", DATE, 12), Col("整改期限", DATE, 12), Col("整改/销号日期", DATE, 14),
                                     Col("逾期天数", NUMBER, 9), Col("扣分", NUMBER, 8), Col("加分", NUMBER, 8)])
    for c in cards:
        for i in c.items:
            detail.append([c.unit, i.area, i.rule_id, i.rule, i.severity, i.target, i.first_seen, i.due, i.closed,
                           i.overdue_days, float(i.deduction), float(i.credit)])
    return book
