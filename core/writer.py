"""The one writer every spreadsheet export in the project goes through.

Two promises, for xlsx and CSV alike:

* A text value a spreadsheet would run as a formula (it starts with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return — ``==1+1`` included) stays
  text. In xlsx it is a string cell with Excel's quote prefix, so editing the
  cell does not turn it into a formula either; in CSV it gets a leading ``'``,
  the only marking a CSV has. django-import-export is not relied on: it
  strips one ``=`` (leaving ``==1+1`` live) and turns numbers into text.
* Numbers stay numbers, dates stay dates.

Every xlsx sheet is also made to be read and printed: columns sized to what
they hold (dates never ``########``), numbers grouped by thousands, the header
row frozen, an autofilter over the table, A4 landscape one page wide with the
header rows repeated and a footer with the date and page number.

Rows are written one at a time: xlsx in xlsxwriter's constant-memory mode to
a temporary file that is streamed back (``FileResponse``), CSV through a
generator (``StreamingHttpResponse``). A sheet past Excel's 1,048,576 rows
continues on a new sheet with the same headers.

In constant-memory mode a data row's XML is written here, not by xlsxwriter's
per-cell methods (about forty microseconds a cell: argument parsing, a cell
tuple, several regular expressions and file writes), as the very text
xlsxwriter would write for the same calls: same cells, styles, inline
strings, escapes and row order. The row is rendered when the next row arrives,
as xlsxwriter does, so styles get their indices in the same order; a sheet's
last row still goes through xlsxwriter (it is written at close, when the
column formats are known). ``tests/exports/test_writer_rows.py`` compares the
two paths byte for byte.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
MAX_ROWS = 1_048_576  # Excel's rows per sheet, header included
FORMULA_STARTS = frozenset("=+-@\t\r")
# Text xlsxwriter would change on its way into the XML (control characters and its _xHHHH_ escapes, XML
# specials, leading or trailing space kept with xml:space, ``<r>`` rich strings) goes through its own
# functions; everything else is written as it is.
# A character class alone is several times faster to search than with ``_x`` and the anchors; an underscore
# or a space at either end just takes the slower, exact way.
_PLAIN_UNSAFE = re.compile(r"[\x00-\x1f&<>_\ufffe\uffff]")
_EXACT_INT = 2**53
_LONG_TEXT = 16_383  # xlsxwriter checks the 32,767 UTF-16 units limit past half of it

TEXT = "text"
NUMBER = "number"
DATE = "date"
ANY = "any"  # decided per value: numbers as numbers, everything else as (safe) text


def is_dangerous(value: str) -> bool:
    return bool(value) and value[0] in FORMULA_STARTS


def csv_safe(value: Any) -> Any:
    """The CSV form of one value: dangerous text gets a leading apostrophe; numbers pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    text = str(value)
    return "'" + text if is_dangerous(text) else text


@dataclass(frozen=True)
class Col:
    header: str
    kind: str = TEXT
    width: float | None = None  # a floor: the column still widens to its content
    num_format: str | None = None  # e.g. "0" for years and codes kept as numbers (no thousands separator)


MIN_WIDTH = 6
MAX_WIDTH = 60
DATE_WIDTH = 11
DATETIME_WIDTH = 17


def text_width(text: str) -> int:
    """Columns a text needs in Excel: a Chinese character is two, ASCII one (UTF-8 bytes: 3 and 1)."""
    return (len(text.encode("utf-8")) + len(text)) // 2


def number_width(value: Any) -> int:
    if isinstance(value, int):
        return len(f"{value:,}")
    return len(f"{value:,.2f}")


def columns(spec: Iterable[str | Col | tuple]) -> list[Col]:
    out = []
    for item in spec:
        if isinstance(item, Col):
            out.append(item)
        elif isinstance(item, tuple):
            out.append(Col(*item))
        else:
            out.append(Col(item))
    return out


