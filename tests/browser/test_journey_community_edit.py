"""A 青年路 clerk corrects a community's 户数 in a real browser; the 枣园 clerk cannot open it."""

import re

import pytest
from django.urls import reverse

from .pages import log_in

pytestmark = pytest.mark.browser

@pytest.fixture
def lianhu_road_first(streets):
    from communities.services import community_create

    # 莲湖路第一社区's published figures.
    return community_create(
        code="610104001001",
        name="莲湖路第一社区居委会",
        sub_district=streets["qingnian"],
        households=1180,
        population=3892,
    )


def figure_row(page, label: str):
    return page.locator("tr").filter(has=page.locator("th", has_text=re.compile(rf"^\s*{label}\s*$")))


def test_clerk_changes_households_and_sees_value_and_history(
    live_server, lianhu_road_first, clerk_qingnian, clerk_zaoyuan, new_page, screenshot
):
    from playwright.sync_api import expect

    detail_url = live_server.url + reverse("communities:community_detail", args=[lianhu_road_first.pk])
    edit_url = live_server.url + reverse("communities:community_edit", args=[lianhu_road_first.pk])

    page = new_page()
    log_in(page, live_server.url, clerk_qingnian.username)

    page.goto(detail_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("莲湖路第一社区居委会")
    expect(figure_row(page, "户数")).to_contain_text("1,180")

    page.get_by_role("link", name="编辑", exact=True).click()
    expect(page).to_have_url(edit_url)
    households = page.get_by_label("户数")
    expect(households).to_have_value("1180")
    households.fill("1250")
    page.get_by_role("button", name="保存").click()

    expect(page).to_have_url(detail_url)
    # The page says what was saved, shows the new figure and the audit entry.
    expect(page.get_by_text("已保存")).to_be_visible()
    expect(page.get_by_text("已保存")).to_contain_text("1250")
    expect(figure_row(page, "户数")).to_contain_text("1,250")
    history = page.locator(".card").filter(has=page.get_by_text("修改记录", exact=True))
    newest = history.locator("tbody tr").first
    expect(newest).to_contain_text(clerk_qingnian.username)
    expect(newest).to_contain_text(re.compile(r"户数[：:]\s*1180\s*→\s*1250"))
    screenshot(page, "community_edit_saved_qingnian")

    lianhu_road_first.refresh_from_db()
    assert lianhu_road_first.households == 1250

    other = new_page()
    log_in(other, live_server.url, clerk_zaoyuan.username)
    for url in (detail_url, edit_url):
        response = other.goto(url)
        assert response is not None and response.status == 404, f"{url} answered {response and response.status}"
        expect(other.get_by_text("页面不存在").first).to_be_visible()
    expect(other.locator("body")).not_to_contain_text("莲湖路第一社区居委会")
    screenshot(other, "community_detail_404_zaoyuan")
