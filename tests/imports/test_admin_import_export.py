"""The admin's import/export (django-import-export) on the import sheets: the sheets' columns and checks, the
formula-safe writer, ID numbers masked with the birth year, a bad row refusing the whole file."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import tablib
from django.test import Client

from communities.models import Community
from communities.resources import CommunityResource
from compliance.models import RuleParameter
from compliance.resources import RuleParameterResource
from core.resources import SafeCSV, SafeXLSX
from staffing.resources import PersonResource

from ..communities import builders as cb
from ..staffing import builders as sb

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/admin/communities/community/", "/admin/communities/community/import/", "/admin/communities/community/export/",
    "/admin/communities/compound/import/", "/admin/communities/compound/export/",
    "/admin/facilities/facility/import/", "/admin/facilities/facility/export/",
    "/admin/staffing/person/", "/admin/staffing/person/import/", "/admin/staffing/person/export/",
    "/admin/compliance/ruleparameter/", "/admin/compliance/ruleparameter/import/",
    "/admin/compliance/ruleparameter/export/",
]


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_answer_for_an_administrator(admin_client, url):
    assert admin_client.get(url).status_code == 200


def _xlsx_rows(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [[cell for cell in row] for row in sheet.iter_rows()]


def test_export_keeps_a_formula_as_text(streets):
    cb.community(streets["qingnian"], name="=1+1")
    dataset = CommunityResource().export(Community.objects.all())
    assert dataset.headers[:3] == ["社区代码", "社区名称", "街道办事处"]

    rows = _xlsx_rows(SafeXLSX().export_data(dataset))
    name = rows[1][1]
    assert name.value == "=1+1" and name.data_type == "s"
    assert rows[1][2].value == "青年路街道"

    lines = list(csv.reader(io.StringIO(SafeCSV().export_data(dataset).lstrip("\ufeff"))))
    assert lines[1][1] == "'=1+1"


def test_admin_export_download_is_formula_safe(admin_client, streets):
    cb.community(streets["qingnian"], name="@SUM(A1)")
    # The export form asks which columns: all of them, the sheet's own.
    fields = {f"communityresource_{h}": "on" for h in CommunityResource().fields}
    response = admin_client.post("/admin/communities/community/export/", {"format": "0", "resource": "0", **fields})
    assert "spreadsheetml" in response["Content-Type"]
    cells = [c for row in _xlsx_rows(b"".join(response.streaming_content) if response.streaming
                                     else response.content) for c in row]
    [cell] = [c for c in cells if c.value == "@SUM(A1)"]
    assert cell.data_type == "s"


def test_person_export_masks_every_number_with_the_birth_year(streets):
    number = sb.id_number("19850612")
    sb.person(name="张三", id_number=number)
    dataset = PersonResource().export()
    assert dataset.headers[:2] == ["身份证号", "出生年份"]
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["身份证号"] != number and row["身份证号"][:6] == number[:6] and row["身份证号"][-4:] == number[-4:]
    assert "19850612" not in row["身份证号"] and row["出生年份"] == 1985
    for written in (SafeXLSX().export_data(dataset), SafeCSV().export_data(dataset).encode()):
        assert number.encode() not in written
    cells = _xlsx_rows(SafeXLSX().export_data(dataset))
    assert cells[1][1].value == 1985 and cells[1][1].number_format == "0"


def test_admin_person_export_masks_for_the_administrator_too(admin_client, streets):
    number = sb.id_number("19850612")
    sb.person(name="张三", id_number=number)
    fields = {f"personresource_{h}": "on" for h in PersonResource().fields}
    response = admin_client.post("/admin/staffing/person/export/", {"format": "1", "resource": "0", **fields})
    body = (b"".join(response.streaming_content) if response.streaming else response.content).decode("utf-8-sig")
    assert "张三" in body and number not in body and "1985" in body


def _csv_upload(rows: list[list[str]]) -> io.BytesIO:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    upload = io.BytesIO(out.getvalue().encode("utf-8"))
    upload.name = "社区.csv"
    return upload


HEADER = ["社区代码", "社区名称", "街道办事处", "户数", "常住人口", "成立日期", "党组织类型", "东至", "南至", "西至",
          "北至", "社会组织数", "环境和物业管理委员会"]


def test_admin_import_of_a_bad_row_writes_nothing_and_says_why(admin_client, streets):
    good = ["610104001001", "甲社区", "青年路街道", "1200", "3000", "2020-01-01", "党委", "", "", "", "", "2", "是"]
    bad = ["610104001002", "乙社区", "青年路街道", "-5", "3000", "2020-01-01", "党委", "", "", "", "", "2", "是"]
    response = admin_client.post("/admin/communities/community/import/",
                                 {"format": "1", "resource": "0", "import_file": _csv_upload([HEADER, good, bad])})
    assert response.status_code == 200
    page = response.content.decode()
    assert "必须是非负整数" in page
    assert not Community.objects.exists()


def test_admin_import_checks_then_writes_on_confirmation(admin_client, streets):
    good = ["610104001001", "甲社区", "青年路街道", "1200", "3000", "2020-01-01", "党委", "", "", "", "", "2", "是"]
    response = admin_client.post("/admin/communities/community/import/",
                                 {"format": "1", "resource": "0", "import_file": _csv_upload([HEADER, good])})
    assert response.status_code == 200 and not Community.objects.exists()
    confirm = response.context["confirm_form"].initial
    response = admin_client.post("/admin/communities/community/process_import/", confirm)
    assert response.status_code == 302
    community = Community.objects.get(code="610104001001")
    assert community.households == 1200 and community.history.first().history_change_reason == "工作簿导入"


def test_good_rows_go_through_the_sheet(streets):
    good = ["610104001001", "甲社区", "青年路街道", "1200", "3000", "2020-01-01", "党委", "", "", "", "", "2", "是"]
    resource = CommunityResource()

    dataset = tablib.Dataset(good, headers=HEADER)
    dry = resource.import_data(dataset, dry_run=True)
    assert not dry.has_errors() and not dry.has_validation_errors() and not Community.objects.exists()
    result = resource.import_data(dataset, dry_run=False)
    assert not result.has_validation_errors()
    community = Community.objects.get(code="610104001001")
    assert community.households == 1200 and community.sub_district == streets["qingnian"]


def test_parameter_import_refuses_the_whole_file_for_one_bad_row(admin_user):
    headers = ["规则编号", "参数", "取值", "生效日期", "理由"]
    good = ["M04.households", "max_households", "8000", "2026-01-01", "区里调整"]
    dataset = tablib.Dataset(good, ["NO.SUCH.RULE", "x", "1", "2026-01-01", "试一试"], headers=headers)
    result = RuleParameterResource().import_data(dataset, dry_run=False, user=admin_user)
    assert result.has_validation_errors()
    assert "不存在" in str(result.invalid_rows[0].error)
    assert not RuleParameter.objects.exists()

    written = RuleParameterResource().import_data(tablib.Dataset(good, headers=headers), user=admin_user)
    assert not written.has_validation_errors()
    assert RuleParameter.objects.get().value == 8000
    exported = RuleParameterResource().export()
    assert exported.headers[:3] == ["规则编号", "参数", "取值"] and exported[0][2] == 8000
