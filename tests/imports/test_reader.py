"""Reading workbooks: the fast reader and the formula-aware one must agree on what a clerk sees in Excel."""

from datetime import datetime
from io import BytesIO

import openpyxl
import pytest
import xlsxwriter

from communities.models import Community
from imports.services import _has_formulas, _xlsx_tables, workbook_import

from .test_import_workbook import COMMUNITY_HEADERS, codes, community_row, existing, xlsx  # noqa: F401

pytestmark = pytest.mark.django_db


def xlsxwriter_book(write) -> BytesIO:
    buffer = BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    write(book)
    book.close()
    buffer.seek(0)
    buffer.name = "导入.xlsx"
    return buffer


def test_rows_keep_excels_numbers_with_blank_rows_and_a_blank_first_column(existing):  # noqa: F811
    def write(book):
        sheet = book.add_worksheet("社区")
        sheet.write_row(0, 1, COMMUNITY_HEADERS)  # from column B
        sheet.write_row(2, 1, community_row("610104001071"))  # row 3, after a blank row
        sheet.write_row(6, 1, community_row("610104001072", population=10))  # row 7

    result = workbook_import(file=xlsxwriter_book(write))
    assert codes(result) == [("社区", 7, "常住人口", "population_below_households")]


def test_the_fast_reader_and_openpyxl_read_the_same_values(existing):  # noqa: F811
    book = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001073", founded=datetime(1998, 7, 1),
                                                         households=1180.0, population="3892")]})
    data = book.getvalue()
    assert not _has_formulas(data)
    fast = _xlsx_tables(data, None)[0][0]
    from imports.services import _xlsx_tables_openpyxl

    slow = _xlsx_tables_openpyxl(data, None)[0][0]
    assert fast.headers == slow.headers
    assert [n for n, _ in fast.rows] == [n for n, _ in slow.rows]
    # Dates may come as date or datetime and whole numbers as float or int; the parsers take either.
    assert workbook_import(file=book).ok
    assert Community.objects.get(code="610104001073").founded_on.isoformat() == "1998-07-01"


@pytest.mark.parametrize("formula", ["=B2*3", "=SUM(D2:D3)"])
def test_a_formula_anywhere_is_found_and_refused_even_without_a_cached_value(existing, formula):  # noqa: F811
    def write(book):
        other = book.add_worksheet("说明")
        other.write(0, 0, "填写说明")
        sheet = book.add_worksheet("社区")
        sheet.write_row(0, 0, COMMUNITY_HEADERS)
        row = community_row("610104001074")
        sheet.write_row(1, 0, row)
        sheet.write_formula(1, 4, formula)  # 常住人口

    book = xlsxwriter_book(write)
    assert _has_formulas(book.getvalue())
    result = workbook_import(file=book)
    assert codes(result) == [("社区", 2, "常住人口", "formula")]
    assert not Community.objects.filter(code="610104001074").exists()


def test_a_drop_down_list_is_not_taken_for_a_formula():
    def write(book):
        sheet = book.add_worksheet("社区")
        sheet.write_row(0, 0, COMMUNITY_HEADERS)
        sheet.data_validation(1, 8, 100, 8, {"validate": "list", "source": ["党委", "党总支", "党支部"]})

    data = xlsxwriter_book(write).getvalue()
    assert not _has_formulas(data)
    assert openpyxl.load_workbook(BytesIO(data)).worksheets[0].data_validations.dataValidation
