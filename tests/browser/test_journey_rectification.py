"""整改 in the browser: a 青年路 clerk records 整改措施 and asks for 销号; a reviewer sends it back;
the clerk asks again; the reviewer closes it. Then the printable 督办单, 约谈通知 and 通报."""

import datetime as dt

import pytest
from django.urls import reverse

from .pages import log_in

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
NARROW = {"width": 390, "height": 844}
WIDE = {"width": 1366, "height": 768}


def _both_widths(page, screenshot, name):
    page.set_viewport_size(WIDE)
    screenshot(page, f"{name}-1366")
    page.set_viewport_size(NARROW)
    screenshot(page, f"{name}-390")
    page.set_viewport_size(WIDE)


def _overdue(community, rule_id, message, make):
    """The saved community's own finding (the rules judge it on save), made long overdue; or a new one."""
    from compliance.models import Finding

    today = dt.date.today()
    found = Finding.objects.filter(community=community, rule_id=rule_id, status="open").first()
    if found is None:
        return make(community=community, rule_id=rule_id, message=message)
    Finding.objects.filter(pk=found.pk).update(first_seen=today - dt.timedelta(days=230), message=message,
                                               due_date=today - dt.timedelta(days=200), last_seen=today)
    found.refresh_from_db()
    return found


def test_rectification_round_trip_and_printable_documents(live_server, streets, clerk_qingnian, reviewer, new_page,
                                                          screenshot, tmp_path):
    from playwright.sync_api import expect

    from accounts.roles import Role
    from communities.services import community_create
    from supervision.models import SupervisionDocument
    from tests.conftest import _user
    from tests.supervision.conftest import overdue_finding

    community = community_create(code="610104001001", name="莲湖路第一社区居委会", sub_district=streets["qingnian"],
                                 households=800, population=2400)
    finding = _overdue(community, "M04.households", "户数 800 户，低于下限 1000 户", overdue_finding)
    # A measured value as long as the work-funds rule's, to see it wrap on a phone.
    type(finding).objects.filter(pk=finding.pk).update(measured="市级未登记；区级未登记；已拨付市级0元、区级0元（共两级）")
    _overdue(community, "M07.outdoor_plaza", "室外活动广场 600 ㎡，低于 1000 ㎡", overdue_finding)
    photo = tmp_path / "整改照片.png"
    photo.write_bytes(PNG)

    clerk = new_page()
    log_in(clerk, live_server.url, clerk_qingnian.username)
    clerk.goto(live_server.url + reverse("supervision:todo"))
    expect(clerk.locator("#todo-table")).to_contain_text("户数 800 户")
    _both_widths(clerk, screenshot, "rectify-todo")
    clerk.locator(f"#todo-table a[href^='/compliance/findings/{finding.pk}/']").click()
    clerk.get_by_label("整改措施").fill("已报街办党工委研究，拟与相邻社区合并")
    clerk.get_by_label("预计完成日期").fill((dt.date.today() + dt.timedelta(days=30)).isoformat())
    clerk.get_by_role("button", name="登记整改措施").click()
    expect(clerk.locator("#rect-state")).to_have_text("整改中")
    clerk.get_by_label("整改情况说明").fill("合并方案已经居民议事会通过")
    clerk.locator("#request-form input[type=file]").set_input_files(str(photo))
    clerk.get_by_role("button", name="申请销号").click()
    expect(clerk.locator("#rect-state")).to_have_text("待复核（已申请销号）")
    expect(clerk.locator("#rect-steps")).to_contain_text("整改照片.png")

    checker = new_page()
    log_in(checker, live_server.url, reviewer.username)
    checker.goto(live_server.url + reverse("supervision:todo"))
    checker.locator("#review-table a").first.click()
    checker.get_by_label("复核意见 / 退回理由").fill("缺少区政府批复，请补充")
    checker.get_by_role("button", name="退回").click()
    expect(checker.locator("#rect-state")).to_have_text("已退回")
    _both_widths(checker, screenshot, "rectify-returned")
    checker.set_viewport_size(NARROW)
    # The 问题 card's values wrap inside the card: nothing is cut off at its edge (the table would scroll).
    overflow = checker.locator("#finding-measured").evaluate(
        "td => { const t = td.closest('table'); return t.scrollWidth - t.clientWidth; }")
    assert overflow <= 0
    checker.set_viewport_size(WIDE)

    clerk.reload()
    expect(clerk.locator("#rect-steps")).to_contain_text("缺少区政府批复")
    clerk.get_by_label("整改情况说明").fill("已补充区政府批复")
    clerk.get_by_role("button", name="申请销号").click()
    expect(clerk.locator("#rect-state")).to_have_text("待复核（已申请销号）")

    checker.reload()
    checker.get_by_label("复核意见 / 退回理由").fill("材料齐全，同意销号")
    checker.get_by_role("button", name="复核通过，销号").click()
    expect(checker.locator("#rect-state")).to_have_text("已销号")
    expect(checker.locator("#finding-status")).to_have_text("已销号")
    history = checker.locator("#event-table")
    for kind in ("整改措施", "申请销号", "退回", "销号"):
        expect(history).to_contain_text(kind)
    _both_widths(checker, screenshot, "rectify-closed")
    finding.refresh_from_db()
    assert finding.status == "closed"

    # 督办单 and 约谈通知 for 青年路街道 (its other finding is long overdue).
    numbers = []
    for button, title in (("督办单", "督 办 单"), ("约谈通知", "约 谈 通 知")):
        checker.goto(live_server.url + reverse("supervision:document_list"))
        checker.locator("#ladder-table tr", has_text="青年路街道").get_by_role("button", name=button).click()
        expect(checker.locator(".doc-title")).to_have_text(title)
        expect(checker.locator("#gov-doc")).to_contain_text("室外活动广场面积不低于1000平方米")
        numbers.append(checker.locator("#doc-no").inner_text())
        checker.emulate_media(media="print")
        screenshot(checker, f"rectify-{'supervise' if button == '督办单' else 'interview'}-print")
        checker.emulate_media(media="screen")
        checker.set_viewport_size(NARROW)
        screenshot(checker, f"rectify-{'supervise' if button == '督办单' else 'interview'}-390")
        checker.set_viewport_size(WIDE)
        with checker.expect_download() as download:
            checker.locator("#doc-download").click()
        assert download.value.suggested_filename.endswith(".html")
    assert len(set(numbers)) == 2 and SupervisionDocument.objects.count() == 2

    # A monthly 通报: drafted, reviewed by another reviewer, issued, printed and downloaded.
    checker.goto(live_server.url + reverse("supervision:bulletin_list"))
    checker.get_by_role("button", name="起草").click()
    expect(checker.locator("#bulletin-state")).to_have_text("草稿")
    bulletin_url = checker.url
    other = _user("reviewer_b", Role.REVIEWER.value)
    second = new_page()
    log_in(second, live_server.url, other.username)
    second.goto(bulletin_url)
    second.get_by_role("button", name="审核通过").click()
    expect(second.locator("#bulletin-state")).to_have_text("已审核")
    checker.reload()
    checker.get_by_role("button", name="签发印发").click()
    expect(checker.locator("#bulletin-state")).to_have_text("已印发")
    expect(checker.locator("#doc-no")).to_contain_text("莲民通")
    checker.emulate_media(media="print")
    screenshot(checker, "rectify-bulletin-print")
    checker.emulate_media(media="screen")
    with checker.expect_download() as download:
        checker.locator("#bulletin-download").click()
    assert download.value.suggested_filename.endswith(".html")
