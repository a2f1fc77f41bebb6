"""One set of records of 青年路街道 (and a neighbour in 枣园) that fills every URL's arguments.

Built once per test module inside a transaction that is rolled back at the
end (see ``world`` in test_permission_matrix.py and the fuzz tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.test import override_settings

ROLES = ("anonymous", "clerk_own", "clerk_other", "reviewer", "department", "admin")


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)


def _user(username, *groups, superuser=False, unit=None):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.models import DepartmentMembership

    user = get_user_model().objects.create_user(username=username, password=None, is_superuser=superuser,
                                                is_staff=superuser)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    if unit:
        DepartmentMembership.objects.create(user=user, unit=unit)
    return user


def build_world(media_root) -> World:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from accounts.roles import Role, ensure_role_groups
    from approvals.models import Attachment
    from approvals.services import request_act, request_create_new
    from communities.services import community_create, compound_create, sub_district_upsert
    from compliance.models import Finding, Sweep
    from facilities.services import facility_create
    from imports.services import upload_store
    from staffing import services as staffing
    from staffing.models import Body
    from tests.approvals.conftest import part, pdf
    from tests.compliance.pages import finding
    from tests.staffing import builders

    ensure_role_groups()
    qingnian = sub_district_upsert(code="610104001", name="青年路街道")
    zaoyuan = sub_district_upsert(code="610104008", name="枣园街道")
    w = World()
    w.users = {
        "anonymous": None,
        "clerk_own": _user("m_clerk_qn", Role.CLERK.value, qingnian.clerk_group.name),
        "clerk_other": _user("m_clerk_zy", Role.CLERK.value, zaoyuan.clerk_group.name),
        "reviewer": _user("m_reviewer", Role.REVIEWER.value),
        "department": _user("m_dept", Role.DEPARTMENT.value, unit="housing"),
        "admin": _user("m_admin", superuser=True),
    }
    clerk = w.users["clerk_own"]
    community = community_create(code="610104001001", name="莲湖路第一社区居委会", sub_district=qingnian,
                                 households=1180, population=3892, east="东", south="南", west="西", north="北")
    other_community = community_create(code="610104008001", name="枣园社区", sub_district=zaoyuan, households=1200,
                                       population=4000)
    compound = compound_create(code="XQ-1", name="北院", community=community, households=1180)
    facility = facility_create(code="SS-100", community=community, name="莲湖路第一社区服务中心", kind="center",
                               building_area=1100, activity_area=700)
    worker = builders.worker(community, who=builders.person("王秀兰"))
    leaving = builders.worker(community, who=builders.person("李建国"))
    procedure = staffing.exit_start(employment=leaving, kind="resignation", on=date(2025, 5, 1),
                                    leave_on=date(2025, 5, 10), user=clerk)
    seat = builders.seat(community, Body.COMMITTEE, "director")
    vacancy = staffing.vacancy_create(community=community, body=Body.COMMITTEE, role="member",
                                      vacated_on=date(2025, 1, 1))
    found = finding(community=community)
    # A person's finding (names the person, keyed by 人员编号) and one of the department user's unit (区住建局).
    person_found = finding(community=community, rule_id="M12.worker_training",
                           message=f"{worker.person.name}2025年度尚未参加全员培训")
    Finding.objects.filter(pk=person_found.pk).update(target_key=worker.person.public_id, target_pk=worker.person.pk)
    unit_found = finding(community=community, rule_id="M08.handover", responsible_kind="department",
                         responsible_unit="housing", message="验收合格已超过90天未移交街办")
    # 枣园 asks for 青年路's worker: 青年路 (the releasing 街办) or a reviewer decides.
    transfer = staffing.transfer_request(id_number=worker.person.id_number, to_community=other_community,
                                         user=w.users["clerk_other"])
    sweep = Sweep.objects.create(as_of=timezone.localdate(), status="finished", finished_at=timezone.now())
    req = request_create_new(user=clerk, sub_district=qingnian, title="新设大兴东社区",
                             part=part("610104001050", "大兴东社区居委会"))
    request_act(request_id=req.pk, expected_state=req.state, user=clerk, opinion="居民议事会同意",
                data={"residents_agreed": True}, files=[pdf()])
    req.refresh_from_db()
    attachment = Attachment.objects.get(record__request=req)
    upload = upload_store(user=clerk, file=SimpleUploadedFile("社区.csv", "社区代码,社区名称\n".encode()))
    from supervision import services as supervision
    from supervision.models import RectAttachment

    reviewer = w.users["reviewer"]
    document = supervision.supervision_document_issue(user=reviewer, unit="青年路街道", kind="supervise")
    supervision.rectification_act(finding_id=found.pk, action="measures", user=clerk, measures="增配",
                                  expected_on=date(2030, 1, 1))
    supervision.rectification_act(finding_id=found.pk, action="request", user=clerk, note="已整改",
                                  files=[SimpleUploadedFile("整改.pdf", b"%PDF-1.4 test", content_type="application/pdf")])
    today = timezone.localdate()
    bulletin = supervision.bulletin_draft(user=reviewer, period_start=today.replace(day=1), period_end=today)
    assessment, _ = staffing.assessment_record(person=worker.person, year=2024, result="incompetent")
    # The clerk's own background export (人员台账, masked): only its owner may see or download it.
    from exports import services as exports

    export = exports.export_create(user=clerk, plan=exports.export_plan(user=clerk, kind="people"))
    export = exports.export_run(job=exports.export_claim(job_id=export.pk))
    w.objects = {
        "assessment": assessment,
        "community": community, "compound": compound, "facility": facility, "employment": worker,
        "person": worker.person, "exit": procedure, "seat": seat, "vacancy": vacancy, "finding": found,
        "person_finding": person_found, "unit_finding": unit_found,
        "sweep": sweep, "request": req, "part": req.parts.get(), "attachment": attachment, "upload": upload,
        "street": qingnian, "document": document, "bulletin": bulletin,
        "rect_attachment": RectAttachment.objects.get(),
        "transfer": transfer, "export": export,
    }
    return w


def world_records(django_db_blocker, tmp_path_factory):
    """The records, made once for a module and rolled back after it (the body of each module's fixture)."""
    # The media root every test sees (tests/conftest.py's autouse fixture), so the world's files are found.
    media = tmp_path_factory.getbasetemp() / "media"
    media.mkdir(exist_ok=True)
    with django_db_blocker.unblock(), override_settings(
        MEDIA_ROOT=str(media), PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world(media)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
