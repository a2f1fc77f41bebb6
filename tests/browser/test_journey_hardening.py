"""Issue 8's three journeys in Chromium, each ending in a screenshot the test keeps and checks:

- a clerk fixes a community's data and watches its finding resolve;
- a reviewer takes a 新设 request through the eight steps to the ledger;
- an administrator changes a parameter with an effective date and exports the compliance workbook.
"""

import datetime as dt
import io
import zipfile

import pytest
from django.urls import reverse

from .pages import log_in

pytestmark = pytest.mark.browser

def kept(screenshot, page, name: str, *texts: str):
    """The last step of each journey: the page says what it should, and the picture of it is kept."""
    body = page.inner_text("body")
    for text in texts:
        assert text in body, f"{name}: the page does not show {text!r}"
    path = screenshot(page, name)
    assert path.is_file() and path.stat().st_size > 10_000, f"{path} is missing or empty"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_clerk_fixes_households_and_watches_the_finding_resolve(live_server, streets, clerk_qingnian, new_page,
                                                                  screenshot):
    from playwright.sync_api import expect

    from communities.services import community_create
    from compliance.models import Finding, FindingStatus

    # 500 households: below the 1000 of 措施四; the save's on-commit judgement opens the finding.
    small = community_create(code="610104001001", name="莲湖路第一社区居委会", sub_district=streets["qingnian"],
                             households=500, population=5200)
    finding = Finding.objects.get(rule_id="M04.households", target_key=small.code)
    assert finding.status == FindingStatus.OPEN

    page = new_page()
    log_in(page, live_server.url, clerk_qingnian.username)
    page.goto(live_server.url + reverse("communities:community_detail", args=[small.pk]))
    panel = page.locator("#compliance-panel")
    expect(panel.locator("#community-findings tr[data-rule='M04.households']")).to_be_visible()

    page.get_by_role("link", name="编辑", exact=True).click()
    page.get_by_label("户数").fill("1500")
    page.get_by_role("button", name="保存").click()

    # Also M06.adjustment_plan: a community of 1500 households is no longer 微型 and needs no merger plan.
    resolved = page.get_by_role("alert").filter(has_text="已整改")
    expect(resolved).to_contain_text("措施四·户数规模")
    expect(page.locator("#requirement-table tr[data-rule='M04.households']")).to_have_attribute("data-state", "ok")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    kept(screenshot, page, "journey-clerk-finding-resolved", "已保存：户数 500 → 1500", "已整改", "措施四·户数规模")


def test_reviewer_takes_a_new_community_request_to_the_ledger(live_server, streets, clerk_qingnian, reviewer,
                                                               new_page, screenshot):
    from playwright.sync_api import expect

    from approvals.flow import BY_NUMBER
    from approvals.models import EstablishmentRequest, State
    from approvals.services import request_create_new
    from tests.approvals.conftest import CREDIT_CODES, DATES, ELECTION, GOV_AGREED, LEDGER_EXCEPTION, part, submit

    req = request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title="新设大兴东社区",
                             part=part("610104001050", "大兴东社区居委会"))
    submit(req, clerk_qingnian)

    page = new_page()
    log_in(page, live_server.url, reviewer.username)
    page.goto(live_server.url + reverse("approvals:request_detail", args=[req.pk]))
    act = page.locator("#act-card")
    for step in range(2, 9):
        expect(page.locator("#request-state")).to_have_text(BY_NUMBER[step].state.label)
        act.locator("[name=act-opinion]").fill(f"第{step}步同意")
        if act.locator("[name=act-document_no]").count():
            act.locator("[name=act-document_no]").fill(f"莲政字〔2024〕{step}号")
            act.locator("[name=act-decided_on]").fill(DATES.get(step, dt.date(2024, 4, 20)).isoformat())
        for name, value in {**ELECTION, "gov_agreed_on": GOV_AGREED, "ledger_exception": LEDGER_EXCEPTION}.items():
            if act.locator(f"[name=act-{name}]").count():
                act.locator(f"[name=act-{name}]").fill(value if isinstance(value, str) else value.isoformat())
        credit = act.locator("input[name^=act-credit_]")
        for i in range(credit.count()):
            credit.nth(i).fill(CREDIT_CODES[i])
        page.locator("#advance-button").click()
        page.wait_for_load_state()
    expect(page.locator("#request-state")).to_have_text(State.COMPLETED.label)
    req.refresh_from_db()
    assert req.state == State.COMPLETED

    # The ledger lists a community under the year the 区政府常务会 approved it (step 6).
    page.goto(live_server.url + reverse("approvals:ledger") + f"?year={DATES[6].year}")
    expect(page.locator("body")).to_contain_text("大兴东社区居委会")
    assert EstablishmentRequest.objects.get(pk=req.pk).parts.get().community.status == "active"
    kept(screenshot, page, "journey-reviewer-ledger", "大兴东社区居委会", "610104001050")


def test_admin_changes_a_parameter_from_a_date_and_exports_the_workbook(live_server, streets, admin_user,
                                                                        new_page, screenshot, tmp_path):
    from playwright.sync_api import expect

    from communities.services import community_create
    from compliance.models import RuleParameter

    community_create(code="610104001001", name="莲湖路第一社区居委会", sub_district=streets["qingnian"],
                     households=500, population=5200)
    effective = dt.date.today() - dt.timedelta(days=1)

    page = new_page()
    log_in(page, live_server.url, admin_user.username)
    page.goto(live_server.url + reverse("compliance:rule_catalogue") + "#M04households")
    row = page.locator("#M04households tr[data-param='min_households']")
    row.locator("summary", has_text="调整").click()
    form = row.locator("form")
    form.locator("[name=value]").fill("800")
    form.locator("[name=effective_from]").fill(effective.isoformat())
    form.locator("[name=reason]").fill("按市民政局2024年通知调整下限")
    form.get_by_role("button", name="保存").click()
    page.wait_for_load_state()

    stored = RuleParameter.objects.get(rule_id="M04.households", name="min_households")
    assert (stored.value, stored.effective_from, stored.set_by_id) == (800, effective, admin_user.pk)
    row = page.locator("#M04households tr[data-param='min_households']")
    expect(row.locator(".param-current")).to_have_text("800")

    page.goto(live_server.url + reverse("compliance:dashboard"))
    with page.expect_download() as info:
        page.locator("#compliance-workbook").click()
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.suffix == ".xlsx"
    with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as book:
        assert "xl/workbook.xml" in book.namelist()
        workbook = book.read("xl/workbook.xml").decode()
    assert "<sheet " in workbook

    page.goto(live_server.url + reverse("compliance:rule_catalogue") + "#M04households")
    page.locator("#M04households tr[data-param='min_households'] summary", has_text="历次调整").click()
    kept(screenshot, page, "journey-admin-parameter-export", "按市民政局2024年通知调整下限",
         effective.strftime("%Y-%m-%d"))
