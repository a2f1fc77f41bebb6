"""整改措施 → 申请销号 → 退回 → 申请销号 → 销号, who may act, and 待我办理."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.models import FindingEvent, FindingStatus
from supervision import compat
from supervision.models import RectState, RectStep
from supervision.services import rectification_act

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
pytestmark = pytest.mark.django_db


def _png(name="整改照片.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def test_full_round_trip_is_in_the_history(make_community, finding_factory, clerk_qingnian, reviewer):
    f = finding_factory(community=make_community())
    today = dt.date.today()
    rectification_act(finding_id=f.pk, action="measures", user=clerk_qingnian, measures="增配工作人员两名",
                      expected_on=today + dt.timedelta(days=10))
    rectification_act(finding_id=f.pk, action="request", user=clerk_qingnian, note="已到岗", files=[_png()])
    rectification_act(finding_id=f.pk, action="return", user=reviewer, note="缺少聘用合同")
    with pytest.raises(ValidationError) as exc:  # still returned: a reviewer cannot close it now
        rectification_act(finding_id=f.pk, action="close", user=reviewer, note="同意")
    assert exc.value.code == "wrong_state"
    rectification_act(finding_id=f.pk, action="request", user=clerk_qingnian, note="补充合同", files=[_png("合同.png")])
    rectification_act(finding_id=f.pk, action="close", user=reviewer, note="材料齐全，同意销号")

    f.refresh_from_db()
    assert f.status != FindingStatus.OPEN and f.status != FindingStatus.WAIVED
    steps = list(RectStep.objects.filter(rectification__finding=f).order_by("id"))
    assert [s.action for s in steps] == ["measures", "request", "return", "request", "close"]
    assert [s.actor.username for s in steps] == ["clerk_qn", "clerk_qn", "reviewer", "clerk_qn", "reviewer"]
    assert f.rectification.state == RectState.CLOSED
    assert steps[1].attachments.count() == 1
    kinds = list(FindingEvent.objects.filter(finding=f).exclude(kind="opened").values_list("kind", "user__username"))
    expected = [(compat.event_kind(a), u) for a, u in (("measures", "clerk_qn"), ("request", "clerk_qn"),
                                                       ("return", "reviewer"), ("request", "clerk_qn"),
                                                       ("close", "reviewer"))]
    assert kinds[-5:] == expected


def test_only_the_responsible_unit_records_and_only_reviewers_review(make_community, finding_factory, clerk_qingnian,
                                                                     clerk_zaoyuan, department_housing, reviewer):
    f = finding_factory(community=make_community())
    for outsider in (clerk_zaoyuan, department_housing):
        with pytest.raises(PermissionDenied):
            rectification_act(finding_id=f.pk, action="measures", user=outsider, measures="x",
                              expected_on=dt.date.today())
    rectification_act(finding_id=f.pk, action="measures", user=clerk_qingnian, measures="措施",
                      expected_on=dt.date.today())
    rectification_act(finding_id=f.pk, action="request", user=clerk_qingnian, note="已整改")
    with pytest.raises(PermissionDenied):
        rectification_act(finding_id=f.pk, action="close", user=clerk_qingnian, note="自己销号")
    assert not RectStep.objects.filter(action="close").exists()


def test_department_finding_is_the_departments(finding_factory, department_housing, clerk_qingnian, streets):
    f = finding_factory(rule_id="M08.handover", street=streets["qingnian"], unit="housing")
    with pytest.raises(PermissionDenied):
        rectification_act(finding_id=f.pk, action="measures", user=clerk_qingnian, measures="x",
                          expected_on=dt.date.today())
    step = rectification_act(finding_id=f.pk, action="measures", user=department_housing, measures="组织验收移交",
                             expected_on=dt.date.today())
    assert step.to_state == RectState.IN_PROGRESS


def test_reviewer_cannot_close_own_request(finding_factory, reviewer, reviewer2):
    f = finding_factory(rule_id="M06.district_adjustment", target_type="district", severity="warning",
                        unit="civil_affairs")
    rectification_act(finding_id=f.pk, action="measures", user=reviewer, measures="制定调整计划",
                      expected_on=dt.date.today())
    rectification_act(finding_id=f.pk, action="request", user=reviewer, note="计划已印发")
    with pytest.raises(PermissionDenied):
        rectification_act(finding_id=f.pk, action="close", user=reviewer, note="同意")
    rectification_act(finding_id=f.pk, action="close", user=reviewer2, note="同意")


@pytest.mark.parametrize("action,kwargs,code", [
    ("request", {"note": "已整改"}, "wrong_state"),  # no measures yet
    ("measures", {"measures": "", "expected_on": dt.date(2030, 1, 1)}, "condition_unmet"),
    ("measures", {"measures": "措施", "expected_on": None}, "condition_unmet"),
    ("measures", {"measures": "措施", "expected_on": dt.date(2000, 1, 1)}, "condition_unmet"),
])
def test_bad_input_writes_nothing(make_community, finding_factory, clerk_qingnian, action, kwargs, code):
    f = finding_factory(community=make_community())
    with pytest.raises(ValidationError) as exc:
        rectification_act(finding_id=f.pk, action=action, user=clerk_qingnian, **kwargs)
    assert exc.value.code == code
    assert not RectStep.objects.exists()


def test_return_needs_a_reason_and_bad_files_are_refused(make_community, finding_factory, clerk_qingnian, reviewer):
    f = finding_factory(community=make_community())
    rectification_act(finding_id=f.pk, action="measures", user=clerk_qingnian, measures="措施",
                      expected_on=dt.date.today())
    with pytest.raises(ValidationError) as exc:
        rectification_act(finding_id=f.pk, action="request", user=clerk_qingnian, note="x",
                          files=[SimpleUploadedFile("a.png", b"MZ not an image", content_type="image/png")])
    assert exc.value.code == "attachment_type"
    rectification_act(finding_id=f.pk, action="request", user=clerk_qingnian, note="已整改")
    with pytest.raises(ValidationError) as exc:
        rectification_act(finding_id=f.pk, action="return", user=reviewer, note="  ")
    assert exc.value.code == "condition_unmet"
    assert RectStep.objects.count() == 2


def test_stale_state_is_refused(make_community, finding_factory, clerk_qingnian):
    f = finding_factory(community=make_community())
    rectification_act(finding_id=f.pk, action="measures", user=clerk_qingnian, measures="措施",
                      expected_on=dt.date.today(), expected_state="pending")
    with pytest.raises(ValidationError) as exc:
        rectification_act(finding_id=f.pk, action="request", user=clerk_qingnian, note="x", expected_state="pending")
    assert exc.value.code == "stale_state"


def test_todo_lists_only_the_users_unit(client, make_community, finding_factory, streets, department_housing,
                                        clerk_qingnian):
    mine = finding_factory(rule_id="M08.handover", street=streets["qingnian"], unit="housing",
                           message="设施验收后未移交（住建）")
    finding_factory(rule_id="M19.work_funds", community=make_community(), unit="finance",
                    message="经费未足额（财政）")
    finding_factory(community=make_community(), message="户数不足（青年路）")
    finding_factory(rule_id="M15.exit_filing", target_type="person", street=streets["qingnian"],
                    unit="housing", message="张三离职未备案")
    client.force_login(department_housing)
    body = client.get(reverse("supervision:todo")).content.decode()
    assert "设施验收后未移交（住建）" in body
    assert "经费未足额（财政）" not in body and "户数不足（青年路）" not in body
    assert "张三" not in body  # person findings never reach a department
    client.force_login(clerk_qingnian)
    body = client.get(reverse("supervision:todo")).content.decode()
    assert "户数不足（青年路）" in body and "设施验收后未移交（住建）" not in body
    assert mine.pk


def test_todo_queries_do_not_grow(client, make_community, finding_factory, clerk_qingnian):
    finding_factory(community=make_community())
    client.force_login(clerk_qingnian)
    client.get(reverse("supervision:todo"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("supervision:todo"))
    for _ in range(6):
        finding_factory(community=make_community())
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("supervision:todo"))
    assert len(many) == len(few)


def test_finding_page_shows_the_panel_and_the_form_works(client, make_community, finding_factory, clerk_qingnian,
                                                         reviewer):
    f = finding_factory(community=make_community())
    client.force_login(clerk_qingnian)
    page = client.get(reverse("compliance:finding_detail", args=[f.pk])).content.decode()
    assert 'id="rectification"' in page and 'id="measures-form"' in page and 'id="review-form"' not in page
    r = client.post(reverse("supervision:finding_act", args=[f.pk]),
                    {"action": "measures", "expected_state": "pending", "m-measures": "补选", "m-expected_on": "2030-01-01"})
    assert r.status_code == 302
    assert RectStep.objects.filter(action="measures").count() == 1
    r = client.post(reverse("supervision:finding_act", args=[f.pk]),
                    {"action": "request", "expected_state": "in_progress", "r-note": "已补选", "r-files": _png()})
    client.force_login(reviewer)
    page = client.get(reverse("compliance:finding_detail", args=[f.pk])).content.decode()
    assert 'id="review-form"' in page and "整改照片.png" in page


def test_reviewer_todo_has_district_findings_and_the_review_queue(client, make_community, finding_factory,
                                                                  clerk_qingnian, reviewer):
    mca = finding_factory(rule_id="M17.district_targets", target_type="district", severity="warning",
                          unit="civil_affairs", message="全区监测点不足（民政）")
    street = finding_factory(community=make_community(), message="户数不足（青年路）")
    rectification_act(finding_id=street.pk, action="measures", user=clerk_qingnian, measures="合并",
                      expected_on=dt.date(2030, 1, 1))
    rectification_act(finding_id=street.pk, action="request", user=clerk_qingnian, note="已合并")
    client.force_login(reviewer)
    body = client.get(reverse("supervision:todo")).content.decode()
    assert 'id="review-table"' in body and "户数不足（青年路）" in body and "全区监测点不足（民政）" in body
    client.force_login(clerk_qingnian)
    body = client.get(reverse("supervision:todo")).content.decode()
    assert "全区监测点不足（民政）" not in body and 'id="review-table"' not in body
    assert mca.pk


def test_facility_acceptance_waits_for_the_unit_of_its_area(client, make_community, department_housing, streets):
    from accounts.models import DepartmentMembership
    from facilities.services import facility_create
    from supervision.selectors import facility_steps_waiting
    from tests.conftest import _user

    in_town = facility_create(code="SS-1", community=make_community(), name="青年路服务中心", kind="center",
                              building_area=800, activity_area=500, status="building")
    in_daxing = facility_create(code="SS-2", community=make_community(street="zaoyuan"), name="枣园服务中心",
                                kind="center", building_area=800, activity_area=500, status="building")
    daxing = _user("daxing_user", "部门用户")
    DepartmentMembership.objects.create(user=daxing, unit="daxing")
    assert [s["facility"] for s in facility_steps_waiting(department_housing)] == [in_town]
    assert [s["facility"] for s in facility_steps_waiting(daxing)] == [in_daxing]
