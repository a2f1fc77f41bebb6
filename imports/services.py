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
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from compliance.onsave import bulk_changes
from lianhu.records import without_db_checks

from .sheets import Action, ImportIssue, ParsedRow, RowRefused, Sheet, registry

CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 is a superset of the GBK Excel writes on Chinese Windows.
ERROR_HEADER = "错误"  # the column the error workbook adds; ignored when the fixed file comes back
MB = 1024 * 1024


def _limit(name: str, default: int) -> int:
    from django.conf import settings

    return int(getattr(settings, name, default))


def max_upload_bytes() -> int:
    return _limit("IMPORT_MAX_UPLOAD_BYTES", 20 * MB)


# A workbook is a zip: what it declares unpacked is checked before any XML is parsed, so a
# small file that inflates to gigabytes (a zip bomb) is refused without being inflated.
def max_unpacked_bytes() -> int:
    return _limit("IMPORT_MAX_UNPACKED_BYTES", 400 * MB)


def max_zip_entries() -> int:
    return _limit("IMPORT_MAX_ZIP_ENTRIES", 2_000)


MAX_COMPRESSION_RATIO = 200  # shared strings and sheets of real workbooks stay well below this


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
        # Work a sheet leaves for once all rows are written (e.g. granting rights on every new 社区 in bulk),
        # still inside the import's transaction.
        self.finish: list[Callable[[], None]] = []
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


def _zip_problem(data: bytes) -> tuple[str, str] | None:
    """(code, message) when the bytes are not a workbook we should open; None when they may be parsed."""
    if data[:4] != b"PK\x03\x04":
        return "not_xlsx", "无法读取：文件不是有效的 Excel 工作簿（.xlsx），请在 Excel 中“另存为 Excel 工作簿(*.xlsx)”后重试。"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return "truncated", "无法读取：文件已损坏或不完整（可能没有下载或复制完整），请重新保存后再上传。"
    if len(entries) > max_zip_entries():
        return "too_many_parts", f"工作簿内部文件过多（{len(entries)} 个），不像是正常的 Excel 工作簿，已拒绝。"
    names = {e.filename for e in entries}
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        return "macro_workbook", "工作簿含有宏（VBA），不予导入：请另存为不含宏的 .xlsx 工作簿后重试。"
    unpacked = sum(e.file_size for e in entries)
    if unpacked > max_unpacked_bytes():
        return ("unpacked_too_large",
                f"工作簿解压后过大（约 {unpacked // MB} MB，上限 {max_unpacked_bytes() // MB} MB），请拆分成几个文件分别导入。")
    for entry in entries:
        if entry.compress_size and entry.file_size > 10 * MB and entry.file_size / entry.compress_size \
                > MAX_COMPRESSION_RATIO:
            return "unpacked_too_large", "工作簿解压后过大（压缩比异常，疑似“压缩炸弹”），已拒绝。"
    if "[Content_Types].xml" in names:  # small, read only once the sizes are known to be sane
        head = archive.read("[Content_Types].xml")[:200_000] if archive.getinfo("[Content_Types].xml").file_size \
            < 1_000_000 else b""
        if b"macroEnabled" in head or b"vbaProject" in head:
            return "macro_workbook", "工作簿含有宏（VBA），不予导入：请另存为不含宏的 .xlsx 工作簿后重试。"
    if "xl/workbook.xml" not in names:
        return "not_xlsx", "无法读取：文件不是有效的 Excel 工作簿（.xlsx），缺少工作簿内容，请另存为 .xlsx 后重试。"
    return None


# A formula element in a worksheet part: <f>, <f t="shared" …/>, or with a namespace prefix (<x:f>).
# <formula1> of a drop-down list does not match.
_FORMULA_ELEMENT = re.compile(rb"<(?:[A-Za-z0-9_]+:)?f[\s>/]")


