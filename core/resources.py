"""The admin's import and export (django-import-export), built on the import sheets.

A ``SheetResource`` takes its columns from an import sheet (``<app>/sheets.py``): the same Chinese headers,
and an import runs the uploaded rows through ``workbook_import`` (the imports app's pipeline, handed over
when that app loads: core names no app above it) as that sheet, so the same parsers, the same
services and the same ``clean()`` refuse the same bad rows with the same messages, and a file with one bad
row writes nothing. Exports go through the project's formula-safe writer (``core.writer``), never through
tablib's own xlsx/CSV output. ID numbers leave masked, with the birth year beside them, for every role: the
admin's export is no reveal (a reveal is its own recorded action on the person pages).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from import_export import resources
from import_export.admin import ImportExportMixin
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.results import Error, Result, RowResult

from . import writer
from .sheets import Column, Sheet

# workbook_import(file=, filename=, user=, dry_run=) -> the import's outcome; set by imports/apps.py.
_workbook_import: Callable[..., Any] | None = None


def use_workbook_import(run: Callable[..., Any]) -> None:
    """The imports app hands over its pipeline at start-up, as the apps register their sheets."""
    global _workbook_import
    _workbook_import = run


def _cell(obj: Any, column: Column) -> Any:
    """A record's value as the sheet writes it: labels for choices, 是/否, codes for 社区, names for 街办."""
    try:
        field = obj._meta.get_field(column.field)
    except Exception:  # a sheet column that is not a field of this model (e.g. a person's employment)
        return getattr(obj, column.field, None)
    value = getattr(obj, column.field, None)
    if value is None:
        return None
    if field.choices:
        return getattr(obj, f"get_{column.field}_display")()
    if isinstance(field, models.ForeignKey):
        if column.header.endswith("代码"):
            return getattr(value, "code", str(value))
        return getattr(value, "name", str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


class SheetResource(resources.ModelResource):
    """Columns and validation from ``sheet``; ``export_columns`` (headers) narrows what an export shows."""

    sheet: ClassVar[type[Sheet]]
    export_columns: ClassVar[Sequence[str] | None] = None

    def __init__(self, **kwargs: Any) -> None:
        self.user = kwargs.pop("user", None)
        super().__init__(**kwargs)
        self.fields = {}
        for column in self.sheet.columns:
            if self.export_columns is None or column.header in self.export_columns:
                self.fields[column.header] = Field(attribute=column.field, column_name=column.header,
                                                   dehydrate_method=self._dehydrator(column))

    @staticmethod
    def _dehydrator(column: Column) -> Callable[[Any], Any]:
        return lambda obj: _cell(obj, column)

    # -- import: the sheet's own pipeline, all or nothing ------------------------------------------------------

    def import_data(self, dataset, dry_run: bool = False, raise_errors: bool = False, use_transactions=None,
                    collect_failed_rows: bool = False, rollback_on_validation_errors: bool = False,
                    **kwargs: Any) -> Result:
        if _workbook_import is None:
            raise ImproperlyConfigured("没有安装工作簿导入（imports 应用），无法导入。")
        workbook_import = _workbook_import
        user = kwargs.get("user", self.user)
        result = Result()
        headers = [str(h or "").strip() for h in dataset.headers or []]
        result.diff_headers = headers
        result.add_dataset_headers(headers)
        outcome = workbook_import(file=io.BytesIO(_as_csv(headers, dataset)), filename=f"{self.sheet.name}.csv",
                                  user=user, dry_run=dry_run)
        for issue in outcome.file_issues:
            result.append_base_error(Error(ValidationError(issue.message, code=issue.code)))
        by_row: dict[int, dict[str, list[str]]] = {}
        for sheet in outcome.sheets:
            for issue in sheet.issues:
                if issue.row is None:
                    result.append_base_error(Error(ValidationError(issue.message, code=issue.code)))
                    continue
                by_row.setdefault(issue.row, {}).setdefault(issue.column, []).append(issue.message)
        for number, errors in sorted(by_row.items()):
            values = dict(zip(headers, dataset[number - 2], strict=False)) if 0 <= number - 2 < len(dataset) else {}
            result.append_invalid_row(number, values, ValidationError(errors))
            result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
        if outcome.sheets and not result.invalid_rows and not result.base_errors:
            sheet = outcome.sheets[0]
            for kind, keys in ((RowResult.IMPORT_TYPE_NEW, sheet.created),
                               (RowResult.IMPORT_TYPE_UPDATE, sheet.updated),
                               (RowResult.IMPORT_TYPE_SKIP, sheet.unchanged)):
                for key in keys:
                    row = RowResult()
                    row.import_type = kind
                    row.object_repr = key
                    row.diff = [key]
                    result.append_row_result(row)
                    result.increment_row_result_total(row)
        result.total_rows = len(dataset)
        return result


def _plain(value: Any) -> Any:
    """A cell read by tablib back into what the sheet's parsers read from a CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d") if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _as_csv(headers: list[str], dataset) -> bytes:
    out = io.StringIO()
    rows = csv.writer(out)
    rows.writerow(headers)
    for row in dataset:
        rows.writerow([_plain(v) for v in row])
    return out.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------
# Formats: read as django-import-export reads; write through core.writer (formula-safe).


def _cols(dataset) -> list[writer.Col]:
    # Years are numbers without a thousands separator (1985, not 1,985).
    return [writer.Col(str(h), writer.ANY, num_format="0" if str(h).endswith("年份") else None)
            for h in dataset.headers]


class SafeXLSX(base_formats.XLSX):
    def export_data(self, dataset, **kwargs: Any) -> bytes:
        book = writer.XlsxBook(in_memory=True)
        sheet = book.sheet(dataset.title or "导出", _cols(dataset))
        sheet.extend(list(row) for row in dataset)
        return book.close()


class SafeCSV(base_formats.CSV):
    def export_data(self, dataset, **kwargs: Any) -> str:
        return "".join(writer.csv_lines(_cols(dataset), (list(row) for row in dataset)))


IMPORT_FORMATS = [base_formats.XLSX, base_formats.CSV]
EXPORT_FORMATS = [SafeXLSX, SafeCSV]


class SheetImportExportMixin(ImportExportMixin):
    """Import and export buttons on an admin changelist, in the sheets' formats.

    The admin log is left out: the rows are written through the services, whose history (simple-history,
    reason 工作簿导入) records every change, and the import's rows carry keys, not instances."""

    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS
    skip_admin_log = True
