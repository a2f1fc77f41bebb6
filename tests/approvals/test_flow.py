"""The eight steps walked by the right people, refused to the wrong ones."""

import pytest
from django.core.exceptions import ValidationError

from approvals import flow
from approvals.models import Action, EstablishmentRequest, State, StepRecord
from approvals.services import request_create_merge, request_create_new, request_create_split
from communities.models import Community, CommunityStatus, Compound

from .conftest import CREDIT_CODES, DATES, ELECTION, act, part, pdf, step_kwargs, submit, walk

pytestmark = pytest.mark.django_db


def new_request(clerk, street, **overrides):
    return request_create_new(user=clerk, sub_district=street, title="新设大兴东社区",
                              part={**part("610104001050", "大兴东社区居委会"), **overrides})


def test_new_request_creates_community_in_preparation(clerk_qingnian, streets):
    from communities.services import compound_create

    free = compound_create(code="XQ-NEW", name="新建小区", sub_district=streets["qingnian"], households=1500)
    req = request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title="新设",
                             part=part("610104001050", "大兴东社区居委会"), compounds=[free])
    c = Community.objects.get(code="610104001050")
    assert c.status == CommunityStatus.PREPARING
    assert (c.households, c.east) == (1500, "莲湖路")
    free.refresh_from_db()
    assert free.community == c
    assert req.state == State.DRAFT and req.parts.get().community == c
    # The 街办's clerks get the new community through its group (guardian).
    assert clerk_qingnian.has_perm("communities.change_community", c)


def test_new_request_walks_eight_steps(clerk_qingnian, reviewer, streets):
    req = new_request(clerk_qingnian, streets["qingnian"])
    submit(req, clerk_qingnian)
    req = walk(req, reviewer, until=6)
    c = req.parts.get().community
    c.refresh_from_db()
    assert c.approved_on == DATES[6] and c.status == CommunityStatus.PREPARING and c.election_on is None
    req = walk_from(req, reviewer, 7)
    c.refresh_from_db()
    assert c.status == CommunityStatus.ACTIVE and c.election_on == ELECTION["election_on"]
    act(req, reviewer, **step_kwargs(8, req))
    req.refresh_from_db()
    assert req.state == State.COMPLETED
    assert req.parts.get().credit_code == CREDIT_CODES[0]
    assert list(req.records.values_list("step", flat=True)) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert req.records.get(step=1).attachments.count() == 1


def walk_from(req, reviewer, start):
    for step in range(start, 8):
        act(req, reviewer, **step_kwargs(step, req))
    req.refresh_from_db()
    return req


def test_split_walks_eight_steps_and_retires_source(clerk_qingnian, reviewer, community):
    north, south = Compound.objects.order_by("code")
    req = request_create_split(user=clerk_qingnian, source=community, title="拆分莲湖路第一社区", parts=[
        part("610104001051", "北社区", 3100, 9000, compounds=[north]),
        part("610104001052", "南社区", 3100, 9000, compounds=[south]),
    ])
    submit(req, clerk_qingnian)
    walk(req, reviewer, until=6)
    community.refresh_from_db()
    assert community.status == CommunityStatus.REVOKED and community.revoked_on == DATES[6]
    assert community.history.count() >= 2  # the old record and its history are kept
    new = {p.name: p.community for p in req.parts.all()}
    north.refresh_from_db()
    assert north.community == new["北社区"] and new["北社区"].approved_on == DATES[6]
    assert clerk_qingnian.has_perm("communities.change_community", new["南社区"])
    req = walk_from(req, reviewer, 7)
    act(req, reviewer, **step_kwargs(8, req))
    req.refresh_from_db()
    assert req.state == State.COMPLETED
    assert sorted(req.parts.values_list("credit_code", flat=True)) == sorted(CREDIT_CODES)
    assert set(Community.objects.filter(code__in=["610104001051", "610104001052"]).values_list("status", flat=True)) \
        == {CommunityStatus.ACTIVE}


