"""A 青年路 clerk proposes a new community and sees what it would fail; a reviewer
sends it back with those clauses; the clerk corrects it and submits again."""

import re

import pytest
from django.urls import reverse

from .pages import log_in

pytestmark = pytest.mark.browser

def test_clerk_submits_reviewer_sends_back_clerk_resubmits(
    live_server, clerk_qingnian, reviewer, new_page, screenshot, tmp_path
):
    from playwright.sync_api import expect

    from approvals.models import EstablishmentRequest, State

    clerk = new_page()
    log_in(clerk, live_server.url, clerk_qingnian.username)
    clerk.goto(live_server.url + reverse("approvals:request_list"))
    clerk.get_by_role("link", name="新设社区申请").click()
    clerk.get_by_label("申请名称").fill("新设大兴东社区")
    clerk.get_by_label("社区代码").fill("610104001050")
    clerk.get_by_label("社区名称").fill("大兴东社区居委会")
    clerk.get_by_label("户数").fill("800")
    clerk.get_by_label("常住人口").fill("2400")
    for label, value in (("东至", "莲湖路"), ("南至", "西大街"), ("西至", "北关正街"), ("北至", "环城北路")):
        clerk.get_by_label(label).fill(value)
    clerk.get_by_role("button", name="创建申请").click()

    findings = clerk.locator("#precheck-findings")
    expect(findings).to_be_visible()
    expect(findings.locator("tr[data-rule='M04.households']")).to_contain_text("800")
    expect(findings.locator("tr[data-rule='M07.facility_area']")).to_be_visible()
    expect(findings.locator("tr[data-rule='M10.committee_size']")).to_be_visible()
    screenshot(clerk, "approvals-precheck")

    material = tmp_path / "居民同意书.pdf"
    material.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    clerk.get_by_label("已征得居民同意").check()
    clerk.locator("#act-card input[type=file]").set_input_files(str(material))
    clerk.get_by_role("button", name="报送区民政局").click()
    expect(clerk.locator("#request-state")).to_have_text(State.DISTRICT_REVIEW.label)
    expect(clerk.locator("#timeline")).to_contain_text("居民同意书.pdf")
    req = EstablishmentRequest.objects.get()

    checker = new_page()
    log_in(checker, live_server.url, reviewer.username)
    checker.goto(live_server.url + reverse("approvals:request_detail", args=[req.pk]))
    reason = checker.get_by_label("退回理由")
    expect(reason).to_have_value(re.compile("措施四·户数规模（"))
    reason.fill(reason.input_value() + "\n请核实户数。")
    checker.get_by_role("button", name="退回").click()
    expect(checker.locator("#request-state")).to_have_text(State.DRAFT.label)
    screenshot(checker, "approvals-sent-back")

    clerk.reload()
    expect(clerk.locator("#timeline")).to_contain_text("请核实户数")
    clerk.get_by_role("link", name="修改", exact=True).click()
    clerk.get_by_label("户数").fill("1200")
    clerk.get_by_label("常住人口").fill("3600")
    clerk.get_by_role("button", name="保存").click()
    expect(clerk.locator("#precheck-findings tr[data-rule='M04.households']")).to_have_count(0)
    clerk.get_by_label("已征得居民同意").check()
    clerk.get_by_role("button", name="报送区民政局").click()
    expect(clerk.locator("#request-state")).to_have_text(State.DISTRICT_REVIEW.label)
    req.refresh_from_db()
    assert req.state == State.DISTRICT_REVIEW
    assert list(req.records.values_list("step", "action")) == [(1, "advance"), (2, "send_back"), (1, "advance")]
