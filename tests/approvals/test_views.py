"""The pages: scoped lists, create forms, the request page's actions, attachments, the 台账 and its xlsx."""

import datetime as dt
import io

import pytest
from django.urls import reverse

from approvals.models import EstablishmentRequest, State
from approvals.services import request_create_new
from communities.models import Community

from .conftest import part, pdf, submit, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_req(clerk_qingnian, streets):
    return request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title="新设大兴东",
                              part=part("610104001050", "大兴东社区居委会", 800, 2400))


def test_clerk_creates_new_request_through_the_form(client, clerk_qingnian, streets):
    client.force_login(clerk_qingnian)
    data = {**part("610104001050", "大兴东社区居委会", 800, 2400), "party_org_type": "branch",
            "sub_district": streets["qingnian"].pk, "title": "新设大兴东", "reason": "新建小区入住"}
    resp = client.post(reverse("approvals:request_new"), data)
    req = EstablishmentRequest.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("approvals:request_detail", args=[req.pk])
    page = client.get(resp.url).content.decode()
    assert "M04.households" in page and "预审" in page and "报送区民政局" in page


def test_form_refuses_bad_code_and_writes_nothing(client, clerk_qingnian, streets):
    client.force_login(clerk_qingnian)
    data = {**part("610104009050", "错代码"), "party_org_type": "branch", "sub_district": streets["qingnian"].pk,
            "title": "x"}
    resp = client.post(reverse("approvals:request_new"), data)
    assert resp.status_code == 200 and "前9位应为所属街道代码" in resp.content.decode()
    assert "提交未成功：请按各栏下方的提示修改后再提交。" in resp.content.decode()
    assert not EstablishmentRequest.objects.exists() and not Community.objects.exists()


def test_reviewer_cannot_open_create_forms(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("approvals:request_new")).status_code == 403


def test_list_is_scoped_and_other_street_gets_404(client, new_req, clerk_zaoyuan, clerk_qingnian, reviewer):
    client.force_login(clerk_zaoyuan)
    assert "新设大兴东" not in client.get(reverse("approvals:request_list") + "?view=all").content.decode()
    assert client.get(reverse("approvals:request_detail", args=[new_req.pk])).status_code == 404
    client.force_login(clerk_qingnian)
    assert "新设大兴东" in client.get(reverse("approvals:request_list")).content.decode()  # waiting for them
    client.force_login(reviewer)
    assert "新设大兴东" in client.get(reverse("approvals:request_list") + "?view=all").content.decode()


def test_only_the_users_own_actions_are_shown(client, new_req, clerk_qingnian, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("approvals:request_detail", args=[new_req.pk])).content.decode()
    assert 'id="advance-button"' not in page and "由属地街办办事员办理" in page
    submit(new_req, clerk_qingnian)
    page = client.get(reverse("approvals:request_detail", args=[new_req.pk])).content.decode()
    assert 'id="advance-button"' in page and 'id="send-back-button"' in page
    # The send-back form starts with the failing clauses.
    assert "预审发现以下不符合项" in page and "措施四·户数规模（" in page
    client.force_login(clerk_qingnian)
    page = client.get(reverse("approvals:request_detail", args=[new_req.pk])).content.decode()
    assert 'id="advance-button"' not in page


def test_send_back_through_the_page_then_stale_post(client, new_req, clerk_qingnian, reviewer):
    submit(new_req, clerk_qingnian)
    client.force_login(reviewer)
    url = reverse("approvals:request_act", args=[new_req.pk])
    resp = client.post(url, {"expected_state": State.DISTRICT_REVIEW, "action": "send_back",
                             "back-opinion": "户数不足"}, follow=True)
    assert "已退回到" in resp.content.decode()
    new_req.refresh_from_db()
    assert new_req.state == State.DRAFT
    # The same button pressed again from a stale page.
    resp = client.post(url, {"expected_state": State.DISTRICT_REVIEW, "action": "send_back",
                             "back-opinion": "户数不足"}, follow=True)
    assert "已由他人办理" in resp.content.decode()
    assert new_req.records.count() == 2


def test_bad_attachment_through_the_page(client, new_req, clerk_qingnian):
    client.force_login(clerk_qingnian)
    resp = client.post(reverse("approvals:request_act", args=[new_req.pk]), {
        "expected_state": State.DRAFT, "action": "advance", "act-residents_agreed": "on",
        "act-files": [pdf("假.pdf", b"GIF89a....")],
    }, follow=True)
    assert "不是 PDF、PNG 或 JPEG" in resp.content.decode()
    assert not new_req.records.exists()


def test_attachment_download_scoped(client, new_req, clerk_qingnian, clerk_zaoyuan, reviewer):
    record = submit(new_req, clerk_qingnian)
    att = record.attachments.get()
    client.force_login(reviewer)
    resp = client.get(reverse("approvals:attachment", args=[att.pk]))
    assert resp.status_code == 200 and b"".join(resp.streaming_content).startswith(b"%PDF-")
    client.force_login(clerk_zaoyuan)
    assert client.get(reverse("approvals:attachment", args=[att.pk])).status_code == 404