def test_merge_walks_eight_steps(clerk_qingnian, reviewer, small_pair):
    a, b = small_pair
    req = request_create_merge(user=clerk_qingnian, sources=[a, b], title="合并甲乙",
                               result=part("610104001060", "甲乙社区", 1100, 3200))
    submit(req, clerk_qingnian)
    req = walk(req, reviewer, until=8)
    assert req.state == State.COMPLETED
    merged = req.parts.get().community
    assert merged.status == CommunityStatus.ACTIVE
    assert set(merged.compounds.values_list("code", flat=True)) == {"XQ-A", "XQ-B"}
    assert set(Community.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"revoked"}


def test_every_wrong_role_refused(clerk_qingnian, clerk_zaoyuan, reviewer, department_user, streets):
    req = new_request(clerk_qingnian, streets["qingnian"])
    for user in (clerk_zaoyuan, reviewer, department_user):
        with pytest.raises(ValidationError) as exc:
            submit(req, user)
        assert exc.value.code == "wrong_role"
    submit(req, clerk_qingnian)
    for step in range(2, 9):
        req.refresh_from_db()
        assert req.state == flow.BY_NUMBER[step].state
        for user in (clerk_qingnian, clerk_zaoyuan, department_user):
            with pytest.raises(ValidationError) as exc:
                act(req, user, **step_kwargs(step, req))
            assert exc.value.code == "wrong_role", (step, user)
        act(req, reviewer, **step_kwargs(step, req))
    assert StepRecord.objects.filter(request=req).count() == 8


def test_clerk_cannot_create_for_another_street(clerk_zaoyuan, streets):
    with pytest.raises(ValidationError) as exc:
        new_request(clerk_zaoyuan, streets["qingnian"])
    assert exc.value.code == "wrong_sub_district"
    assert not EstablishmentRequest.objects.exists() and not Community.objects.exists()


def test_self_approval_refused(streets, reviewer):
    """A user who is both the 街办's clerk and a reviewer cannot pass what they submitted."""
    from accounts.roles import Role
    from tests.conftest import _user

    both = _user("both", Role.CLERK.value, streets["qingnian"].clerk_group.name, Role.REVIEWER.value)
    req = new_request(both, streets["qingnian"])
    submit(req, both)
    with pytest.raises(ValidationError) as exc:
        act(req, both, **step_kwargs(2, req))
    assert exc.value.code == "own_submission"
    act(req, reviewer, **step_kwargs(2, req))
    with pytest.raises(ValidationError) as exc:
        act(req, both, **step_kwargs(3, req))
    assert exc.value.code == "own_submission"


def test_send_back_and_resubmit(clerk_qingnian, reviewer, streets):
    from approvals.services import part_update

    req = new_request(clerk_qingnian, streets["qingnian"], households=800, population=2400)
    submit(req, clerk_qingnian)
    with pytest.raises(ValidationError) as exc:
        act(req, reviewer, action=Action.SEND_BACK, opinion="  ")
    assert exc.value.code == "send_back_reason_required"
    act(req, reviewer, action=Action.SEND_BACK, opinion="户数不足1000户")
    req.refresh_from_db()
    assert req.state == State.DRAFT
    part_update(user=clerk_qingnian, part=req.parts.get(), households=1200, population=3600)
    assert req.parts.get().community.households == 1200
    submit(req, clerk_qingnian)
    act(req, reviewer, **step_kwargs(2, req))
    # A later step sends back one step only, to another reviewer step.
    act(req, reviewer, action=Action.SEND_BACK, opinion="市民政局意见文号有误")
    req.refresh_from_db()
    assert req.state == State.DISTRICT_REVIEW
    actions = list(req.records.values_list("step", "action", "to_state"))
    assert actions == [
        (1, "advance", State.DISTRICT_REVIEW), (2, "send_back", State.DRAFT), (1, "advance", State.DISTRICT_REVIEW),
        (2, "advance", State.CITY_CONSULT), (3, "send_back", State.DISTRICT_REVIEW),
    ]