class XlsxBook:
    """An xlsx workbook written row by row.

    ``sheet = book.sheet("人员", cols)`` then ``sheet.append(values)``; ``book.close()``
    returns the path of the finished file (``response()`` streams and deletes it).
    """

    def __init__(self, path: str | os.PathLike | None = None, *, in_memory: bool = False,
                 footer_label: str = "导出日期", footer_date: dt.date | None = None):
        import xlsxwriter

        self._owns_file = path is None and not in_memory
        if in_memory:
            self.target: Any = io.BytesIO()
        elif path is None:
            fd, name = tempfile.mkstemp(suffix=".xlsx", prefix="lianhu-export-")
            os.close(fd)
            self.target = name
        else:
            self.target = os.fspath(path)
        # strings_to_formulas off: nothing typed by a user ever becomes a formula through write().
        self.book = xlsxwriter.Workbook(self.target, {
            "constant_memory": not in_memory, "strings_to_formulas": False, "strings_to_numbers": False,
            "strings_to_urls": False, "tmpdir": tempfile.gettempdir(),
        })
        self.head = self.book.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
        self.quoted = self.book.add_format({"quote_prefix": True})
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.bold = self.book.add_format({"bold": True})
        self.integer = self.book.add_format({"num_format": "#,##0"})
        self.decimal = self.book.add_format({"num_format": "#,##0.00"})
        self.quoted_wrap = self.book.add_format({"quote_prefix": True, "text_wrap": True, "valign": "top"})
        self.note = self.book.add_format({"italic": True, "font_color": "#555555"})
        self._names: set[str] = set()
        self._sheets: list[XlsxSheet] = []
        self._custom_formats: dict[str, Any] = {}
        self.direct_rows = not in_memory  # see the module's note: constant-memory sheets' rows written here
        self._style_attrs: dict[Any, str] = {}
        if footer_date is None:
            from django.utils import timezone

            footer_date = timezone.localdate()
        self.footer = f"&L{footer_label} {footer_date:%Y-%m-%d}&R第 &P 页，共 &N 页"

    def style_attr(self, fmt: Any) -> str:
        """`` s="N"`` of a cell format; asked first where xlsxwriter asks, so N is the index it would give."""
        attr = self._style_attrs.get(fmt)
        if attr is None:
            attr = self._style_attrs[fmt] = f' s="{fmt._get_xf_index()}"'
        return attr

    def number_format(self, num_format: str):
        if num_format not in self._custom_formats:
            self._custom_formats[num_format] = self.book.add_format({"num_format": num_format})
        return self._custom_formats[num_format]

    def print_setup(self, ws, *, header_rows: tuple[int, int] | None = None) -> None:
        """A4 landscape, one page wide, header rows on every page, the date and page number in the footer."""
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        if header_rows is not None:
            ws.repeat_rows(*header_rows)
        ws.set_footer(self.footer)

    def unique_name(self, name: str) -> str:
        base = "".join("_" if c in "[]:*?/\\" else c for c in name)[:31] or "Sheet"
        candidate, n = base, 2
        while candidate in self._names:
            suffix = f"({n})"
            candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
        self._names.add(candidate)
        return candidate

    def sheet(self, name: str, cols: Sequence[str | Col | tuple], *, preamble: Sequence[Sequence[Any]] = ()
              ) -> XlsxSheet:
        sheet = XlsxSheet(self, name, columns(cols), preamble)
        self._sheets.append(sheet)
        return sheet

    def close(self) -> Any:
        for sheet in self._sheets:
            sheet.finish()
        self.book.close()
        return self.target.getvalue() if isinstance(self.target, io.BytesIO) else self.target

    def response(self, filename: str) -> FileResponse | HttpResponse:
        path = self.close()
        if isinstance(path, bytes):  # small in-memory books (a roster, a yearly report)
            response = HttpResponse(path, content_type=XLSX_TYPE)
            response["Content-Disposition"] = attachment(filename)
            return response
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
        if self._owns_file:
            os.unlink(path)  # the open handle keeps the data until the response is sent
        streamed = FileResponse(handle, content_type=XLSX_TYPE, as_attachment=True)
        streamed["Content-Disposition"] = attachment(filename)
        return streamed