def test_overdue_highlighted(client, new_req, clerk_qingnian, reviewer):
    from approvals.services import deadline_set

    submit(new_req, clerk_qingnian)
    deadline_set(state=State.DISTRICT_REVIEW, days=1)
    EstablishmentRequest.objects.filter(pk=new_req.pk).update(
        state_since=new_req.state_since - dt.timedelta(days=3))
    client.force_login(reviewer)
    page = client.get(reverse("approvals:request_list")).content.decode()
    assert "table-danger" in page and "逾期" in page


def test_ledger_and_year_end_xlsx(client, new_req, clerk_qingnian, reviewer):
    import openpyxl

    submit(new_req, clerk_qingnian)
    walk(new_req, reviewer, until=8)
    client.force_login(reviewer)
    page = client.get(reverse("approvals:ledger") + "?year=2024").content.decode()
    assert "大兴东社区居委会" in page and "91350100M000100Y43" in page
    resp = client.get(reverse("approvals:year_end_report", args=[2024]))
    book = openpyxl.load_workbook(io.BytesIO(resp.content))
    sheet = book.active
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert rows[0][1:4] == ("大兴东社区居委会", "610104001050", "青年路街道")
    assert rows[0][-1] == "91350100M000100Y43"
    # A Chinese file name, RFC 5987-encoded (was new-communities-2024.xlsx).
    assert "filename*=UTF-8''%E8%8E%B2%E6%B9%96%E5%8C%BA2024" in resp["Content-Disposition"]
    assert sheet.page_setup.orientation == "landscape" and sheet.auto_filter.ref
    client.force_login(clerk_qingnian)
    assert client.get(reverse("approvals:year_end_report", args=[2024])).status_code == 403


def test_split_form_creates_request_with_parts(client, clerk_qingnian, community):
    from communities.models import Compound

    north, south = Compound.objects.order_by("code")
    client.force_login(clerk_qingnian)
    url = reverse("approvals:request_split") + f"?source={community.pk}"
    assert "北院" in client.get(url).content.decode()
    data = {"title": "拆分莲湖路第一社区", "reason": ""}
    for i, (code, name, compound) in enumerate([("610104001051", "北社区", north), ("610104001052", "南社区", south)]):
        data.update({f"p{i}-{k}": v for k, v in part(code, name, 3100, 9000).items()})
        data[f"p{i}-party_org_type"] = "branch"
        data[f"p{i}-compounds"] = [compound.pk]
    for i in (2, 3):
        data[f"p{i}-party_org_type"] = "branch"
    resp = client.post(url, data)
    req = EstablishmentRequest.objects.get()
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert [(p.name, [c.code for c in p.compounds.all()]) for p in req.parts.all()] == [
        ("北社区", ["XQ-1"]), ("南社区", ["XQ-2"])]
    assert list(req.sources.all()) == [community]


def test_merge_form_refuses_another_streets_community(client, clerk_zaoyuan, small_pair):
    a, b = small_pair
    client.force_login(clerk_zaoyuan)
    data = {**part("610104009060", "甲乙社区", 1100, 3200), "party_org_type": "branch", "title": "合并",
            "sources": [a.pk, b.pk]}
    resp = client.post(reverse("approvals:request_merge"), data)
    assert resp.status_code == 200 and not EstablishmentRequest.objects.exists()
    assert "sources" in resp.context["form"].errors


def test_merge_form_creates_request(client, clerk_qingnian, small_pair):
    a, b = small_pair
    client.force_login(clerk_qingnian)
    data = {**part("610104001060", "甲乙社区", 1100, 3200), "party_org_type": "branch", "title": "合并甲乙",
            "sources": [a.pk, b.pk]}
    resp = client.post(reverse("approvals:request_merge"), data)
    req = EstablishmentRequest.objects.get()
    assert resp.status_code == 302 and req.kind == "merge"
    assert set(req.parts.get().compounds.values_list("code", flat=True)) == {"XQ-A", "XQ-B"}


def test_each_step_has_one_name_shown_whole(client, new_req, clerk_qingnian):
    """The stepper cut step titles at 14 characters and step 6 had two names (状态 and 步骤)."""
    from approvals import flow
    from approvals.models import State

    for step in flow.STEPS:
        assert f"第{step.number}步 {step.short}" == str(State(step.state).label) == step.label
    client.force_login(clerk_qingnian)
    page = client.get(reverse("approvals:request_detail", args=[new_req.pk])).content.decode()
    steps = page.split('id="steps"')[1].split("</ol>")[0]
    assert "6. 区政府常务会审批" in steps and "…" not in steps
    assert 'title="区政府常务会批准，报市民政局备案' in steps
