"""M07.*, M08.handover and M16.embedded_services at their boundaries."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities.models import Community
from communities.services import community_create, community_revoke
from compliance.parameters import params_for
from compliance.rules import registry
from facilities.services import facility_create

AS_OF = date(2025, 6, 30)


def run(rule_id, queryset=None, as_of=AS_OF):
    rule = registry.get(rule_id)
    qs = rule.target_queryset(as_of) if queryset is None else queryset
    return {r.key: r for r in rule.evaluate(qs, as_of, params_for(rule, as_of)) if not r.passed}


_seq = iter(range(1, 10_000))


def center(community, building, activity=None, status="in_use", **kw):
    return facility_create(
        code=f"SS-{next(_seq):04d}", community=community, name="综合服务设施", kind="center",
        building_area=Decimal(str(building)), activity_area=None if activity is None else Decimal(str(activity)),
        status=status, **kw,
    )


def plaza(community, site, status="in_use"):
    return facility_create(code=f"GC-{next(_seq):04d}", community=community, name="室外活动广场", kind="plaza",
                           site_area=Decimal(str(site)), status=status)


def embedded(community, category, status="in_use"):
    return facility_create(code=f"QR-{next(_seq):04d}", community=community, name="嵌入式设施", kind="embedded",
                           service_category=category, building_area=100, status=status)


@pytest.fixture
def make_community(streets):
    counter = iter(range(101, 999))

    def make(households=3500, founded_on=None):
        return community_create(code=f"610104001{next(counter):03d}", name="测试社区", sub_district=streets["qingnian"],
                                households=households, population=households * 3, founded_on=founded_on)

    return make


@pytest.mark.django_db
class TestFacilityArea:
    def test_3500_households_need_1050(self, make_community):
        enough, short = make_community(), make_community()
        center(enough, "1050")
        center(short, "1049.99")
        found = run("M07.facility_area")
        assert enough.code not in found
        assert found[short.code].measured == pytest.approx(1049.99)
        assert found[short.code].required == 1050
        assert found[short.code].message == "社区综合服务设施建筑面积 1049.99㎡，低于应配 1050㎡（3500户×30㎡/百户）"

    def test_new_small_community_needs_600(self, make_community):
        new = make_community(households=1999, founded_on=date(2024, 2, 29))
        center(new, "599.99")
        found = run("M07.facility_area")
        assert found[new.code].required == 600
        assert "不低于600㎡" in found[new.code].message
        center(new, "0.01")
        assert new.code not in run("M07.facility_area")

    def test_community_founded_the_day_before_needs_599_7(self, make_community):
        old = make_community(households=1999, founded_on=date(2024, 2, 28))
        center(old, "599.69")
        assert run("M07.facility_area")[old.code].required == pytest.approx(599.7)
        center(old, "0.01")
        assert old.code not in run("M07.facility_area")

    def test_new_community_with_2000_households_uses_the_ratio(self, make_community):
        c = make_community(households=2000, founded_on=date(2024, 3, 1))
        center(c, "599.99")
        assert run("M07.facility_area")[c.code].required == 600

    @pytest.mark.parametrize("status", ["planned", "building", "accepted", "closed"])
    def test_facilities_not_handed_over_count_for_nothing(self, make_community, status):
        c = make_community()
        extra = {"accepted_on": date(2025, 1, 1)} if status in ("accepted", "closed") else {}
        center(c, "5000", status=status, **extra)
        assert run("M07.facility_area")[c.code].measured == 0

    @pytest.mark.parametrize("status", ["handed_over", "in_use"])
    def test_handed_over_and_in_use_count(self, make_community, status):
        c = make_community()
        center(c, "600", status=status)
        center(c, "450", status=status)
        assert c.code not in run("M07.facility_area")

    def test_handover_after_the_as_of_date_has_not_happened(self, make_community):
        c = make_community()
        center(c, "2000", status="handed_over", accepted_on=date(2025, 6, 1), handed_over_on=date(2025, 7, 1))
        assert c.code in run("M07.facility_area", as_of=date(2025, 6, 30))
        assert c.code not in run("M07.facility_area", as_of=date(2025, 7, 1))

    def test_other_kinds_do_not_count(self, make_community):
        c = make_community()
        embedded(c, "elderly")
        plaza(c, 3000)
        assert run("M07.facility_area")[c.code].measured == 0

    def test_revoked_communities_are_not_judged(self, make_community):
        c = make_community()
        community_revoke(community=c, on=date(2025, 1, 1))
        assert c.code not in run("M07.facility_area")

    def test_one_query_for_many_communities(self, make_community):
        for _ in range(12):
            center(make_community(), "100")
        rule = registry.get("M07.facility_area")
        with CaptureQueriesContext(connection) as ctx:
            found = list(rule.evaluate(Community.objects.judged(), AS_OF, dict(rule.params)))
        assert len(found) == 12
        assert len(ctx.captured_queries) == 1


@pytest.mark.django_db
class TestPlaza:
    def test_999_fails_1000_passes(self, make_community):
        short, enough = make_community(), make_community()
        plaza(short, 999)
        plaza(enough, 600)
        plaza(enough, 400)
        found = run("M07.outdoor_plaza")
        assert enough.code not in found
        assert found[short.code].message == "室外活动广场面积 999㎡，低于 1000㎡"

    def test_planned_plaza_counts_for_nothing(self, make_community):
        c = make_community()
        plaza(c, 5000, status="planned")
        assert run("M07.outdoor_plaza")[c.code].measured == 0


@pytest.mark.django_db
class TestActivityShare:
    def test_59_99_fails_60_passes(self, make_community):
        short, enough = make_community(), make_community()
        center(short, "10000", "5999")
        center(enough, "10000", "6000")
        found = run("M07.activity_share")
        assert enough.code not in found
        assert found[short.code].measured == pytest.approx(59.99)
        assert found[short.code].required == 60

    def test_share_is_over_all_counting_centers(self, make_community):
        c = make_community()
        center(c, "1000", "1000")
        center(c, "1000", "200")  # 1200 / 2000 = 60%
        center(c, "3000", "0", status="closed")
        assert c.code not in run("M07.activity_share")

    def test_empty_denominator_fails_with_zero(self, make_community):
        c = make_community()
        center(c, "1000", "1000", status="planned")
        found = run("M07.activity_share")[c.code]
        assert found.measured == 0
        assert "没有计入的综合服务设施" in found.message


@pytest.mark.django_db
class TestHandover:
    def accepted(self, community, days_ago):
        return center(community, "1000", status="accepted", accepted_on=AS_OF - timedelta(days=days_ago))

    def test_day_90_warns_day_91_violates(self, make_community):
        c = make_community()
        day90, day91, day0 = self.accepted(c, 90), self.accepted(c, 91), self.accepted(c, 0)
        found = run("M08.handover")
        assert found[day90.code].severity == "warning"
        assert found[day90.code].measured == 90
        assert found[day91.code].severity == "violation"
        assert "已超过90天期限" in found[day91.code].message
        assert found[day0.code].severity == "warning"

    def test_handed_over_facility_has_no_finding(self, make_community):
        c = make_community()
        done = center(c, "1000", status="handed_over", accepted_on=date(2025, 1, 1), handed_over_on=date(2025, 6, 1))
        assert done.code not in run("M08.handover")

    def test_acceptance_after_as_of_has_not_happened(self, make_community):
        c = make_community()
        later = center(c, "1000", status="accepted", accepted_on=date(2025, 6, 1))
        assert later.code not in run("M08.handover", as_of=date(2025, 5, 31))

    def test_handover_dated_after_as_of_is_still_pending(self, make_community):
        c = make_community()
        f = center(c, "1000", status="handed_over", accepted_on=date(2025, 1, 1), handed_over_on=date(2025, 6, 1))
        assert run("M08.handover", as_of=date(2025, 5, 1))[f.code].severity == "violation"


@pytest.mark.django_db
class TestEmbeddedServices:
    def test_four_services_needed(self, make_community):
        full, partial = make_community(), make_community()
        for category in ("elderly", "infant", "childcare", "meals"):
            embedded(full, category)
        embedded(partial, "elderly")
        embedded(partial, "infant")
        embedded(partial, "childcare", status="closed")
        embedded(partial, "meals", status="planned")
        embedded(partial, "sports")
        found = run("M16.embedded_services")
        assert full.code not in found
        assert found[partial.code].severity == "notice"
        assert found[partial.code].message == "嵌入式服务设施缺少：儿童托管、社区助餐（已有 2/4 类）"


@pytest.mark.django_db(transaction=True)
def test_saving_a_facility_rejudges_its_community(make_community):
    from compliance.models import Finding

    c = make_community(households=1000)
    open_area = Finding.objects.filter(rule_id="M07.facility_area", target_key=c.code, status="open")
    assert open_area.exists()
    center(c, "300", "200")
    assert not open_area.exists()


@pytest.mark.django_db
class TestHandoverIsAboutCenters:
    def test_only_a_center_waits_for_handover(self, make_community):
        c = make_community()
        accepted = dict(status="accepted", accepted_on=AS_OF - timedelta(days=91))
        waiting = center(c, "1050", **accepted)
        other = facility_create(code=f"GC-{next(_seq):04d}", community=c, name="广场", kind="plaza",
                                site_area=Decimal("1000"), **accepted)
        found = run("M08.handover")
        assert waiting.code in found and other.code not in found

    def test_a_households_edit_rejudges_only_the_plan_among_facility_rules(self, make_community):
        from compliance.rejudge import targets_for

        c = make_community()
        plan = center(c, "10", status="planned")
        accepted = center(c, "1050", status="accepted", accepted_on=AS_OF - timedelta(days=10))
        old = Community.objects.get(pk=c.pk)
        quiet = targets_for(Community, [c, old], {"households"})
        # M08.planned_area reads 户数 (the standard moves with it); M08.handover and M19.* read only 撤销 status.
        assert quiet["M08.planned_area"] == {plan.pk}
        assert "M08.handover" not in quiet and "M19.residential_utilities" not in quiet
        assert targets_for(Community, [c, old], {"status"})["M08.handover"] == {plan.pk, accepted.pk}


@pytest.mark.django_db
def test_a_households_edit_of_a_community_rejudges_no_facility_rule(make_community, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    """The whole save path (community_update → commit → re-judge): the community's built, accepted, in-use and
    revoked-of facilities are not re-judged by any facility rule for a 户数 edit; 撤销 re-judges them."""
    from communities.services import community_update
    from compliance import rejudge
    from compliance.catalogue import Target

    asked: dict[str, set[int]] = {}
    real = rejudge.rejudge_now

    def spy(rule_targets, **kwargs):
        for rule_id, pks in rule_targets.items():
            asked.setdefault(rule_id, set()).update(pks)
        return real(rule_targets, **kwargs)

    monkeypatch.setattr(rejudge, "rejudge_now", spy)
    facility_rules = {r.id for r in registry.all() if r.target == Target.FACILITY}
    c = make_community()
    built = [center(c, "1050"), center(c, "1050", status="accepted", accepted_on=AS_OF - timedelta(days=100)),
             plaza(c, "1000"), embedded(c, "elderly")]
    asked.clear()
    with django_capture_on_commit_callbacks(execute=True):
        community_update(community=Community.objects.get(pk=c.pk), households=c.households + 500)
    assert asked.get("M04.households") == {c.pk}  # the community itself is re-judged
    assert not facility_rules & set(asked), {k: v for k, v in asked.items() if k in facility_rules}
    asked.clear()
    with django_capture_on_commit_callbacks(execute=True):
        community_revoke(community=Community.objects.get(pk=c.pk), reason="测试撤销")
    assert asked["M08.handover"] == {f.pk for f in built}


@pytest.mark.django_db
class TestPlannedArea:
    @pytest.mark.parametrize(("planned", "fails"), [("1049.99", True), ("1050", False)])
    def test_planned_center_against_the_standard(self, make_community, planned, fails):
        c = make_community(households=3500)
        plan = center(c, planned, status="planned")
        found = run("M08.planned_area")
        assert (plan.code in found) is fails
        if fails:
            assert (found[plan.code].required, found[plan.code].severity) == (1050, "violation")

    def test_counted_area_adds_to_the_plan(self, make_community):
        c = make_community(households=3500)
        center(c, "600")
        plan = center(c, "449.99", status="planned")
        assert plan.code in run("M08.planned_area")
        plan2 = center(c, "450", status="planned")
        found = run("M08.planned_area")
        assert plan2.code not in found

    def test_new_small_community_plans_600_and_follows_m07_parameters(self, make_community):
        from compliance.services import rule_parameter_set

        c = make_community(households=1000, founded_on=date(2024, 3, 1))
        plan = center(c, "599.99", status="planned")
        assert run("M08.planned_area")[plan.code].required == 600
        rule_parameter_set(rule_id="M07.facility_area", name="small_new_min_area", value=500,
                           effective_from=AS_OF, reason="试")
        assert plan.code not in run("M08.planned_area")
        assert plan.code in run("M08.planned_area", as_of=AS_OF - timedelta(days=1))

    def test_only_planned_centers_of_live_communities(self, make_community):
        c = make_community(households=3500)
        building = center(c, "10", status="building")
        found = run("M08.planned_area")
        assert building.code not in found


@pytest.mark.django_db
class TestResidentialUtilities:
    def test_no_violates_unrecorded_warns_yes_passes(self, make_community):
        c = make_community()
        no = center(c, "1050", residential_utilities=False)
        unknown = center(c, "1050")
        yes = center(c, "1050", residential_utilities=True)
        planned = center(c, "1050", status="planned", residential_utilities=False)
        found = run("M19.residential_utilities")
        assert found[no.code].severity == "violation" and found[unknown.code].severity == "warning"
        assert yes.code not in found and planned.code not in found



@pytest.mark.django_db
class TestPropertyFee:
    def _compound(self, community, fee):
        from communities.services import compound_create

        return compound_create(code=f"XQF{next(_seq):04d}", name="小区", community=community, households=300,
                               property_service="market", residential_property_fee=fee)

    @pytest.mark.parametrize(("fee", "fails"), [("1.80", False), ("1.81", True)])
    def test_fee_above_the_compounds_residential_fee(self, make_community, fee, fails):
        c = make_community()
        facility = center(c, "1050", compound=self._compound(c, Decimal("1.80")), property_fee=Decimal(fee))
        found = run("M19.property_fee")
        assert (facility.code in found) is fails
        if fails:
            assert (found[facility.code].measured, found[facility.code].required) == (pytest.approx(1.81), 1.8)

    def test_not_judged_without_all_three_records(self, make_community):
        c = make_community()
        no_fee = center(c, "1050", compound=self._compound(c, Decimal("1.00")))
        no_cap = center(c, "1050", compound=self._compound(c, None), property_fee=Decimal("5"))
        no_compound = center(c, "1050", property_fee=Decimal("5"))
        planned = center(c, "1050", status="planned", compound=self._compound(c, Decimal("1")), property_fee=Decimal("5"))
        assert not {no_fee.code, no_cap.code, no_compound.code, planned.code} & set(run("M19.property_fee"))

    def test_compound_of_another_community_refused(self, make_community):
        from django.core.exceptions import ValidationError

        c, other = make_community(), make_community()
        with pytest.raises(ValidationError) as excinfo:
            center(c, "1050", compound=self._compound(other, Decimal("1")))
        assert [e.code for e in excinfo.value.error_dict["compound"]] == ["compound_other_community"]


@pytest.mark.django_db
def test_a_new_facility_rejudges_its_communitys_planned_centers(make_community, monkeypatch,
                                                                django_capture_on_commit_callbacks):
    """facility_create names its row as new (created=True): the community's planned centers, whose test counts
    the area in use, are still re-judged (``_community_centers`` is marked ``new_rows``), and so is a new plan."""
    from compliance import rejudge

    asked: dict[str, set[int]] = {}
    real = rejudge.rejudge_now

    def spy(rule_targets, **kwargs):
        for rule_id, pks in rule_targets.items():
            asked.setdefault(rule_id, set()).update(pks)
        return real(rule_targets, **kwargs)

    monkeypatch.setattr(rejudge, "rejudge_now", spy)
    c = make_community(households=3500)
    plan = center(c, "449.99", status="planned")
    asked.clear()
    with django_capture_on_commit_callbacks(execute=True):
        center(c, "600")
    assert asked["M08.planned_area"] == {plan.pk}
    asked.clear()
    with django_capture_on_commit_callbacks(execute=True):
        second = center(c, "10", status="planned")
    assert asked["M08.planned_area"] == {plan.pk, second.pk}
