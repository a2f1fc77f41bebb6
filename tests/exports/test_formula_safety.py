"""Every export writes what a spreadsheet would run as a formula as text, and numbers as numbers."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from django.urls import reverse

from communities.models import Community
from core.writer import ANY, NUMBER, XlsxBook, csv_lines, csv_safe
from facilities.models import Facility
from funding.models import Allocation
from staffing.models import Person

pytestmark = pytest.mark.django_db

DANGEROUS = ["=1+1", "==1+1", "+1", "-1+1", "@SUM(1)", "\tTAB=1+1", "\r=1+1", '=HYPERLINK("http://evil.example","点我")']


def _unescape(value):
    # OOXML writes control characters as _x000D_; Excel reads them back, openpyxl leaves them escaped.
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), value) if isinstance(value, str) else value


class Cell:
    """What was read, without openpyxl's setter (which would turn "=…" into a formula on assignment)."""

    def __init__(self, cell):
        self.data_type, self.row, self.column = cell.data_type, cell.row, cell.column
        self.value, self.quotePrefix = _unescape(cell.value), bool(cell.quotePrefix)


def _read_xlsx(content: bytes):
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [Cell(cell) for ws in book.worksheets for row in ws.iter_rows() for cell in row]


def test_writer_keeps_dangerous_text_as_text_and_numbers_as_numbers():
    book = XlsxBook(in_memory=True)
    sheet = book.sheet("表", ["文字", ("数", NUMBER), ("任意", ANY)])
    for value in DANGEROUS:
        sheet.append([value, -3, value])
    sheet.append(["普通", 1.5, 7])
    cells = _read_xlsx(book.close())
    assert all(c.data_type != "f" for c in cells)
    texts = [c.value for c in cells if c.column in (1, 3) and c.row > 1]
    assert texts[: 2 * len(DANGEROUS)] == [v for v in DANGEROUS for _ in range(2)]
    numbers = [c.value for c in cells if c.column == 2 and c.row > 1]
    assert numbers == [-3] * len(DANGEROUS) + [1.5]
    assert all(c.quotePrefix for c in cells if c.value in DANGEROUS)  # stays text when edited in Excel
    assert [c.value for c in cells if c.row == len(DANGEROUS) + 2] == ["普通", 1.5, 7]


def test_csv_prefixes_dangerous_text_only():
    assert [csv_safe(v) for v in DANGEROUS] == ["'" + v for v in DANGEROUS]
    assert [csv_safe(v) for v in (-3, 2.5, "普通", "a=1", None)] == [-3, 2.5, "普通", "a=1", ""]
    text = "".join(csv_lines(["名称", "数"], [["=1+1", -1], ["ok", 2]]))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["名称", "数"], ["'=1+1", "-1"], ["ok", "2"]]


@pytest.fixture
def poisoned(district):
    """Each dangerous value in names and free-text fields of every ledger."""
    qn = district["qingnian"]
    for i, value in enumerate(DANGEROUS):
        suffix = f"{i + 10:03d}"
        street = qn["community"].sub_district
        Community.objects.create(code=f"{street.code}{suffix}", name=value, sub_district=street, households=1000 + i,
                                 population=3000, east=value, north=value)
    Facility.objects.filter(pk=qn["facility"].pk).update(name=DANGEROUS[0])
    # 学历 holds 30 characters (PostgreSQL enforces it); the long HYPERLINK goes in the name.
    Person.objects.filter(pk=qn["person"].pk).update(name=DANGEROUS[7], education=DANGEROUS[1])
    Allocation.objects.filter(community=qn["community"]).update(note=DANGEROUS[4])
    return district


def _xlsx_body(content: bytes):
    rows = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=False)
    return [[Cell(c) for c in row] for row in rows]


@pytest.mark.parametrize("kind", ["communities", "facilities", "people", "funding"])
def test_ledgers_have_no_formulas_and_numbers_are_numbers(client, admin_user, poisoned, kind):
    client.force_login(admin_user)
    url = reverse("exports:ledger", args=[kind])
    response = client.get(url)
    assert response.status_code == 200 and response.streaming  # FileResponse from the temporary file
    rows = _xlsx_body(b"".join(response.streaming_content))
    cells = [c for row in rows for c in row]
    assert all(c.data_type != "f" for c in cells)
    values = {c.value for c in cells}
    expected_texts = {"communities": set(DANGEROUS), "facilities": {DANGEROUS[0]},
                      "people": {DANGEROUS[1], DANGEROUS[7]}, "funding": {DANGEROUS[4]}}[kind]
    assert expected_texts <= values
    headers = [c.value for c in rows[0]]
    numeric = {"communities": "户数", "facilities": "建筑面积（㎡）", "people": "等级", "funding": "配套金额（元）"}[kind]
    column = headers.index(numeric)
    assert all(isinstance(row[column].value, int | float) for row in rows[1:] if row[column].value is not None)
    assert any(row[column].value is not None for row in rows[1:])

    text = b"".join(client.get(url + "?format=csv").streaming_content).decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(text)))
    flat = {v for row in csv_rows for v in row}
    assert {"'" + v for v in expected_texts} <= flat
    assert not expected_texts & flat  # never unquoted
    assert all(not v or v[0] not in "=+-@\t\r" for v in flat)
    csv_column = csv_rows[0].index(numeric)
    assert all(float(row[csv_column]) >= 0 for row in csv_rows[1:] if row[csv_column])