def _has_formulas(data: bytes) -> bool:
    """True when any worksheet of the (already vetted) workbook holds a formula cell; read in chunks, never whole."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            if not (entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml")):
                continue
            with archive.open(entry) as part:
                tail = b""
                while chunk := part.read(1 << 20):
                    if _FORMULA_ELEMENT.search(tail + chunk):
                        return True
                    tail = chunk[-16:]
    return False


def _xlsx_tables(data: bytes, only: str | None) -> tuple[list[Table], list[str]]:
    # calamine (Rust) reads ten times faster than openpyxl but hands over a formula's cached value (often
    # none), so a workbook with any formula is read by openpyxl, which shows each formula to be refused.
    if _has_formulas(data):
        return _xlsx_tables_openpyxl(data, only)
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    tables, skipped = [], []
    try:
        for title in workbook.sheet_names:
            name = title.strip()
            if registry.get(name) is None or (only and name != only):
                skipped.append(title)
                continue
            # skip_empty_area=False: rows keep the numbers Excel shows, even when the sheet starts lower down.
            values = workbook.get_sheet_by_name(title).to_python(skip_empty_area=False)
            tables.append(_table(name, [(n, [None if v == "" else v for v in row]) for n, row in enumerate(values, 1)]))
    finally:
        workbook.close()
    return tables, skipped


def _xlsx_tables_openpyxl(data: bytes, only: str | None) -> tuple[list[Table], list[str]]:
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


def _decode_csv(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # Excel's "Unicode 文本" and some exporters write UTF-16 with a byte-order mark.
        return data.decode("utf-16")
    if len(data) >= 4 and data[1:4:2] == b"\x00\x00" and data[0:4:2] != b"\x00\x00":
        return data.decode("utf-16-le")  # UTF-16 without a mark: every other byte of ASCII headers is 0
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("gb18030", data, 0, 1, "undecodable")  # pragma: no cover - gb18030 takes anything


def _csv_table(data: bytes, name: str) -> Table:
    text = _decode_csv(data)
    first = text.split("\n", 1)[0]
    # Excel's "Unicode 文本" is tab-separated.
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [(n, list(values)) for n, values in enumerate(reader, 1)]
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

    def refuse(code: str, message: str) -> list[Table]:
        result.file_issues.append(ImportIssue(label, None, "", message, code))
        return []

    if len(data) > max_upload_bytes():
        return refuse("file_too_large", f"文件过大（{len(data) / MB:.1f} MB，上限 {max_upload_bytes() // MB} MB），"
                                        "请拆分成几个文件分别导入。")
    if not data.strip():
        return refuse("empty_file", "文件是空的。")
    if suffix in (".xlsm", ".xltm", ".xlam"):
        return refuse("macro_workbook", "不接受启用宏的工作簿（.xlsm）：请在 Excel 中另存为 .xlsx 工作簿后重试。")
    if suffix == ".xls" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return refuse("old_xls", "不接受旧版 .xls 文件：请在 Excel 中另存为 .xlsx 工作簿后重试。")
    if suffix in (".xlsx", ".xltx") or (suffix != ".csv" and is_zip):
        problem = _zip_problem(data)
        if problem is not None:
            return refuse(*problem)
        try:
            tables, skipped = _xlsx_tables(data, sheet)
        except Exception as error:  # any parser failure on a hostile file is the file's fault
            return refuse("unreadable", f"无法读取这个 Excel 文件（{error.__class__.__name__}），请另存为 .xlsx 后重试。")
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
    try:
        return [_csv_table(data, name)]
    except (UnicodeDecodeError, csv.Error) as error:
        return refuse("unreadable", f"无法读取这个 CSV 文件（{error.__class__.__name__}）：请保存为 UTF-8 或 GBK 编码的 CSV。")


# ---------------------------------------------------------------------------
# Checking and writing


class _Progress:
    """Calls ``report(done, total)`` now and then: parsing and writing count one step per row each."""

    EVERY = 500

    def __init__(self, report: Callable[[int, int], None] | None, rows: int):
        self.report = report
        self.total = max(rows * 2, 1)
        self.done = 0

    def step(self) -> None:
        self.done += 1
        if self.report is not None and self.done % self.EVERY == 0:
            self.report(self.done, self.total)

    def advance(self, steps: int) -> None:
        before, self.done = self.done, self.done + steps
        if self.report is not None and before // self.EVERY != self.done // self.EVERY:
            self.report(self.done, self.total)

    def finish(self) -> None:
        if self.report is not None:
            self.report(self.total, self.total)


def _parse_table(sheet: Sheet, table: Table, ctx: ImportContext, out: SheetResult,
                 progress: _Progress | None = None) -> list[ParsedRow]:
    def issue(row: int, column: str, message: str, code: str) -> None:
        out.issues.append(ImportIssue(sheet.name, row, column, message, code))

    positions: dict[str, int] = {}
    for index, header in enumerate(table.headers):
        if header is None or header == ERROR_HEADER:
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
        if progress is not None:
            progress.step()
        if parsed.key and parsed.key in seen:
            parsed.issues.append(
                (sheet.key, f"{sheet.key} {parsed.key} 与第{seen[parsed.key]}行重复。", "duplicate_key")
            )
        elif parsed.key:
            seen[parsed.key] = row
        for where, message, code in parsed.issues:
            issue(row, where, message, code)
        if parsed.issues:
            ctx.refused.setdefault(sheet.name, {}).setdefault(parsed.key, row)
        parsed_rows.append(parsed)
    out.rows = len(table.rows)
    return parsed_rows


def _record(sheet: Sheet, parsed: ParsedRow, outcome: Action | list, ctx: ImportContext, out: SheetResult) -> None:
    if isinstance(outcome, Action):
        {Action.CREATED: out.created, Action.UPDATED: out.updated, Action.UNCHANGED: out.unchanged}[outcome].append(
            parsed.key
        )
        return
    ctx.refused.setdefault(sheet.name, {}).setdefault(parsed.key, parsed.row)
    out.issues.extend(ImportIssue(sheet.name, parsed.row, c, m, code) for c, m, code in outcome)


def _write_sheet(sheet: Sheet, rows: list[ParsedRow], ctx: ImportContext, out: SheetResult,
                 steps: _Progress) -> None:
    good = [row for row in rows if not row.issues]
    outcomes = None
    if good:
        try:
            with transaction.atomic():
                outcomes = sheet.bulk_apply(good, ctx)
        except DatabaseError:
            # The checks missed something the database refuses (a value out of a column's range…):
            # everything the batch wrote is rolled back and the rows go one by one to name the bad one.
            outcomes = None
    if outcomes is None:
        for row in rows:
            if not row.issues:
                _write_row(sheet, row, ctx, out)
            steps.step()
        return
    for row, outcome in zip(good, outcomes, strict=True):
        if outcome is None:  # the sheet leaves this row to the one-at-a-time path
            _write_row(sheet, row, ctx, out)
        else:
            _record(sheet, row, outcome, ctx, out)
    steps.advance(len(rows))


def _write_row(sheet: Sheet, parsed: ParsedRow, ctx: ImportContext, out: SheetResult) -> None:
    outcome: Action | list
    try:
        with transaction.atomic():
            outcome = sheet.apply_row(dict(parsed.data), ctx)
    except RowRefused as refused:
        outcome = [(refused.column, refused.message, refused.code)]
    except ValidationError as error:
        outcome = sheet.validation_issues(error)
    except IntegrityError as error:
        # A constraint the model's clean() does not repeat; still this row's fault, not the importer's.
        outcome = [(sheet.key, f"数据库拒绝写入：{error}", "integrity")]
    _record(sheet, parsed, outcome, ctx, out)


class _RollBack(Exception):
    pass


def workbook_import(
    *,
    file: BinaryIO | str | Path,
    user=None,
    dry_run: bool = False,
    filename: str | None = None,
    sheet: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import an .xlsx workbook (or one sheet as CSV) all or nothing.

    ``file`` is a path or a binary file object (e.g. an upload); ``filename``
    overrides its name, which tells .xlsx from .csv and names a CSV's sheet.
    ``user`` is recorded in history and limits a clerk to their own 街办;
    None means no restriction. ``progress(done, total)`` is called now and
    then (a long import's progress bar).
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
    steps = _Progress(progress, sum(len(t.rows) for t in tables))
    for sheet_obj, table in plan:
        out = SheetResult(name=sheet_obj.name)
        result.sheets.append(out)
        parsed.append((sheet_obj, out, _parse_table(sheet_obj, table, ctx, out, steps)))

    # bulk_changes: the rules re-judge what the import touched once, after commit. Leaving the block by
    # an exception rolls everything back and re-judges nothing.
    try:
        with transaction.atomic(), bulk_changes(), without_db_checks():
            for sheet_obj, out, rows in parsed:
                _write_sheet(sheet_obj, rows, ctx, out, steps)
            if result.ok and not dry_run:  # otherwise everything is rolled back anyway
                for task in ctx.finish:
                    task()
            if dry_run or not result.ok:
                raise _RollBack
    except _RollBack:
        pass
    for out in result.sheets:
        out.issues.sort(key=lambda i: (i.row or 0))
    steps.finish()
    return result


# ---------------------------------------------------------------------------
# Uploads through the web: stored, checked (dry run), then imported after confirmation.

LARGE_IMPORT_ROWS = 2_000  # above this, checking and importing run as a Celery task with a progress bar


def may_import(user) -> bool:
    """Administrators, and clerks (for their own 街办); reviewers and department users only read."""
    from accounts.roles import is_admin, is_clerk

    return user.is_authenticated and (is_admin(user) or is_clerk(user))


def summarize(result: ImportResult) -> dict[str, Any]:
    """An ImportResult as JSON (kept on the upload; the preview and result pages render it)."""
    return {
        "ok": result.ok,
        "dry_run": result.dry_run,
        "written": result.written,
        "skipped": list(result.skipped_sheets),
        "file_issues": [{"message": i.message, "code": i.code} for i in result.file_issues],
        "sheets": [
            {
                "name": s.name, "rows": s.rows, "created": s.created, "updated": s.updated,
                "unchanged": len(s.unchanged),
                "refused": [
                    {"row": row, "issues": [{"column": i.column, "message": i.message, "code": i.code} for i in issues]}
                    for row, issues in sorted(s.refused_rows.items())
                ],
                "header_issues": [{"column": i.column, "message": i.message, "code": i.code}
                                  for i in s.issues if i.row is None],
            }
            for s in result.sheets
        ],
    }


def _estimate_rows(data: bytes, filename: str) -> int:
    """Rows to expect, cheaply: lines of a CSV, the declared dimensions of a workbook's sheets."""
    if Path(filename).suffix.lower() != ".xlsx" and data[:4] != b"PK\x03\x04":
        return max(data.count(b"\n") - 1, 0)
    if _zip_problem(data) is not None:
        return 0
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    except Exception:  # the check proper reports what is wrong with the file
        return 0
    try:
        # A sheet without a recorded size may be anything: treat it as large.
        return sum((ws.max_row or LARGE_IMPORT_ROWS + 1) - 1 for ws in book.worksheets if registry.get(ws.title.strip()))
    finally:
        book.close()


