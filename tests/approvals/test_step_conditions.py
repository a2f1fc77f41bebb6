"""措施五 and 附件: step dates in order and not in the future; 区政府研究同意 before the request goes to 市民政局
(step 3); step 7 lists a community in the 台账 only when it meets the rules, or with a reviewer's reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from approvals import flow
from approvals.models import State, StepRecord
from approvals.services import request_create_new
from communities.models import Community, CommunityStatus

from .conftest import ELECTION, GOV_AGREED, act, part, step_kwargs, submit, walk

pytestmark = pytest.mark.django_db

TODAY = dt.date(2024, 12, 31)


@pytest.fixture
def req(clerk_qingnian, streets):
    r = request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title="新设大兴东社区",
                           part=part("610104001050", "大兴东社区居委会"))
    submit(r, clerk_qingnian)
    return r


def refused(req, user, **kw) -> str:
    before = StepRecord.objects.count()
    with pytest.raises(ValidationError) as error:
        act(req, user, **kw)
    assert StepRecord.objects.count() == before  # nothing written
    return " ".join(error.value.messages)


def step3(**data):
    kw = step_kwargs(3, None)
    kw["data"] = {**kw["data"], **data}
    return kw


def test_step3_needs_the_district_government_agreement_on_or_before_the_city_opinion(req, reviewer):
    walk(req, reviewer, until=2)
    city_opinion = step_kwargs(3, None)["decided_on"]
    assert "区政府研究同意" in refused(req, reviewer, **step3(gov_agreed_on=None))
    message = refused(req, reviewer, **step3(gov_agreed_on=city_opinion + dt.timedelta(days=1)))
    assert "晚于市民政局意见日期" in message
    act(req, reviewer, **step3(gov_agreed_on=city_opinion))  # the same day: agreed, then reported
    req.refresh_from_db()
    assert req.state == State.CITY_OPINION
    assert StepRecord.objects.filter(request=req, step=3).get().data["gov_agreed_on"] == city_opinion.isoformat()


def test_step3_agreement_not_in_the_future(req, reviewer):
    walk(req, reviewer, until=2)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    message = refused(req, reviewer, **step3(gov_agreed_on=tomorrow))
    assert f"区政府研究同意日期 {tomorrow:%Y-%m-%d} 晚于今天" in message
    act(req, reviewer, **step3(gov_agreed_on=GOV_AGREED))


def test_step_dates_out_of_order_or_in_the_future_are_refused(req, reviewer):
    walk(req, reviewer, until=3)  # 市民政局 opinion dated 2024-03-01
    kw = step_kwargs(4, req)
    assert "早于上一环节的日期" in refused(req, reviewer, **{**kw, "decided_on": dt.date(2024, 2, 29)})
    future = dt.date.today() + dt.timedelta(days=1)
    assert "晚于今天" in refused(req, reviewer, **{**kw, "decided_on": future})
    act(req, reviewer, **{**kw, "decided_on": dt.date(2024, 3, 1)})  # the same day is in order
    for step in (5, 6):
        act(req, reviewer, **step_kwargs(step, req))
    # Step 7: the election before the approval, an inspection before the election, the final before the initial.
    kw = step_kwargs(7, req)
    for data, said in (
        ({"election_on": dt.date(2024, 5, 5)}, "早于批复日期"),
        ({"initial_inspection_on": dt.date(2024, 7, 19)}, "初验须在两委选举之后"),
        ({"final_inspection_on": dt.date(2024, 7, 31)}, "终验须在区民政局初验之后"),
        ({"final_inspection_on": future}, "晚于今天"),
    ):
        assert said in refused(req, reviewer, **{**kw, "data": {**kw["data"], **data}})


def test_step7_refuses_a_community_that_fails_a_rule_unless_a_reason_is_recorded(req, reviewer):
    walk(req, reviewer, until=6)
    kw = step_kwargs(7, req)
    message = refused(req, reviewer, **{**kw, "data": dict(ELECTION)})
    # No 两委 and no facilities: 措施七 and 措施十 fail, each named.
    assert "未达标" in message and "社区党组织班子3~5人" in message and "社区综合服务设施建筑面积达标" in message
    c = Community.objects.get(code="610104001050")
    assert c.status == CommunityStatus.PREPARING
    act(req, reviewer, **{**kw, "data": {**ELECTION, "ledger_exception": "设施已建成待验收，两委名单补录中"}})
    c.refresh_from_db()
    assert c.status == CommunityStatus.ACTIVE
    record = StepRecord.objects.get(request=req, step=7)
    assert record.data["ledger_exception"] == "设施已建成待验收，两委名单补录中"


def test_step7_lists_a_community_that_meets_the_rules_without_a_reason(req, reviewer, monkeypatch):
    walk(req, reviewer, until=6)
    # The community has its 四至; judged by M04.boundaries alone, it meets the standard.
    monkeypatch.setattr(flow, "LEDGER_RULES", ("M04.boundaries",))
    kw = step_kwargs(7, req)
    act(req, reviewer, **{**kw, "data": dict(ELECTION)})
    assert Community.objects.get(code="610104001050").status == CommunityStatus.ACTIVE
    assert flow.ledger_failures(req, TODAY) == []
