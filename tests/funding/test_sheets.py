"""The 经费 sheet: all or nothing, row errors in Chinese."""

from decimal import Decimal

import pytest

from funding.models import Allocation
from imports.services import workbook_import
from tests.facilities.test_sheets import HEADERS as FACILITY_HEADERS
from tests.facilities.test_sheets import issues, row, xlsx

pytestmark = pytest.mark.django_db

HEADERS = ["社区代码", "年度", "市级配套", "区级配套"]


def test_rows_written_per_level(community, other_community):
    result = workbook_import(file=xlsx({"经费": [
        HEADERS, ["610104001001", 2025, 130000, 120000], ["610104009001", 2025, 129999, "120000.50"],
        ["610104001001", 2024, 100000, 100000],
    ]}))
    assert result.ok, issues(result)
    assert Allocation.objects.count() == 6
    assert Allocation.objects.get(community=other_community, level="district").planned == Decimal("120000.50")


def test_one_bad_row_writes_nothing(community, other_community):
    result = workbook_import(file=xlsx({"经费": [
        HEADERS,
        ["610104001001", 2025, 130000, 120000],
        ["610104009001", 2025, -1, 120000],
        ["610104009001", 1999, 130000, 120000],
        ["610104001001", 2025, 130000, 120000],
        ["610104009999", 2025, 130000, 120000],
        ["610104009001", 2026, "十三万", 120000],
    ]}))
    assert not Allocation.objects.exists()
    found = issues(result)
    assert ("经费", 3, "市级配套", "money_negative") in found
    assert ("经费", 4, "年度", "year_range") in found
    assert ("经费", 5, "社区代码", "duplicate_key") in found
    assert ("经费", 6, "社区代码", "unknown_community") in found
    assert ("经费", 7, "市级配套", "bad_number") in found
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in i.message) for i in result.issues)


def test_a_bad_facility_row_rolls_back_the_funding_sheet_too(community):
    result = workbook_import(file=xlsx({
        "经费": [HEADERS, ["610104001001", 2025, 130000, 120000]],
        "设施": [FACILITY_HEADERS, row("SS-1", activity=5000)],
    }))
    assert not result.ok
    assert not Allocation.objects.exists()


def test_department_without_funding_unit_is_refused(community, clerk_qingnian, finance_user):
    result = workbook_import(file=xlsx({"经费": [HEADERS, ["610104001001", 2025, 130000, 120000]]}),
                             user=clerk_qingnian)
    assert [i.code for i in result.issues] == ["out_of_scope"]
    result = workbook_import(file=xlsx({"经费": [HEADERS, ["610104001001", 2025, 130000, 120000]]}),
                             user=finance_user)
    assert result.ok, issues(result)
