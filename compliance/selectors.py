"""Reads of findings, scoped by who asks.

A clerk sees the findings of their own 街办 (its communities, and compounds
not yet given to a community) and the district-wide ones, read-only;
reviewers and administrators see every finding; department users their own unit's, never a person's.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import units_of
from accounts.roles import is_admin, is_department, is_reviewer
from communities.models import SubDistrict
from communities.selectors import sub_district_codes_for_user, sub_districts_for_user
from core.shortcuts import one_or_404
from funding.models import Allocation, FundingLevel

from .catalogue import RULES, Severity, Target
from .models import LIVE_STATUSES, Finding, FindingStatus, ResponsibleKind, Sweep, SweepFinding, SweepStatus
from .parameters import params_for_rules
from .rules import registry


def sees_whole_district(user) -> bool:
    return user.is_authenticated and (is_admin(user) or is_reviewer(user) or is_department(user))


def streets_for_user(user) -> QuerySet[SubDistrict]:
    """The 街办 whose findings the user sees (all of them for district-level roles)."""
    if sees_whole_district(user):
        return SubDistrict.objects.all()
    return sub_districts_for_user(user)


def street_codes_for_user(user) -> list[str]:
    """The codes of the 街办 ``sub_districts_for_user`` gives, read with the page's other rights (no query of
    the 街办 table unless the user holds a right on every 街办)."""
    codes = sub_district_codes_for_user(user)
    if codes is None:
        return list(SubDistrict.objects.values_list("code", flat=True))
    return codes


def findings_for_user(user) -> QuerySet[Finding]:
    """The one selector of findings for pages, the dashboard and every export (the compliance workbook too).

    A department user (资源规划/住建/大兴/财政) reads the findings of their own unit only (``findings_for_unit``),
    never a person's: person findings (措施十二至十五) carry names and 人员编号, which stay with the 街办 and
    区民政局 (issue 14)."""
    if not user.is_authenticated:
        return Finding.objects.none()
    if is_admin(user) or is_reviewer(user):
        return Finding.objects.all()
    if is_department(user):
        return findings_for_unit(user)
    return Finding.objects.filter(
        Q(sub_district_id__in=street_codes_for_user(user)) | Q(sub_district__isnull=True, target_type=Target.DISTRICT)
    )


def findings_for_unit(user) -> QuerySet[Finding]:
    """待我办理 of a department user: the findings whose 责任单位 is one of the user's units (accounts
    DepartmentMembership), never another unit's, never a person's (personal data stays with the 街办 and
    区民政局's reviewers on the findings pages). Reviewers act for 区民政局 (accounts.models.units_of)."""


    if not user.is_authenticated:
        return Finding.objects.none()
    units = sorted(units_of(user))
    if not units:
        return Finding.objects.none()
    return Finding.objects.filter(responsible_kind=ResponsibleKind.DEPARTMENT, responsible_unit__in=units).exclude(
        target_type=Target.PERSON)


def sweep_findings_for_user(user, sweep: Sweep):
    """A replay's snapshot, scoped as the live findings are (``user`` None: all of it, for commands)."""


    rows = SweepFinding.objects.filter(sweep=sweep)
    if user is None:
        return rows
    if not user.is_authenticated:
        return rows.none()
    if is_admin(user) or is_reviewer(user):
        return rows
    if is_department(user):
        # As findings_for_user: the department's own unit's rows, never a person's.
        return rows.filter(responsible_kind=ResponsibleKind.DEPARTMENT,
                           responsible_unit__in=sorted(units_of(user))).exclude(target_type=Target.PERSON)
    return rows.filter(Q(sub_district_id__in=street_codes_for_user(user))
                       | Q(sub_district__isnull=True, target_type=Target.DISTRICT))


def finding_for_user(user, pk) -> Finding:
    return one_or_404(findings_for_user(user).select_related("community", "sub_district", "waived_by"),
                      "没有找到这个问题，或您无权查看。", pk=pk)


def last_finished_sweep() -> Sweep | None:
    """The latest finished live sweep: the one the live findings were last confirmed by (replays excluded)."""
    return Sweep.objects.filter(status=SweepStatus.FINISHED, live=True).order_by("-finished_at", "-id").first()


def _scale(number) -> str:
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    return f"{number}"


def _group(number) -> str:
    """12000 → 12,000: figures a person reads are grouped by thousands."""
    if number is None or number == "":
        return "—"
    try:
        return f"{number:,}"
    except (TypeError, ValueError):
        return str(number)


def _work_funds(community, as_of) -> str:
    """实有 of 社区工作经费: the year's registered 市级/区级 配套 (one query)."""

    planned = dict(Allocation.objects.filter(community=community, year=as_of.year).values_list("level", "planned"))
    parts = []
    for level, label in ((FundingLevel.CITY, "市级"), (FundingLevel.DISTRICT, "区级")):
        value = planned.get(level)
        parts.append(f"{label}未登记" if value is None else f"{label} {_group(int(value) if value == value.to_integral() else value)} 元")
    return "、".join(parts)


def community_requirements(community, as_of, user=None) -> dict:
    """The community page's panel: its live findings and 应配 against 实有, clause by clause.

    The 两委/工作者 (措施十、十一) and 服务设施 (措施七、十六) figures are the
    staffing and facility panels' own, beside this one on the page; listing
    them here too showed the clerk each figure twice. Their findings stay in
    the findings column.

    应配 is computed from the community's own figures with the parameters in
    force on ``as_of``; 实有 is the community's figure, or what the rule
    measured when it fails. Three queries, whatever the number of rules.
    """

    # Whose findings: the same selector as the findings pages (a department user's unit only, no person's).
    base = Finding.objects.all() if user is None else findings_for_user(user)
    findings = list(
        base.filter(community=community, status__in=LIVE_STATUSES).order_by("clause", "rule_id", "target_key")
    )
    own = {f.rule_id: f for f in findings if f.target_type == Target.COMMUNITY and f.status == FindingStatus.OPEN}
    waived = {f.rule_id for f in findings if f.target_type == Target.COMMUNITY and f.status == FindingStatus.WAIVED}
    implemented = {r.id: r for r in registry.all()}
    params = params_for_rules(list(implemented.values()), as_of)

    def p(rule_id: str, name: str):
        if rule_id in params:
            return params[rule_id][name]
        return RULES[rule_id].params[name]

    rows: list[dict] = []

    def add(label: str, rule_id: str, required: str, actual: str = "", unit: str = "") -> None:
        finding = own.get(rule_id)
        if finding is not None:
            state, severity = "fail", finding.severity
            measured = finding.measured
            if measured not in (None, "") and not actual:
                actual = f"{_scale(measured)}{unit}"
        elif rule_id in waived:
            state, severity = "waived", ""
        elif rule_id in implemented:
            state, severity = "ok", ""
        else:
            state, severity = "unjudged", ""
        rows.append({"label": label, "rule_id": rule_id, "required": required, "actual": actual or "—",
                     "state": state, "severity": severity, "severity_label": Severity.label(severity),
                     "finding": finding})

    households, population = community.households, community.population
    add("户数", "M04.households",
        f"{_group(p('M04.households', 'min_households'))}～{_group(p('M04.households', 'max_households'))} 户",
        f"{_group(households)} 户")
    add("常住人口", "M04.population",
        f"{_group(p('M04.population', 'min_population'))}～{_group(p('M04.population', 'max_population'))} 人",
        f"{_group(population)} 人")
    filled = sum(1 for side in (community.east, community.south, community.west, community.north) if side)
    add("四至", "M04.boundaries", "东南西北四至齐全", f"已登记 {filled}/4")
    add("社区社会组织", "M17.social_orgs", f"不少于 {p('M17.social_orgs', 'min_social_orgs')} 个",
        f"{community.social_org_count} 个")
    add("环境和物业管理委员会", "M18.property_committee", "居委会下设",
        "已成立" if community.has_property_committee else "未成立")
    add("社区工作经费", "M19.work_funds",
        f"市级 {_group(p('M19.work_funds', 'city_funds'))} 元、区级 {_group(p('M19.work_funds', 'district_funds'))} 元",
        _work_funds(community, as_of))
    return {
        "community": community,
        "findings": findings,
        "open_count": sum(1 for f in findings if f.status == FindingStatus.OPEN),
        "rows": rows,
        "as_of": as_of,
    }
