"""A 青年路 clerk imports a workbook in a real browser: template, a refused row, the error workbook, the fix."""

from __future__ import annotations

import openpyxl
import pytest
from django.urls import reverse

from .pages import log_in

pytestmark = pytest.mark.browser

@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def fill(book, sheet: str, rows: list[dict]) -> None:
    ws = book[sheet]
    headers = [c.value for c in ws[1]]
    for n, row in enumerate(rows, start=2):
        for header, value in row.items():
            ws.cell(row=n, column=headers.index(header) + 1, value=value)


def community(code: str, name: str, households) -> dict:
    return {"社区代码": code, "社区名称": name, "街道办事处": "青年路街道", "户数": households, "常住人口": 3600,
            "成立日期": "2024-03-01", "党组织类型": "党支部", "东至": "青年路", "南至": "西大街", "西至": "北大街",
            "北至": "莲湖路", "社会组织数": 6, "环境和物业管理委员会": "是"}


def save(book, path) -> str:
    book.save(path)
    return str(path)


def test_clerk_imports_with_one_bad_row_fixed(live_server, streets, clerk_qingnian, new_page, screenshot, tmp_path):
    from playwright.sync_api import expect

    from communities.models import Community

    page = new_page()
    log_in(page, live_server.url, clerk_qingnian.username)
    page.get_by_role("link", name="导入导出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导入导出")

    with page.expect_download() as template:
        page.get_by_role("link", name="下载空白模板").click()
    assert template.value.suggested_filename.endswith(".xlsx")
    template.value.save_as(tmp_path / "模板.xlsx")
    book = openpyxl.load_workbook(tmp_path / "模板.xlsx")
    assert "说明" in book.sheetnames and "社区" in book.sheetnames
    fill(book, "社区", [community("610104001201", "青年路新一社区", 1100),
                       community("610104001202", "青年路新二社区", "一千二")])
    first = save(book, tmp_path / "社区导入.xlsx")

    page.set_input_files("#id_file", first)
    page.get_by_role("button", name="上传并检查").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("导入预览")
    refused = page.locator("table.refused-rows tr[data-row='3']")
    expect(refused).to_contain_text("户数")
    expect(refused).to_contain_text("必须是非负整数")
    expect(page.locator("#refused-note")).to_contain_text("整个文件都不会导入")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    screenshot(page, "import_preview_refused_row")
    assert not Community.objects.filter(code__in=["610104001201", "610104001202"]).exists()

    with page.expect_download() as errors:
        page.get_by_role("link", name="下载错误工作簿").click()
    errors.value.save_as(tmp_path / "错误.xlsx")
    fixed = openpyxl.load_workbook(tmp_path / "错误.xlsx")
    ws = fixed["社区"]
    headers = [c.value for c in ws[1]]
    assert headers[-1] == "错误" and "必须是非负整数" in ws.cell(row=3, column=len(headers)).value
    ws.cell(row=3, column=headers.index("户数") + 1, value=1200)
    second = save(fixed, tmp_path / "社区导入-已改.xlsx")

    page.get_by_role("link", name="上传其他文件").click()
    page.set_input_files("#id_file", second)
    page.get_by_role("button", name="上传并检查").click()
    summary = page.locator(".sheet-summary[data-sheet='社区']")
    expect(summary.locator(".created-count")).to_have_text("2")
    expect(summary.locator(".refused-count")).to_have_text("0")
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#import-done")).to_be_visible()
    screenshot(page, "import_confirmed")

    assert dict(Community.objects.filter(code__startswith="6101040012").values_list("code", "households")) == {
        "610104001201": 1100, "610104001202": 1200}
    assert reverse("imports:index") in page.content()
