"""Who answers for a finding (责任单位/牵头单位 per rule), its 整改期限, 销号 and 待我办理 per role."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.access import forget_access
from accounts.models import DepartmentMembership, Unit
from compliance import catalogue, duties, services
from compliance.engine import evaluate_rules
from compliance.models import Finding, FindingEvent, FindingStatus
from compliance.rules import registry
from compliance.selectors import findings_for_unit
from facilities.services import facility_create

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 6, 30)


def run(*rule_ids, as_of=AS_OF):
    return evaluate_rules(rules=registry.select(rule_ids), as_of=as_of)


def member(user, unit):
    DepartmentMembership.objects.create(user=user, unit=unit)
    forget_access(user)
    return user


def accepted_facility(community, accepted_on, code):
    return facility_create(code=code, community=community, name="综合服务设施", kind="center",
                           building_area=Decimal("1000"), status="accepted", accepted_on=accepted_on)


def test_every_rule_has_a_declared_duty():
    assert set(duties.DUTIES) == set(catalogue.RULES)
    for rule_id, d in duties.DUTIES.items():
        assert d.responsible == duties.STREET or d.responsible in Unit.values, rule_id
        assert all(code in Unit.values for code in d.lead), rule_id


@pytest.mark.parametrize(("rule_id", "street", "kind", "unit", "lead"), [
    ("M08.handover", "610104001", "department", "housing", "civil_affairs"),
    ("M08.handover", "610104009", "department", "daxing", "civil_affairs"),
    ("M07.facility_area", "610104001", "street", "", "planning,housing"),
    ("M09.facility_debt", "610104001", "street", "", "planning,housing"),
    ("M19.work_funds", "610104001", "department", "finance", "civil_affairs"),
    ("M19.salary_share", None, "department", "finance", "civil_affairs"),
    ("M06.district_adjustment", None, "department", "civil_affairs", ""),
    ("M17.district_targets", None, "department", "civil_affairs", ""),
    ("M04.households", "610104001", "street", "", "civil_affairs"),
    ("M12.worker_training", "610104001", "street", "", "civil_affairs"),
    # A compound in no 街办 yet: 区民政局 must place it.
    ("M03.compound_unassigned", None, "department", "civil_affairs", "civil_affairs"),
])
def test_duty_follows_the_clause_division(rule_id, street, kind, unit, lead):
    d = duties.duty(rule_id)
    assert d.unit_for(street) == (kind, unit)
    assert d.lead_code == lead


def test_handover_finding_goes_to_the_accepting_department_by_area(make_community):
    qn, zy = make_community(street="qingnian"), make_community(street="zaoyuan")
    f_qn = accepted_facility(qn, AS_OF - timedelta(days=10), "SS-QN")
    f_zy = accepted_facility(zy, AS_OF - timedelta(days=100), "SS-ZY")
    run("M08.handover")
    by_key = {f.target_key: f for f in Finding.objects.filter(rule_id="M08.handover")}
    assert (by_key[f_qn.code].responsible_kind, by_key[f_qn.code].responsible_unit) == ("department", "housing")
    assert by_key[f_qn.code].responsible_name == "区住建局"
    assert by_key[f_zy.code].responsible_unit == "daxing"
    assert by_key[f_zy.code].lead_name == "区民政局"
    # The clause's own deadline: day 90 after acceptance.
    assert by_key[f_qn.code].due_date == f_qn.accepted_on + timedelta(days=90)
    assert by_key[f_zy.code].due_date == f_zy.accepted_on + timedelta(days=90)


def test_due_dates_by_severity_and_by_the_rules_own_dates(make_community):
    c = make_community(households=999)  # M04.households warning
    run("M04.households", "M04.boundaries")
    warning = Finding.objects.get(rule_id="M04.households")
    violation = Finding.objects.get(rule_id="M04.boundaries")
    assert warning.due_date == AS_OF + timedelta(days=60)
    assert violation.due_date == AS_OF + timedelta(days=30)
    # A later judging keeps the deadline counted from when the problem was first found.
    run("M04.households", as_of=AS_OF + timedelta(days=5))
    warning.refresh_from_db()
    assert warning.due_date == AS_OF + timedelta(days=60)
    assert c.code == warning.target_key


def test_due_date_parameter_per_rule_and_dated(make_community):
    from compliance.models import RuleParameter

    make_community(households=999)
    RuleParameter.objects.create(rule_id=duties.DEADLINE_KEY, name="M04.households", value=15,
                                 effective_from=date(2025, 1, 1), reason="测试")
    RuleParameter.objects.create(rule_id=duties.DEADLINE_KEY, name="violation_days", value=10,
                                 effective_from=date(2025, 7, 1), reason="测试：7月起")
    run("M04.households", "M04.boundaries")
    assert Finding.objects.get(rule_id="M04.households").due_date == AS_OF + timedelta(days=15)
    # The violation days in force on the day first found (06-30), not July's.
    assert Finding.objects.get(rule_id="M04.boundaries").due_date == AS_OF + timedelta(days=30)


@pytest.mark.parametrize(("rule_id", "severity", "as_of", "due"), [
    ("M12.worker_training", "warning", date(2025, 6, 30), date(2025, 12, 1)),
    ("M12.worker_training", "violation", date(2025, 6, 30), date(2024, 12, 1)),
    ("M12.worker_training", "violation", date(2025, 12, 1), date(2025, 12, 1)),
    ("M14.annual_assessment", "warning", date(2025, 3, 1), date(2025, 4, 1)),
    ("M14.annual_assessment", "violation", date(2025, 6, 30), date(2025, 4, 1)),
])
def test_rule_own_due_dates(rule_id, severity, as_of, due):
    params = dict(catalogue.RULES[rule_id].params)
    got = duties.due_date(rule_id, severity=severity, first_seen=as_of, as_of=as_of, params=params, result=None,
                          days=lambda name, on: duties.DEADLINE_DEFAULTS.get(name))
    assert got == due


def test_notices_have_no_deadline():
    got = duties.due_date("M16.embedded_services", severity="notice", first_seen=AS_OF, as_of=AS_OF, params={},
                          result=None, days=lambda name, on: 30)
    assert got is None


def test_data_resolved_finding_closes_as_data_passing_with_history(make_community):
    from communities.services import community_update

    c = make_community(households=999)
    run("M04.households")
    f = Finding.objects.get(rule_id="M04.households")
    community_update(community=c, households=1500)
    run("M04.households", as_of=AS_OF + timedelta(days=1))
    f.refresh_from_db()
    assert f.status == FindingStatus.RESOLVED
    assert f.get_status_display() == "数据已达标"
    assert list(f.events.values_list("kind", flat=True)) == ["opened", "resolved"]


def test_close_by_review_ends_the_finding_and_a_recurrence_opens_a_new_one(make_community, reviewer,
                                                                           clerk_qingnian):
    make_community(households=999)
    run("M04.households")
    f = Finding.objects.get(rule_id="M04.households")
    with pytest.raises(PermissionDenied):
        services.finding_close_by_review(finding=f, user=clerk_qingnian, note="已整改")
    with pytest.raises(ValidationError) as err:
        services.finding_close_by_review(finding=f, user=reviewer, note=" ")
    assert err.value.code == "close_note_required"
    services.finding_close_by_review(finding=f, user=reviewer, note="复核通过，予以销号")
    assert f.status == FindingStatus.CLOSED and f.get_status_display() == "已销号"
    event = FindingEvent.objects.get(finding=f, kind="closed")
    assert (event.user, event.note) == (reviewer, "复核通过，予以销号")
    with pytest.raises(ValidationError) as err:
        services.finding_close_by_review(finding=f, user=reviewer, note="再次")
    assert err.value.code == "finding_not_open"
    # Still failing later: a new problem, with its own deadline from its own first finding.
    later = AS_OF + timedelta(days=40)
    run("M04.households", as_of=later)
    new = Finding.objects.get(rule_id="M04.households", status=FindingStatus.OPEN)
    assert new.pk != f.pk and new.first_seen == later and new.due_date == later + timedelta(days=60)
    f.refresh_from_db()
    assert f.status == FindingStatus.CLOSED


class TestWaitingForMyUnit:
    """待我办理: a department user sees its own unit's findings, nothing of other units, no person's."""

    @pytest.fixture
    def findings(self, make_community):
        from funding.models import Allocation  # noqa: F401  (the funding rule reads allocations)

        qn, zy = make_community(street="qingnian"), make_community(street="zaoyuan")
        accepted_facility(qn, AS_OF - timedelta(days=10), "SS-QN")
        accepted_facility(zy, AS_OF - timedelta(days=10), "SS-ZY")
        run("M08.handover", "M19.work_funds", "M04.boundaries")
        return qn, zy

    def test_housing_sees_its_handover_only(self, findings, department_user):
        member(department_user, Unit.HOUSING)
        mine = list(findings_for_unit(department_user))
        assert [f.target_key for f in mine] == ["SS-QN"]
        assert {f.rule_id for f in mine} == {"M08.handover"}

    def test_daxing_sees_its_area(self, findings, department_user):
        member(department_user, Unit.DAXING)
        assert [f.target_key for f in findings_for_unit(department_user)] == ["SS-ZY"]

    def test_finance_sees_funds_not_handover(self, findings, department_user):
        member(department_user, Unit.FINANCE)
        mine = findings_for_unit(department_user)
        assert {f.rule_id for f in mine} == {"M19.work_funds"}
        assert mine.count() == 2

    def test_department_without_unit_sees_nothing(self, findings, department_user):
        assert not findings_for_unit(department_user).exists()

    def test_clerk_has_no_department_findings(self, findings, clerk_qingnian):
        assert not findings_for_unit(clerk_qingnian).exists()

    def test_reviewer_acts_for_civil_affairs(self, findings, reviewer):
        assert {f.responsible_unit for f in findings_for_unit(reviewer)} <= {"civil_affairs"}

    def test_person_findings_never_listed(self, department_user):
        from compliance.models import ResponsibleKind

        member(department_user, Unit.CIVIL_AFFAIRS)
        Finding.objects.create(rule_id="M13.archive", clause=13, target_type="person", target_key="P1", target_pk=1,
                               severity="warning", message="档案不全", responsible_kind=ResponsibleKind.DEPARTMENT,
                               responsible_unit="civil_affairs", first_seen=AS_OF, last_seen=AS_OF,
                               opened_at="2025-06-30T00:00:00Z")
        assert not findings_for_unit(department_user).exists()


def test_catalogue_page_shows_each_rules_units_and_deadline(reviewer):
    import re

    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(reviewer)
    text = client.get(reverse("compliance:rule_catalogue")).content.decode()

    def entry(rule_id):
        start = text.index(f'data-rule="{rule_id}"')
        return text[start:text.index("rule-entry", start + 1)]

    def field(rule_id, css):
        return re.search(rf'class="{css}">([^<]*)<', entry(rule_id)).group(1)

    assert field("M19.work_funds", "rule-responsible") == "区财政局"
    assert field("M19.work_funds", "rule-lead") == "区民政局"
    assert field("M08.handover", "rule-responsible") == "区住建局（大兴新区：大兴新区管委会）"
    assert field("M07.facility_area", "rule-lead") == "资源规划莲湖分局、区住建局"
    assert field("M04.households", "rule-responsible") == "所在街办"
    assert field("M12.worker_training", "rule-due").startswith("当年 12-01")
    assert field("M16.embedded_services", "rule-due") == "不设期限（提示）"
    assert 'id="deadline"' in text


@pytest.mark.parametrize("rule_id", ["M08.handover", "M15.exit_filing", "M03.jurisdiction_dispute", "M11.vacancy"])
def test_days_after_an_event_deadlines(rule_id):
    from compliance.rules import Result

    # Day 100 since the event, 90 allowed: the deadline was 10 days ago.
    r = Result(target_pk=1, key="k", community_id=None, passed=False, measured=100, required=90)
    got = duties.due_date(rule_id, severity="violation", first_seen=AS_OF, as_of=AS_OF, params={}, result=r,
                          days=lambda name, on: duties.DEADLINE_DEFAULTS.get(name))
    assert got == AS_OF - timedelta(days=10)
    # No event date recorded (M03's 未登记日期): the default days from first found.
    r.measured = "未登记日期"
    got = duties.due_date(rule_id, severity="warning", first_seen=AS_OF, as_of=AS_OF, params={}, result=r,
                          days=lambda name, on: duties.DEADLINE_DEFAULTS.get(name))
    assert got == AS_OF + timedelta(days=60)


def test_docs_table_of_duties_matches_the_code():
    from pathlib import Path

    from django.conf import settings

    text = (Path(settings.BASE_DIR) / "docs" / "clauses.md").read_text(encoding="utf-8")
    section = text[text.index("## Who answers and by when"):]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `M"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells[1:]
    assert set(rows) == set(catalogue.RULES)
    for rule_id, spec in catalogue.RULES.items():
        lead = duties.lead_labels(duties.duty(rule_id).lead_code) or "—"
        due = duties.due_label(rule_id, spec.severity, duties.DEADLINE_DEFAULTS)
        assert rows[rule_id] == [duties.responsible_label(rule_id), lead, due], rule_id
