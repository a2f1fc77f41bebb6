"""The one writer every spreadsheet export in the project goes through.

Two promises, for xlsx and CSV alike:

* A text value a spreadsheet would run as a formula (it starts with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return — ``==1+1`` included) stays
  text. In xlsx it is a string cell with Excel's quote prefix, so editing the
  cell does not turn it into a formula either; in CSV it gets a leading ``'``,
  the only marking a CSV has. django-import-export is not relied on: it
  strips one ``=`` (leaving ``==1+1`` live) and turns numbers into text.
* Numbers stay numbers, dates stay dates.

Rows are written one at a time: xlsx in xlsxwriter's constant-memory mode to
a temporary file that is streamed back (``FileResponse``), CSV through a
generator (``StreamingHttpResponse``). A sheet past Excel's 1,048,576 rows
continues on a new sheet with the same headers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
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
    width: float | None = None


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

    def __init__(self, path: str | os.PathLike | None = None, *, in_memory: bool = False):
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
        self._names: set[str] = set()

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
        return XlsxSheet(self, name, columns(cols), preamble)

    def close(self) -> Any:
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
        self._new_part()

    def _new_part(self) -> None:
        self.ws = self.book.book.add_worksheet(self.book.unique_name(self.name))
        self.row = 0
        for line in self.preamble:
            for col, value in enumerate(line):
                self._write_any(self.row, col, value)
            self.row += 1
        for col, c in enumerate(self.cols):
            self.ws.write_string(self.row, col, c.header, self.book.head)
            if c.width:
                self.ws.set_column(col, col, c.width)
        self.row += 1

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
        if value[0] in FORMULA_STARTS:
            self.ws.write_string(row, col, value, self.book.quoted)
        else:
            self.ws.write_string(row, col, value)

    def _write_number(self, row: int, col: int, value: Any) -> None:
        if value is None or value == "":
            return
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.ws.write_number(row, col, value)
        elif isinstance(value, Decimal):
            self.ws.write_number(row, col, float(value))
        else:
            self._write_any(row, col, value)

    def _write_date(self, row: int, col: int, value: Any) -> None:
        if value is None or value == "":
            return
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                from django.utils import timezone

                value = timezone.localtime(value).replace(tzinfo=None)
            # An Excel date cell read back is a datetime at midnight: it stays a date.
            fmt = self.book.date if value.time() == dt.time() else self.book.datetime
            self.ws.write_datetime(row, col, value, fmt)
        elif isinstance(value, dt.date):
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
        row, writers = self.row, self._writers
        for col, value in enumerate(values):
            writers[col](row, col, value)
        self.row += 1
        self.rows_written += 1

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.append(values)

    def freeze_header(self) -> None:
        self.ws.freeze_panes(self.row, 0)


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
