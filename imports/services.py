"""Workbook import: all or nothing.

Every row of every sheet is parsed first (cell formats, duplicate keys within
the file), then every parsed row is written through the domain services, in
dependency order, inside one transaction, so model ``clean()``, cross-sheet
references (a 小区 naming a 社区 created by the same file) and database
constraints are checked exactly as a form save would check them. If any row of
any sheet was refused, or on a dry run, the transaction is rolled back: the
database, its history and any on-commit work stay exactly as they were.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from compliance.onsave import bulk_changes

from .sheets import Action, ImportIssue, ParsedRow, RowRefused, Sheet, registry

CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 is a superset of the GBK Excel writes on Chinese Windows.


@dataclass
class SheetResult:
    name: str
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)

    @property
    def refused_rows(self) -> dict[int, list[ImportIssue]]:
        rows: dict[int, list[ImportIssue]] = {}
        for issue in self.issues:
            if issue.row is not None:
                rows.setdefault(issue.row, []).append(issue)
        return rows


@dataclass
class ImportResult:
    dry_run: bool
    sheets: list[SheetResult] = field(default_factory=list)
    file_issues: list[ImportIssue] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)

    @property
    def issues(self) -> list[ImportIssue]:
        return [*self.file_issues, *(i for s in self.sheets for i in s.issues)]

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def sheet(self, name: str) -> SheetResult:
        return next(s for s in self.sheets if s.name == name)


@dataclass
class Table:
    name: str
    headers: list[str | None]
    rows: list[tuple[int, list[Any]]]


class ImportContext:
    """What every sheet may ask while parsing and writing: who imports, what they may touch, what failed."""

    def __init__(self, user=None, dry_run: bool = False):
        self.user = user
        self.dry_run = dry_run
        self.refused: dict[str, dict[str, int]] = {}  # sheet → key → row number
        self.cache: dict[str, Any] = {}
        self._scope: set[str] | None = None
        self._scope_loaded = False

    @property
    def street_scope(self) -> set[str] | None:
        """Codes of the 街办 the user may write; None for no restriction (administrators, the command line)."""
        if not self._scope_loaded:
            from accounts.roles import is_admin
            from communities.selectors import own_sub_districts

            if self.user is not None and not is_admin(self.user):
                self._scope = set(own_sub_districts(self.user).values_list("code", flat=True))
            self._scope_loaded = True
        return self._scope

    def require_street(self, code: str | None, column: str) -> None:
        scope = self.street_scope
        if scope is None or (code is not None and code in scope):
            return
        if not scope:
            raise RowRefused(column, "您的账号不是街办办事员，不能导入社区数据。", "out_of_scope")
        from communities.models import SubDistrict

        names = dict(SubDistrict.objects.filter(code__in={*scope, code or ""}).values_list("code", "name"))
        own = "、".join(names[c] for c in sorted(scope) if c in names)
        where = names.get(code or "", "未划定街道")
        raise RowRefused(column, f"无权导入{where}的记录：您只能导入本街办（{own}）的数据。", "out_of_scope")


# ---------------------------------------------------------------------------
# Reading


def _read_bytes(file: BinaryIO | str | Path) -> tuple[bytes, str]:
    if isinstance(file, str | Path):
        path = Path(file)
        return path.read_bytes(), path.name
    data = file.read()
    return (data.encode() if isinstance(data, str) else data), Path(getattr(file, "name", "") or "").name


def _xlsx_tables(data: bytes, only: str | None) -> tuple[list[Table], list[str]]:
    import openpyxl

    # read_only for memory; formulas kept (not their cached values) so they can be refused.
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    tables, skipped = [], []
    try:
        for sheet in workbook.worksheets:
            name = sheet.title.strip()
            if registry.get(name) is None or (only and name != only):
                skipped.append(sheet.title)
                continue
            sheet.reset_dimensions()  # some writers record a wrong used range
            rows = [(n, list(values)) for n, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1)]
            tables.append(_table(name, rows))
    finally:
        workbook.close()
    return tables, skipped


def _csv_table(data: bytes, name: str) -> Table:
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise ValueError("encoding")
    rows = [(n, list(values)) for n, values in enumerate(csv.reader(io.StringIO(text, newline="")), 1)]
    return _table(name, rows)


def _table(name: str, rows: list[tuple[int, list[Any]]]) -> Table:
    header_row = rows[0][1] if rows else []
    headers = [str(h).strip() if h is not None and str(h).strip() else None for h in header_row]
    body = [(n, values) for n, values in rows[1:] if any(v is not None and str(v).strip() for v in values)]
    return Table(name=name, headers=headers, rows=body)


def _read_tables(data: bytes, filename: str, sheet: str | None, result: ImportResult) -> list[Table]:
    label = filename or "文件"
    suffix = Path(filename).suffix.lower()
    is_zip = data[:4] == b"PK\x03\x04"
    if suffix in (".xlsx", ".xlsm") or (suffix != ".csv" and is_zip):
        try:
            tables, skipped = _xlsx_tables(data, sheet)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
            result.file_issues.append(
                ImportIssue(label, None, "", f"无法读取这个 Excel 文件（{error.__class__.__name__}），请另存为 .xlsx 后重试。", "unreadable")
            )
            return []
        result.skipped_sheets = skipped
        if not tables:
            known = "、".join(registry.names())
            wanted = f"“{sheet}”" if sheet else f"以下任一名称（{known}）"
            result.file_issues.append(ImportIssue(label, None, "", f"工作簿中没有名为{wanted}的工作表。", "no_sheet"))
        return tables
    if suffix not in ("", ".csv", ".txt"):
        result.file_issues.append(
            ImportIssue(label, None, "", "只接受 .xlsx 工作簿或 .csv 文件。", "unsupported_file")
        )
        return []
    name = (sheet or Path(filename).stem).strip()
    if registry.get(name) is None:
        known = "、".join(registry.names())
        result.file_issues.append(
            ImportIssue(label, None, "", f"无法确定 CSV 对应的工作表：文件名或 --sheet 应为 {known} 之一。", "unknown_sheet")
        )
        return []
    return [_csv_table(data, name)]


# ---------------------------------------------------------------------------
# Checking and writing


def _parse_table(sheet: Sheet, table: Table, ctx: ImportContext, out: SheetResult) -> list[ParsedRow]:
    def issue(row: int, column: str, message: str, code: str) -> None:
        out.issues.append(ImportIssue(sheet.name, row, column, message, code))

    positions: dict[str, int] = {}
    for index, header in enumerate(table.headers):
        if header is None:
            continue
        if header in positions:
            issue(1, header, "列名重复。", "duplicate_column")
        elif all(c.header != header for c in sheet.columns):
            issue(1, header, f"未知的列。“{sheet.name}”表的列为：{'、'.join(c.header for c in sheet.columns)}。", "unknown_column")
        else:
            positions[header] = index
    for column in sheet.columns:
        if column.header not in positions and not column.optional:
            issue(1, column.header, "缺少这一列。", "missing_column")
    if out.issues:
        return []

    parsed_rows = []
    seen: dict[str, int] = {}
    for row, values in table.rows:
        cells = {h: (values[i] if i < len(values) else None) for h, i in positions.items()}
        parsed = sheet.parse_row(row, cells, ctx)
        if parsed.key and parsed.key in seen:
            parsed.issues.append(
                (sheet.key, f"{sheet.key} {parsed.key} 与第{seen[parsed.key]}行重复。", "duplicate_key")
            )
        elif parsed.key:
            seen[parsed.key] = row
        for column, message, code in parsed.issues:
            issue(row, column, message, code)
        if parsed.issues:
            ctx.refused.setdefault(sheet.name, {}).setdefault(parsed.key, row)
        parsed_rows.append(parsed)
    out.rows = len(table.rows)
    return parsed_rows


def _write_row(sheet: Sheet, parsed: ParsedRow, ctx: ImportContext, out: SheetResult) -> None:
    try:
        with transaction.atomic():
            action = sheet.apply_row(dict(parsed.data), ctx)
    except RowRefused as refused:
        issues = [(refused.column, refused.message, refused.code)]
    except ValidationError as error:
        issues = sheet.validation_issues(error)
    except IntegrityError as error:
        # A constraint the model's clean() does not repeat; still this row's fault, not the importer's.
        issues = [(sheet.key, f"数据库拒绝写入：{error}", "integrity")]
    else:
        {Action.CREATED: out.created, Action.UPDATED: out.updated, Action.UNCHANGED: out.unchanged}[action].append(
            parsed.key
        )
        return
    ctx.refused.setdefault(sheet.name, {}).setdefault(parsed.key, parsed.row)
    out.issues.extend(ImportIssue(sheet.name, parsed.row, c, m, code) for c, m, code in issues)


class _RollBack(Exception):
    pass


def workbook_import(
    *,
    file: BinaryIO | str | Path,
    user=None,
    dry_run: bool = False,
    filename: str | None = None,
    sheet: str | None = None,
) -> ImportResult:
    """Import an .xlsx workbook (or one sheet as CSV) all or nothing.

    ``file`` is a path or a binary file object (e.g. an upload); ``filename``
    overrides its name, which tells .xlsx from .csv and names a CSV's sheet.
    ``user`` is recorded in history and limits a clerk to their own 街办;
    None means no restriction.
    """
    result = ImportResult(dry_run=dry_run)
    data, name = _read_bytes(file)
    tables = _read_tables(data, filename or name, sheet.strip() if sheet else None, result)
    if result.file_issues:
        return result

    ctx = ImportContext(user=user, dry_run=dry_run)
    by_name = {t.name: t for t in tables}
    plan = [(sheet_class(), by_name[sheet_class.name]) for sheet_class in registry.ordered(by_name)]
    parsed: list[tuple[Sheet, SheetResult, list[ParsedRow]]] = []
    for sheet_obj, table in plan:
        out = SheetResult(name=sheet_obj.name)
        result.sheets.append(out)
        parsed.append((sheet_obj, out, _parse_table(sheet_obj, table, ctx, out)))

    # bulk_changes: the rules re-judge what the import touched once, after commit. Leaving the block by
    # an exception rolls everything back and re-judges nothing.
    try:
        with transaction.atomic(), bulk_changes():
            for sheet_obj, out, rows in parsed:
                for row in rows:
                    if not row.issues:
                        _write_row(sheet_obj, row, ctx, out)
            if dry_run or not result.ok:
                raise _RollBack
    except _RollBack:
        pass
    for out in result.sheets:
        out.issues.sort(key=lambda i: (i.row or 0))
    return result
