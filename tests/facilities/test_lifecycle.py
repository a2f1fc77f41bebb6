"""The lifecycle table: each step by its own unit, none skipped, each recorded."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from facilities.lifecycle import TRANSITIONS
from facilities.services import facility_advance, facility_create


@pytest.fixture
def planned(community):
    return facility_create(code="SS-100", community=community, name="新建服务中心", kind="center",
                           building_area=1100, activity_area=700)


@pytest.mark.django_db
def test_full_lifecycle_by_the_units_the_clause_names(planned, planning_user, housing_user, civil_user,
                                                      clerk_qingnian):
    today = timezone.localdate()
    facility_advance(facility=planned, to_status="building", user=planning_user, note="规划条件已核")
    facility_advance(facility=planned, to_status="accepted", user=housing_user, on=today - timedelta(days=5))
    facility_advance(facility=planned, to_status="handed_over", user=civil_user, on=today - timedelta(days=2))
    facility_advance(facility=planned, to_status="in_use", user=clerk_qingnian)
    planned.refresh_from_db()
    assert planned.status == "in_use"
    assert planned.accepted_on == today - timedelta(days=5)
    assert planned.handed_over_on == today - timedelta(days=2)
    steps = list(planned.steps.values_list("step", "unit", "actor__username"))
    assert steps == [
        ("规划审批", "资源规划莲湖分局", "zrzy"),
        ("竣工验收", "区住建局", "zjj"),
        ("移交街办", "区民政局（会同青年路街道）", "mzj"),
        ("街办接收", "青年路街道", "clerk_qn"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["accepted", "handed_over", "in_use", "closed"])
def test_cannot_skip_a_step(planned, target, admin_user):
    with pytest.raises(ValidationError) as e:
        facility_advance(facility=planned, to_status=target, user=admin_user)
    assert e.value.error_dict["status"][0].code == "lifecycle_skip"
    planned.refresh_from_db()
    assert planned.status == "planned"
    assert not planned.steps.exists()


@pytest.mark.django_db
def test_cannot_go_back(planned, planning_user, admin_user):
    facility_advance(facility=planned, to_status="building", user=planning_user)
    with pytest.raises(ValidationError):
        facility_advance(facility=planned, to_status="planned", user=admin_user)


@pytest.mark.django_db
def test_department_cannot_act_on_another_units_step(planned, housing_user, civil_user, clerk_zaoyuan):
    for user in (housing_user, civil_user, clerk_zaoyuan):
        with pytest.raises(PermissionDenied):
            facility_advance(facility=planned, to_status="building", user=user)
    planned.refresh_from_db()
    assert planned.status == "planned"


@pytest.mark.django_db
def test_other_streets_clerk_cannot_receive(community, clerk_zaoyuan, clerk_qingnian):
    facility = facility_create(code="SS-101", community=community, name="移交中心", kind="center",
                               building_area=1100, status="handed_over", accepted_on=date(2024, 3, 1),
                               handed_over_on=date(2024, 4, 1))
    with pytest.raises(PermissionDenied):
        facility_advance(facility=facility, to_status="in_use", user=clerk_zaoyuan)
    facility_advance(facility=facility, to_status="in_use", user=clerk_qingnian)


@pytest.mark.django_db
def test_handover_dated_before_acceptance_is_refused(community, civil_user):
    facility = facility_create(code="SS-102", community=community, name="待移交", kind="center",
                               building_area=1100, status="accepted", accepted_on=date(2024, 3, 1))
    with pytest.raises(ValidationError) as e:
        facility_advance(facility=facility, to_status="handed_over", user=civil_user, on=date(2024, 2, 28))
    assert e.value.error_dict["status"][0].code == "lifecycle_condition"
    facility.refresh_from_db()
    assert facility.status == "accepted" and facility.handed_over_on is None


@pytest.mark.django_db
def test_closing_needs_a_reason(community, clerk_qingnian):
    facility = facility_create(code="SS-103", community=community, name="老中心", kind="center",
                               building_area=500, status="in_use")
    with pytest.raises(ValidationError):
        facility_advance(facility=facility, to_status="closed", user=clerk_qingnian)
    facility_advance(facility=facility, to_status="closed", user=clerk_qingnian, note="房屋鉴定为危房")


def test_table_is_a_single_path():
    sources = [t.source for t in TRANSITIONS]
    assert len(sources) == len(set(sources))