class XlsxSheet:
    def __init__(self, book: XlsxBook, name: str, cols: list[Col], preamble: Sequence[Sequence[Any]] = ()):
        self.book = book
        self.name = name
        self.cols = cols
        self.preamble = [list(r) for r in preamble]
        self.rows_written = 0  # data rows over all parts
        self._writers = [self._writer_for(c.kind) for c in cols]
        self._number_formats = [book.number_format(c.num_format) if c.num_format else None for c in cols]
        self.widths = [max(MIN_WIDTH, text_width(c.header) + 2, c.width or 0) for c in cols]
        self._parts: list[tuple[Any, int]] = []  # (worksheet, header row) of each part
        self._column_formats: dict[int, Any] = {}
        self._finished = False
        self._cells = [self._cell_for(c.kind) for c in cols]
        self._pending: tuple[int, tuple] | None = None  # the last row appended, not yet written
        self._serials: dict[dt.date, str] = {}  # a date's cell value
        self._new_part()

    def _new_part(self) -> None:
        self._settle()
        self.ws = self.book.book.add_worksheet(self.book.unique_name(self.name))
        # Rows are written here only where xlsxwriter would write nothing but the cells: no row or column
        # formats, default heights, no comments.
        ws = self.ws
        self._direct = (self.book.direct_rows and ws.constant_memory and ws.excel_version == 2007
                        and ws.default_row_height == ws.original_row_height)
        self._head_written = False
        self._letters = [_column_letters(col) for col in range(len(self.cols))]
        self.row = 0
        for line in self.preamble:
            for col, value in enumerate(line):
                # A preamble line is a sentence across the sheet, not a cell of the first column.
                if isinstance(value, str) and value:
                    self.ws.write_string(self.row, col, value, self.book.quoted if is_dangerous(value) else None)
                else:
                    self._write_any(self.row, col, value)
            self.row += 1
        for col, c in enumerate(self.cols):
            self.ws.write_string(self.row, col, c.header, self.book.head)
        self._parts.append((self.ws, self.row))
        self.row += 1

    def finish(self) -> None:
        """Widths, frozen header, autofilter and print setup of every part (xlsxwriter keeps these until close)."""
        if self._finished:
            return
        self._finished = True
        self._settle()
        last_col = max(len(self.cols) - 1, 0)
        for n, (ws, header) in enumerate(self._parts):
            for col, width in enumerate(self.widths):
                ws.set_column(col, col, min(width, MAX_WIDTH), self._column_formats.get(col))
            ws.freeze_panes(header + 1, 0)
            last_row = self.row - 1 if n == len(self._parts) - 1 else MAX_ROWS - 1
            ws.autofilter(header, 0, max(last_row, header), last_col)
            self.book.print_setup(ws, header_rows=(header, header))

    # -- rows written here (constant-memory mode) -----------------------------------------------------------
    def _settle(self) -> None:
        """The pending row goes through xlsxwriter, which writes it at close (the part's last row)."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        row, values = pending
        self.ws.previous_row = row
        writers = self._writers
        for col, value in enumerate(values):
            writers[col](row, col, value)

    def _advance(self, row: int, values: Sequence[Any]) -> None:
        """A row with at least one cell: the row before it is written (as xlsxwriter does when this row's first
        cell comes), this one waits for the next."""
        ws = self.ws
        if ws.row_info or ws.col_info or ws.comments:  # formats set on the worksheet itself: xlsxwriter's way
            self._settle()
            self._direct = False
            writers = self._writers
            for col, value in enumerate(values):
                writers[col](row, col, value)
            return
        if self._pending is not None:
            self._write_direct(*self._pending)
        elif not self._head_written:
            ws._write_single_row(row)
            self._head_written = True
        self._pending = (row, tuple(values))

    def _write_direct(self, row: int, values: tuple) -> None:
        cells, widths, letters = self._cells, self.widths, self._letters
        r = str(row + 1)
        parts = []
        for col, value in enumerate(values):
            if value is None:
                continue
            if value.__class__ is str and value:
                # Text, whatever the column's kind (every writer hands text to _write_text): its plain case
                # written out here, one call less per cell.
                n = len(value)
                width = n + 2 if value.isascii() else (len(value.encode("utf-8")) + n) // 2 + 2
                if width > widths[col]:
                    widths[col] = width
                if (value[0] in FORMULA_STARTS or n > _LONG_TEXT or _PLAIN_UNSAFE.search(value)
                        or value[0].isspace() or value[-1].isspace()):
                    parts.append(self._cell_text(r, col, value))
                else:
                    parts.append(f'<c r="{letters[col]}{r}" t="inlineStr"><is><t>{value}</t></is></c>')
            elif cell := cells[col](r, col, value):
                parts.append(cell)
        if parts:
            self.ws.dim_rowmax = row
            self.ws.fh.write(f'<row r="{r}">{"".join(parts)}</row>')

    def _string(self, r: str, col: int, value: str, attr: str) -> str:
        if len(value) > _LONG_TEXT or _PLAIN_UNSAFE.search(value) or value[0].isspace() or value[-1].isspace():
            return self._string_escaped(r, col, value, attr)
        return f'<c r="{self._letters[col]}{r}"{attr} t="inlineStr"><is><t>{value}</t></is></c>'

    def _string_escaped(self, r: str, col: int, value: str, attr: str) -> str:
        from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate

        ws = self.ws
        if len(value) > ws.xls_strmax // 2 and _utf16_len(value) > ws.xls_strmax:
            value = _utf16_truncate(value, ws.xls_strmax)
        value = ws._escape_control_characters(value)
        if value.startswith("<r>") and value.endswith("</r>"):
            return f'<c r="{self._letters[col]}{r}"{attr} t="inlineStr"><is>{value}</is></c>'
        space = ' xml:space="preserve"' if _preserve_whitespace(value) else ""
        return (f'<c r="{self._letters[col]}{r}"{attr} t="inlineStr"><is><t{space}>{ws._escape_data(value)}</t>'
                f'</is></c>')

    def _number(self, r: str, col: int, number: Any, fmt: Any) -> str:
        if math.isnan(number) or math.isinf(number):
            self.ws._write_number(int(r) - 1, col, number, fmt)  # raises as xlsxwriter does
        return f'<c r="{self._letters[col]}{r}"{self.book.style_attr(fmt)}><v>{number:.16G}</v></c>'

    def _cell_for(self, kind: str):
        return {TEXT: self._cell_text, NUMBER: self._cell_number, DATE: self._cell_date}.get(kind, self._cell_any)

    # The cell text of each writer below (_write_text …): the same decisions, widths included.
    def _cell_text(self, r: str, col: int, value: Any) -> str:
        if value is None or value == "":
            return ""
        if not isinstance(value, str):
            if isinstance(value, bool):
                value = "是" if value else "否"
            elif isinstance(value, dt.date):
                return self._cell_date(r, col, value)
            else:
                value = str(value)
        n = len(value)
        width = n + 2 if value.isascii() else (len(value.encode("utf-8")) + n) // 2 + 2
        if width > self.widths[col]:
            self.widths[col] = width
        if value[0] in FORMULA_STARTS:
            return self._string(r, col, value, self.book.style_attr(self.book.quoted))
        if n > _LONG_TEXT or _PLAIN_UNSAFE.search(value) or value[0].isspace() or value[-1].isspace():
            return self._string_escaped(r, col, value, "")
        return f'<c r="{self._letters[col]}{r}" t="inlineStr"><is><t>{value}</t></is></c>'

    def _cell_number(self, r: str, col: int, value: Any) -> str:
        if value.__class__ is int and -_EXACT_INT < value < _EXACT_INT:  # most numbers: the same as below, shorter
            fmt = self._number_formats[col] or self.book.integer
            width = len(f"{value:,}") + 2
            if width > self.widths[col]:
                self.widths[col] = width
            return f'<c r="{self._letters[col]}{r}"{self.book.style_attr(fmt)}><v>{value:.16G}</v></c>'
        if value is None or value == "":
            return ""
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return self._cell_any(r, col, value)
        whole = isinstance(value, int) or ((value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
                                           ) and value == int(value))
        fmt = self._number_formats[col] or (self.book.integer if whole else self.book.decimal)
        width = number_width(int(value) if whole else value) + 2
        if width > self.widths[col]:
            self.widths[col] = width
        return self._number(r, col, float(value) if isinstance(value, Decimal) else value, fmt)

    def _datetime_cell(self, col: int, value: dt.datetime) -> tuple[dt.datetime, Any]:
        """A datetime as Excel holds it (local time, no zone) and its format; widens the column to fit."""
        if value.tzinfo is not None:
            from django.utils import timezone

            value = timezone.localtime(value).replace(tzinfo=None)
        # An Excel date cell read back is a datetime at midnight: it stays a date.
        whole_day = value.time() == dt.time()
        width = DATE_WIDTH + 1 if whole_day else DATETIME_WIDTH + 1
        if width > self.widths[col]:
            self.widths[col] = width
        return value, self.book.date if whole_day else self.book.datetime

    def _cell_date(self, r: str, col: int, value: Any) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, dt.datetime):
            value, fmt = self._datetime_cell(col, value)
            return (f'<c r="{self._letters[col]}{r}"{self.book.style_attr(fmt)}>'
                    f'<v>{self.ws._convert_date_time(value):.16G}</v></c>')
        if isinstance(value, dt.date):
            if self.widths[col] < DATE_WIDTH + 1:
                self.widths[col] = DATE_WIDTH + 1
            serial = self._serials.get(value)
            if serial is None:
                serial = self._serials[value] = f"{self.ws._convert_date_time(value):.16G}"
            return f'<c r="{self._letters[col]}{r}"{self.book.style_attr(self.book.date)}><v>{serial}</v></c>'
        return self._cell_text(r, col, value)

    def _cell_any(self, r: str, col: int, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return self._string(r, col, "是" if value else "否", "")
        if isinstance(value, int | float | Decimal):
            return self._cell_number(r, col, value)
        if isinstance(value, dt.date):
            return self._cell_date(r, col, value)
        return self._cell_text(r, col, value)

    def _writer_for(self, kind: str):
        ws_attr = {TEXT: self._write_text, NUMBER: self._write_number, DATE: self._write_date}
        return ws_attr.get(kind, self._write_any)

    # One writer per column kind: the type dispatch is paid once per column, not per cell.
    def _write_text(self, row: int, col: int, value: Any) -> None:
        if value is None or value == "":
            return
        if not isinstance(value, str):
            if isinstance(value, bool):
                value = "是" if value else "否"
            elif isinstance(value, dt.date):
                return self._write_date(row, col, value)
            else:
                value = str(value)
        width = (len(value.encode("utf-8")) + len(value)) // 2 + 2
        if width > self.widths[col]:
            self.widths[col] = width
        if value[0] in FORMULA_STARTS:
            self.ws.write_string(row, col, value, self.book.quoted)
        else:
            self.ws.write_string(row, col, value)

    def _write_number(self, row: int, col: int, value: Any) -> None:
        if value is None or value == "":
            return
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            self._write_any(row, col, value)
            return
        whole = isinstance(value, int) or ((value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
                                           ) and value == int(value))
        fmt = self._number_formats[col] or (self.book.integer if whole else self.book.decimal)
        width = number_width(int(value) if whole else value) + 2
        if width > self.widths[col]:
            self.widths[col] = width
        self.ws.write_number(row, col, float(value) if isinstance(value, Decimal) else value, fmt)

    def _write_date(self, row: int, col: int, value: Any) -> None:
        if value is None or value == "":
            return
        if isinstance(value, dt.datetime):
            value, fmt = self._datetime_cell(col, value)
            self.ws.write_datetime(row, col, value, fmt)
        elif isinstance(value, dt.date):
            if self.widths[col] < DATE_WIDTH + 1:
                self.widths[col] = DATE_WIDTH + 1
            self.ws.write_datetime(row, col, value, self.book.date)
        else:
            self._write_text(row, col, value)

    def _write_any(self, row: int, col: int, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            self.ws.write_string(row, col, "是" if value else "否")
        elif isinstance(value, int | float | Decimal):
            self._write_number(row, col, value)
        elif isinstance(value, dt.date):
            self._write_date(row, col, value)
        else:
            self._write_text(row, col, value)

    def append(self, values: Sequence[Any]) -> None:
        if self.row >= MAX_ROWS:
            self._new_part()
        row = self.row
        if self._direct:
            for value in values:
                if value is not None and value != "":  # a row without cells writes nothing
                    self._advance(row, values)
                    break
        else:
            writers = self._writers
            for col, value in enumerate(values):
                writers[col](row, col, value)
        self.row += 1
        self.rows_written += 1

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.append(values)

    def column_format(self, col: int, fmt: Any) -> None:
        """A format for the whole column (e.g. text for 身份证号 in a template), kept when widths are set."""
        self._column_formats[col] = fmt

    def freeze_header(self) -> None:
        """Kept for callers; every sheet's header row is frozen when the book closes."""


def _column_letters(col: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(col)


def attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(cols: Sequence[str | Col | tuple], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text, one line at a time, with a BOM so Excel reads the UTF-8 Chinese right."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([c.header for c in columns(cols)])
    for values in rows:
        yield writer.writerow([csv_safe(v) for v in values])


def csv_response(filename: str, cols: Sequence[str | Col | tuple], rows: Iterable[Sequence[Any]]
                 ) -> StreamingHttpResponse:
    response = StreamingHttpResponse((line.encode("utf-8") for line in csv_lines(cols, rows)),
                                     content_type=CSV_TYPE)
    response["Content-Disposition"] = attachment(filename)
    return response


def write_csv(path: str | os.PathLike, cols: Sequence[str | Col | tuple], rows: Iterable[Sequence[Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        for line in csv_lines(cols, rows):
            out.write(line)