def upload_store(*, user, file, sheet: str = ""):
    """Keep an uploaded file under MEDIA_ROOT/imports/<uuid>, owned by ``user``."""
    from .models import StoredUpload

    name = Path(getattr(file, "name", "") or "upload").name[:200]
    upload = StoredUpload(user=user, filename=name, sheet=sheet.strip()[:20], size=getattr(file, "size", 0) or 0)
    upload.path.parent.mkdir(parents=True, exist_ok=True)
    limit = max_upload_bytes()
    written = 0
    with open(upload.path, "wb") as out:
        for chunk in file.chunks() if hasattr(file, "chunks") else [file.read()]:
            # One byte past the limit is enough to say it is too large; the rest is not kept.
            chunk = chunk[: limit + 1 - written]
            out.write(chunk)
            written += len(chunk)
            if written > limit:
                break
    upload.size = written
    upload.rows = _estimate_rows(upload.path.read_bytes(), name) if written <= limit else 0
    upload.save()
    return upload


def upload_run(*, upload, dry_run: bool):
    """Check (dry run) or import a stored upload; the result is kept on it.

    A confirmation re-reads and re-checks the stored file from scratch: nothing
    the preview saw is trusted, and the import is all or nothing as always.
    """
    from django.core.cache import cache
    from django.utils import timezone

    from .models import StoredUpload, UploadState

    StoredUpload.objects.filter(pk=upload.pk).update(
        state=UploadState.CHECKING if dry_run else UploadState.IMPORTING, error="")
    key = progress_key(upload)

    def report(done: int, total: int) -> None:
        cache.set(key, {"done": done, "total": total}, 3600)

    try:
        result = workbook_import(file=upload.path, user=upload.user, dry_run=dry_run, filename=upload.filename,
                                 sheet=upload.sheet or None, progress=report)
    except Exception as error:
        StoredUpload.objects.filter(pk=upload.pk).update(state=UploadState.FAILED, error=error.__class__.__name__,
                                                          finished_at=timezone.now())
        raise
    if result.written:
        state = UploadState.IMPORTED
    elif result.ok:
        state = UploadState.CHECKED
    else:
        state = UploadState.REFUSED
    upload.state, upload.summary, upload.finished_at = state, summarize(result), timezone.now()
    upload.save(update_fields=["state", "summary", "finished_at"])
    return result


def progress_key(upload) -> str:
    return f"imports:progress:{upload.pk}"


def upload_start(*, upload, dry_run: bool) -> bool:
    """Run now when small; queue a Celery task when large. True when queued."""
    from .models import StoredUpload, UploadState

    if upload.rows <= LARGE_IMPORT_ROWS:
        upload_run(upload=upload, dry_run=dry_run)
        return False
    from .tasks import run_upload

    StoredUpload.objects.filter(pk=upload.pk).update(state=UploadState.QUEUED)
    upload.state = UploadState.QUEUED
    transaction.on_commit(lambda: run_upload.delay(str(upload.pk), dry_run))
    return True
