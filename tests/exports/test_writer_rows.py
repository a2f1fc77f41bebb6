"""Constant-memory sheets write their data rows' XML themselves (core.writer): the file must be the one
xlsxwriter writes for the same calls, byte for byte, whatever the values."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core import writer
from core.writer import ANY, DATE, NUMBER, TEXT, Col, XlsxBook

COLS = [Col("文本", TEXT), Col("数字", NUMBER), Col("日期", DATE), Col("任意", ANY), Col("年份", NUMBER, num_format="0"),
        Col("说明", TEXT, width=30)]

ODD_TEXT = [
    "张三", "=1+1", "==1+1", "+86 029", "-1", "@SUM(1)", "\tTAB", "\r=1", "a&b", "<b>粗</b>", "x > y", 'say "hi"',
    "line\nbreak", "bell\x07", "_x0041_ stays", "_x", " leading", "trailing ", "\u3000全角空格", "<r>rich</r>",
    "non\ufffechar\uffff", "长" * 17_000, "z" * 40_000, "🙂 emoji", "0123", "",
]
ODD_NUMBERS = [0, 1, -5, 12_345_678, 2**53 + 1, 10**20, 1.5, -0.25, 1e-9, 3.0, Decimal("280.50"), Decimal("7"),
               Decimal("1E+3"), True, False, "不是数字", None, "", dt.date(2024, 2, 29)]
ODD_DATES = [dt.date(2020, 1, 1), dt.date(1900, 3, 1), dt.datetime(2024, 5, 6, 7, 8, 9), dt.datetime(2024, 5, 6),
             dt.datetime(2024, 5, 6, 23, 30, tzinfo=ZoneInfo("UTC")), "2024-01-01", None, "", 12]


def _rows():
    n = max(len(ODD_TEXT), len(ODD_NUMBERS), len(ODD_DATES))
    rows = []
    for i in range(n):
        rows.append([ODD_TEXT[i % len(ODD_TEXT)], ODD_NUMBERS[i % len(ODD_NUMBERS)], ODD_DATES[i % len(ODD_DATES)],
                     [*ODD_TEXT, *ODD_NUMBERS, *ODD_DATES][(i * 7) % 50], 1990 + i, None if i % 3 else "备注"])
        if i % 5 == 0:
            rows.append([None, "", None, None, None, None])  # a row without cells
    return rows


def _write(path, direct: bool, rows, interleave: bool = True) -> None:
    book = XlsxBook(path, footer_date=dt.date(2026, 1, 1))
    book.direct_rows = direct
    first = book.sheet("人员", COLS, preamble=[["标题 =1"], ["说明", 2]])
    second = book.sheet("人员", COLS)
    empty = book.sheet("空表", COLS)
    single = book.sheet("一行", COLS)
    single.append(rows[0])
    for n, values in enumerate(rows):
        first.append(values)
        if interleave and n % 2:
            second.append(list(reversed(values)) if n % 4 == 1 else values)
    assert empty.rows_written == 0
    book.close()


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        # docProps/core.xml holds the time the file was made, to the second.
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


def test_direct_rows_are_the_bytes_xlsxwriter_writes(tmp_path):
    rows = _rows()
    _write(tmp_path / "direct.xlsx", True, rows)
    _write(tmp_path / "xlsxwriter.xlsx", False, rows)
    direct, reference = _members(tmp_path / "direct.xlsx"), _members(tmp_path / "xlsxwriter.xlsx")
    assert direct.keys() == reference.keys()
    for name in reference:
        assert direct[name] == reference[name], name


def test_a_sheet_continued_past_the_last_row_is_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "MAX_ROWS", 7)
    rows = _rows()
    _write(tmp_path / "direct.xlsx", True, rows, interleave=False)
    _write(tmp_path / "xlsxwriter.xlsx", False, rows, interleave=False)
    direct, reference = _members(tmp_path / "direct.xlsx"), _members(tmp_path / "xlsxwriter.xlsx")
    assert len([n for n in reference if n.startswith("xl/worksheets/sheet")]) > 6
    assert direct == reference


def test_the_last_row_takes_a_column_format_as_xlsxwriter_gives_it(tmp_path):
    for name, direct in (("direct.xlsx", True), ("xlsxwriter.xlsx", False)):
        book = XlsxBook(tmp_path / name, footer_date=dt.date(2026, 1, 1))
        book.direct_rows = direct
        sheet = book.sheet("表", COLS)
        sheet.column_format(0, book.number_format("@"))
        for values in _rows()[:5]:
            sheet.append(values)
        book.close()
    assert _members(tmp_path / "direct.xlsx") == _members(tmp_path / "xlsxwriter.xlsx")


def test_not_a_number_fails_as_in_xlsxwriter(tmp_path):
    for direct in (True, False):
        book = XlsxBook(tmp_path / f"{direct}.xlsx", footer_date=dt.date(2026, 1, 1))
        book.direct_rows = direct
        sheet = book.sheet("表", [Col("数", NUMBER)])
        with pytest.raises(TypeError, match="NAN/INF"):
            sheet.append([float("nan")])
            sheet.append([1])  # the row before is written now
            book.close()