def test_draft_cannot_be_sent_back_and_submitted_request_not_edited(clerk_qingnian, streets):
    from approvals.services import part_update

    req = new_request(clerk_qingnian, streets["qingnian"])
    with pytest.raises(ValidationError) as exc:
        act(req, clerk_qingnian, action=Action.SEND_BACK, opinion="x")
    assert exc.value.code == "no_previous_step"
    submit(req, clerk_qingnian)
    with pytest.raises(ValidationError) as exc:
        part_update(user=clerk_qingnian, part=req.parts.get(), households=2000)
    assert exc.value.code == "not_draft"


def test_conditions_report_unmet_reasons(clerk_qingnian, reviewer, streets):
    req = new_request(clerk_qingnian, streets["qingnian"], north="")
    with pytest.raises(ValidationError) as exc:
        act(req, clerk_qingnian, data={})
    assert exc.value.code == "condition_unmet"
    assert "缺北至" in exc.value.message and "居民同意" in exc.value.message
    req.parts.update(north="环城北路")
    submit(req, clerk_qingnian)
    act(req, reviewer, **step_kwargs(2, req))
    with pytest.raises(ValidationError) as exc:
        act(req, reviewer, opinion="同意")  # 市民政局's opinion without date and 文号
    assert "文号" in exc.value.message
    assert req.records.count() == 2


def test_stale_state_refused(clerk_qingnian, reviewer, reviewer2, streets):
    from approvals.services import request_act

    req = new_request(clerk_qingnian, streets["qingnian"])
    submit(req, clerk_qingnian)
    request_act(request_id=req.pk, expected_state=State.DISTRICT_REVIEW, user=reviewer, opinion="同意")
    with pytest.raises(ValidationError) as exc:
        request_act(request_id=req.pk, expected_state=State.DISTRICT_REVIEW, user=reviewer2, opinion="同意")
    assert exc.value.code == "stale_state" and "已由他人办理" in exc.value.message
    assert req.records.filter(step=2).count() == 1


def test_history_rows_cannot_be_edited_or_deleted(clerk_qingnian, streets):
    req = new_request(clerk_qingnian, streets["qingnian"])
    record = submit(req, clerk_qingnian)
    record.opinion = "改写"
    with pytest.raises(ValidationError):
        record.save()
    with pytest.raises(ValidationError):
        record.delete()
    assert StepRecord.objects.get(pk=record.pk).opinion == "居民议事会同意"


def test_split_must_place_every_compound(clerk_qingnian, community):
    north = Compound.objects.get(code="XQ-1")
    req = request_create_split(user=clerk_qingnian, source=community, title="拆分", parts=[
        part("610104001051", "北社区", compounds=[north]), part("610104001052", "南社区"),
    ])
    with pytest.raises(ValidationError) as exc:
        submit(req, clerk_qingnian)
    assert "未划入" in exc.value.message


@pytest.mark.parametrize(("code", "error"), [
    ("610104009001", "code_prefix"), ("61010400105", "code_format"), ("610104001001", "code_taken"),
])
def test_bad_part_code_writes_nothing(clerk_qingnian, community, code, error):
    with pytest.raises(ValidationError) as exc:
        request_create_split(user=clerk_qingnian, source=community, title="拆分", parts=[
            part(code, "北社区"), part("610104001052", "南社区"),
        ])
    assert error in {e.code for errs in exc.value.error_dict.values() for e in errs}
    assert not EstablishmentRequest.objects.exists()


