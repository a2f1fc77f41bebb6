"""M04.households and M09.facility_debt at their boundaries, through the engine."""

import datetime as dt
from datetime import date

import pytest

from compliance.engine import evaluate_rules
from compliance.models import Finding, FindingStatus
from compliance.rules import registry

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 6, 30)


def open_keys(rule_id):
    return set(Finding.objects.filter(rule_id=rule_id, status=FindingStatus.OPEN).values_list("target_key", flat=True))


@pytest.mark.parametrize(("households", "fails"), [(999, True), (1000, False), (5000, False), (5001, True)])
def test_households_boundaries(make_community, households, fails):
    c = make_community(households=households)
    evaluate_rules(rules=[registry.get("M04.households")], as_of=AS_OF)
    assert (c.code in open_keys("M04.households")) is fails
    if fails:
        f = Finding.objects.get(rule_id="M04.households")
        assert f.measured == households
        assert f.required == "1000~5000"
        assert f.severity == "warning"
        assert f.clause == 4
        assert f.sub_district_id == c.sub_district_id
        assert (f.responsible_kind, f.responsible_unit, f.responsible_name) == ("street", "", "青年路街道")
        assert (f.lead_unit, f.due_date) == ("civil_affairs", AS_OF + dt.timedelta(days=60))
        assert ("微型" if households < 1000 else "超大型") in f.message


def test_households_revoked_community_not_judged(make_community):
    from communities.services import community_revoke

    c = make_community(households=10)
    evaluate_rules(rules=[registry.get("M04.households")], as_of=AS_OF)
    assert open_keys("M04.households") == {c.code}
    community_revoke(community=c, on=date(2025, 1, 1))
    evaluate_rules(rules=[registry.get("M04.households")], as_of=AS_OF)
    assert open_keys("M04.households") == set()


@pytest.mark.parametrize(("built_on", "fails"), [(date(2011, 1, 31), False), (date(2011, 2, 1), True)])
def test_facility_debt_boundary(make_community, make_compound, built_on, fails):
    c = make_community()
    x = make_compound(community=c, built_on=built_on, must_provide_facility=True, facility_provided=False)
    evaluate_rules(rules=[registry.get("M09.facility_debt")], as_of=AS_OF)
    assert (x.code in open_keys("M09.facility_debt")) is fails
    if fails:
        f = Finding.objects.get(rule_id="M09.facility_debt")
        assert f.target_type == "compound"
        assert f.community_id == c.pk
        assert f.clause == 9


def test_facility_debt_needs_obligation_and_absence(make_community, make_compound):
    c = make_community()
    make_compound(community=c, built_on=date(2015, 1, 1), must_provide_facility=False)
    make_compound(community=c, built_on=date(2015, 1, 1), must_provide_facility=True, facility_provided=True)
    unassigned = make_compound(street=c.sub_district, built_on=date(2015, 1, 1), must_provide_facility=True)
    evaluate_rules(rules=[registry.get("M09.facility_debt")], as_of=AS_OF)
    assert open_keys("M09.facility_debt") == {unassigned.code}
    f = Finding.objects.get(rule_id="M09.facility_debt")
    assert f.community_id is None
    assert f.sub_district_id == c.sub_district_id


def test_facility_debt_not_yet_built_on_as_of(make_community, make_compound):
    c = make_community()
    make_compound(community=c, built_on=date(2020, 5, 1), must_provide_facility=True)
    evaluate_rules(rules=[registry.get("M09.facility_debt")], as_of=date(2020, 4, 30))
    assert open_keys("M09.facility_debt") == set()
