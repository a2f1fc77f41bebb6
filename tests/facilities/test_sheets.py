"""The 设施 sheet: all or nothing, row errors in Chinese with their codes."""

from datetime import date
from decimal import Decimal
from io import BytesIO, StringIO

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from facilities.models import Facility, FacilityStep
from facilities.services import facility_create
from imports.services import workbook_import

pytestmark = pytest.mark.django_db

HEADERS = ["设施编号", "社区代码", "设施名称", "类型", "服务类别", "建筑面积", "居民活动区域面积", "场地面积", "状态",
           "验收日期", "移交日期"]


def row(code, community="610104001001", name="党群服务中心", kind="综合服务设施", category=None, building=1200,
        activity=800, site=None, status="使用中", accepted=None, handed=None):
    return [code, community, name, kind, category, building, activity, site, status, accepted, handed]


def xlsx(sheets):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for r in rows:
            sheet.append(r)
    buffer = BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "设施.xlsx"
    return buffer


def issues(result):
    return [(i.sheet, i.row, i.column, i.code) for i in result.issues]


def test_good_rows_are_written(community):
    result = workbook_import(file=xlsx({"设施": [
        HEADERS,
        row("SS-1"),
        row("GC-1", kind="室外活动广场", building=None, activity=None, site=1000.5),
        row("QR-1", kind="嵌入式服务设施", category="社区助餐", building=150, activity=100, status="已移交",
            accepted="2024-05-01", handed="2024-06-01"),
    ]}))
    assert result.ok, issues(result)
    assert Facility.objects.get(code="GC-1").site_area == Decimal("1000.50")
    assert Facility.objects.get(code="QR-1").service_category == "meals"


def test_one_bad_row_writes_nothing(community):
    result = workbook_import(file=xlsx({"设施": [
        HEADERS,
        row("SS-1"),
        row("SS-2", activity=1300),
        row("QR-2", kind="嵌入式服务设施", category=None),
        row("GC-2", kind="室外活动广场", building=50, activity=None, site=1200),
        row("SS-3", building=-1, activity=None),
        row("SS-4", status="已移交", accepted="2024-06-02", handed="2024-06-01"),
        row("SS-5", community="610104001999"),
    ]}))
    assert not result.ok
    assert not Facility.objects.exists()
    found = issues(result)
    assert ("设施", 3, "居民活动区域面积", "activity_exceeds_building") in found
    assert ("设施", 4, "服务类别", "service_category_required") in found
    assert ("设施", 5, "建筑面积", "plaza_building_area") in found
    assert ("设施", 6, "建筑面积", "area_negative") in found
    assert ("设施", 7, "移交日期", "handover_before_acceptance") in found
    assert ("设施", 8, "社区代码", "unknown_community") in found
    messages = {i.row: i.message for i in result.issues}
    assert "不能大于建筑面积" in messages[3]


def test_status_change_must_follow_the_lifecycle(community):
    facility_create(code="SS-9", community=community, name="在建中心", kind="center", building_area=1200,
                    status="building")
    result = workbook_import(file=xlsx({"设施": [HEADERS, row("SS-9", status="已移交", accepted="2025-01-02",
                                                                handed="2025-02-01")]}))
    assert issues(result) == [("设施", 2, "状态", "lifecycle_skip")]
    assert Facility.objects.get(code="SS-9").status == "building"

    result = workbook_import(file=xlsx({"设施": [HEADERS, row("SS-9", status="已验收", accepted="2025-01-02")]}))
    assert result.ok, issues(result)
    facility = Facility.objects.get(code="SS-9")
    assert (facility.status, facility.accepted_on) == ("accepted", date(2025, 1, 2))
    step = FacilityStep.objects.get(facility=facility)
    assert (step.step, step.unit) == ("竣工验收", "工作簿导入")


def test_clerk_may_not_import_another_streets_facility(community, other_community, clerk_zaoyuan):
    result = workbook_import(file=xlsx({"设施": [HEADERS, row("SS-1")]}), user=clerk_zaoyuan)
    assert issues(result) == [("设施", 2, "社区代码", "out_of_scope")]


def test_clerk_cannot_record_a_departments_step(community, clerk_qingnian):
    facility_create(code="SS-9", community=community, name="在建中心", kind="center", building_area=1200,
                    status="building")
    result = workbook_import(file=xlsx({"设施": [HEADERS, row("SS-9", status="已验收", accepted="2025-01-02")]}),
                             user=clerk_qingnian)
    assert issues(result) == [("设施", 2, "状态", "step_not_yours")]
    assert Facility.objects.get(code="SS-9").status == "building"


def test_command_prints_row_errors_and_exits_1(community, tmp_path):
    path = tmp_path / "设施.xlsx"
    path.write_bytes(xlsx({"设施": [HEADERS, row("SS-1"), row("SS-2", activity=1300)]}).getvalue())
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_workbook", str(path), stdout=out, stderr=err)
    assert exc.value.returncode == 1
    text = out.getvalue() + err.getvalue() + str(exc.value)
    assert "设施 第3行 居民活动区域面积: 居民活动区域面积 1300㎡ 不能大于建筑面积 1200㎡。" in text
    assert not Facility.objects.exists()