def test_merge_needs_two_sources_of_own_street(clerk_qingnian, clerk_zaoyuan, small_pair):
    a, b = small_pair
    with pytest.raises(ValidationError) as exc:
        request_create_merge(user=clerk_qingnian, sources=[a], title="合并", result=part("610104001060", "x"))
    assert exc.value.code == "sources_too_few"
    with pytest.raises(ValidationError) as exc:
        request_create_merge(user=clerk_zaoyuan, sources=[a, b], title="合并", result=part("610104001060", "x"))
    assert exc.value.code == "wrong_sub_district"


def test_credit_code_check_digit(clerk_qingnian, reviewer, streets):
    req = new_request(clerk_qingnian, streets["qingnian"])
    submit(req, clerk_qingnian)
    walk(req, reviewer, until=7)
    p = req.parts.get()
    with pytest.raises(ValidationError) as exc:
        act(req, reviewer, data={"credit_codes": {str(p.pk): "91110108551385082A"}})
    assert "校验位" in exc.value.message
    act(req, reviewer, data={"credit_codes": {str(p.pk): "91110108551385082q"}})
    assert req.parts.get().credit_code == "91110108551385082Q"


def test_attachments_checked_by_content(clerk_qingnian, streets, settings):
    from .conftest import JPEG, PNG

    req = new_request(clerk_qingnian, streets["qingnian"])
    bad = [
        (pdf("伪装.pdf", b"MZ\x90\x00 not a pdf"), "attachment_type"),
        (pdf("图.png", b"%PDF-1.4 but named png"), "attachment_extension"),
        (pdf("空.pdf", b""), "attachment_empty"),
    ]
    for upload, code in bad:
        with pytest.raises(ValidationError) as exc:
            act(req, clerk_qingnian, opinion="x", data={"residents_agreed": True}, files=[upload])
        assert exc.value.code == code
    settings.APPROVALS_MAX_ATTACHMENT_BYTES = 1000
    with pytest.raises(ValidationError) as exc:
        act(req, clerk_qingnian, data={"residents_agreed": True}, files=[pdf("大.pdf", b"%PDF-" + b"0" * 2000)])
    assert exc.value.code == "attachment_too_large"
    assert not req.records.exists()
    record = act(req, clerk_qingnian, data={"residents_agreed": True},
                 files=[pdf("照片.png", PNG), pdf("现场.JPG", JPEG)])
    assert sorted(record.attachments.values_list("content_type", flat=True)) == ["image/jpeg", "image/png"]


def test_history_querysets_refuse_bulk_edits(clerk_qingnian, streets):
    from approvals.models import Attachment

    req = new_request(clerk_qingnian, streets["qingnian"])
    submit(req, clerk_qingnian)
    with pytest.raises(ValidationError):
        StepRecord.objects.filter(request=req).update(opinion="改写")
    with pytest.raises(ValidationError):
        Attachment.objects.all().delete()
    assert req.records.get().attachments.count() == 1


def test_split_sent_back_after_approval_is_approved_again_without_duplicates(clerk_qingnian, reviewer, community):
    import datetime as dt

    north, south = Compound.objects.order_by("code")
    req = request_create_split(user=clerk_qingnian, source=community, title="拆分", parts=[
        part("610104001051", "北社区", 3100, 9000, compounds=[north]),
        part("610104001052", "南社区", 3100, 9000, compounds=[south]),
    ])
    submit(req, clerk_qingnian)
    walk(req, reviewer, until=6)
    act(req, reviewer, action=Action.SEND_BACK, opinion="批复文号登记错误")
    req.refresh_from_db()
    assert req.state == State.GOV_APPROVAL
    act(req, reviewer, opinion="更正", document_no="莲政字〔2024〕66号", decided_on=dt.date(2024, 5, 8))
    assert Community.objects.filter(code__in=["610104001051", "610104001052"]).count() == 2
    assert set(Community.objects.filter(code__startswith="61010400105").values_list("approved_on", flat=True)) == {
        dt.date(2024, 5, 8)}
    community.refresh_from_db()
    assert community.revoked_on == DATES[6]
