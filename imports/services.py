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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from compliance.changes import Changes, capture_changes
from compliance.rejudge import bulk_changes
from core.collector import collector_paused
from core.sheets import Action, ImportIssue, ParsedRow, RowRefused, Sheet, registry

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
    # With workbook_import(track=True): model → {pk: newest history id} of the existing rows it would change.
    fingerprint: dict[str, dict[str, int]] | None = None
    # What the rules' re-judging after the commit did (``Rejudged``); None when nothing was written, or when an
    # outer transaction holds the commit and the re-judging with it.
    rejudged: Rejudged | None = None

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


@dataclass(frozen=True)
class Rejudged:
    """The findings the re-judging after an import's commit opened and resolved; ``pending``: targets handed to a
    sweep in the Celery workers (a whole city's rows), whose findings are not current yet; ``sweep``: the sweep
    that judged here instead of lists, whose page shows it."""

    opened: int = 0
    resolved: int = 0
    pending: int = 0
    errors: int = 0
    sweep: int | None = None

    @classmethod
    def of(cls, changes: Changes) -> Rejudged:
        from compliance.models import Sweep

        swept = list(Sweep.objects.filter(pk__in=changes.sweep_ids).values_list("pk", "opened", "resolved", "errors")
                     ) if changes.sweep_ids else []
        return cls(opened=len(changes.opened) + sum(s[1] for s in swept),
                   resolved=len(changes.resolved) + sum(s[2] for s in swept), pending=changes.pending,
                   errors=len(changes.errors) + sum(len(s[3]) for s in swept),
                   sweep=max((s[0] for s in swept), default=None))


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


PARSE_CHUNK = 2_000  # rows parsed column by column at a time; the progress bar moves after each


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
    width = max(positions.values(), default=-1) + 1
    rows = [(row, values if len(values) >= width else [*values, *([None] * (width - len(values)))])
            for row, values in table.rows]
    for start in range(0, len(rows), PARSE_CHUNK):
        for parsed in sheet.parse_rows(rows[start:start + PARSE_CHUNK], positions, ctx):
            row = parsed.row
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
        if progress is not None:
            progress.advance(len(rows[start:start + PARSE_CHUNK]))
    out.rows = len(table.rows)
    return parsed_rows


def _parse_tables(tables: list[Table], ctx: ImportContext, result: ImportResult,
                  steps: _Progress) -> list[tuple[Sheet, SheetResult, list[ParsedRow]]]:
    """Every known sheet's rows parsed, in the order their dependencies need; each sheet's result noted."""
    by_name = {t.name: t for t in tables}
    parsed: list[tuple[Sheet, SheetResult, list[ParsedRow]]] = []
    for sheet_class in registry.ordered(by_name):
        sheet_obj = sheet_class()
        out = SheetResult(name=sheet_obj.name)
        result.sheets.append(out)
        parsed.append((sheet_obj, out, _parse_table(sheet_obj, by_name[sheet_class.name], ctx, out, steps)))
    return parsed


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


class TooLargeForRequest(Exception):
    """The file holds more rows than a web request may import; the caller hands it to a worker."""

    def __init__(self, rows: int):
        super().__init__(f"{rows} rows")
        self.rows = rows


STALE_PREVIEW_MESSAGE = ("预览之后，本文件要修改的记录已被他人修改或新增（{where}），为避免覆盖他人的修改，"
                         "本次未写入任何数据。请重新上传文件并预览后再确认导入。")


# -- what a preview saw of the rows it would change ----------------------------------------------------------
# Every domain model keeps its history (django-simple-history): the newest history id of a row says which version
# of it someone saw. The preview (a dry run) notes which rows its writes touched and, after the rollback, their
# newest history ids; the confirmation compares before writing anything.


def _history_models() -> list[tuple[str, Any, str]]:
    from simple_history.models import registered_models

    found = []
    for model in registered_models.values():
        history = getattr(model, "history", None)
        if history is None or model._meta.proxy:
            continue
        found.append((model._meta.label_lower, history.model, model._meta.pk.attname))
    return sorted(found, key=lambda m: m[0])


def _touched_since(started) -> dict[str, list[Any]]:
    """(model → pks) of the rows whose history gained a version since ``started`` (this import's writes)."""
    touched: dict[str, list[Any]] = {}
    for label, history, pk_name in _history_models():
        pks = sorted({pk for pk in history.objects.filter(history_date__gte=started).values_list(pk_name, flat=True)})
        if pks:
            touched[label] = pks
    return touched


_FINGERPRINT_SLICE = 5_000  # SQLite caps the parameters of one statement


def _fingerprint(touched: dict[str, list[Any]]) -> dict[str, dict[str, int]]:
    """(model → {pk: newest history id}) of the given rows as committed now; rows that do not exist are absent."""
    from django.db.models import Max

    by_label = {label: (history, pk_name) for label, history, pk_name in _history_models()}
    prints: dict[str, dict[str, int]] = {}
    for label, pks in touched.items():
        if label not in by_label:
            continue
        history, pk_name = by_label[label]
        seen: dict[str, int] = {}
        for start in range(0, len(pks), _FINGERPRINT_SLICE):
            part = pks[start:start + _FINGERPRINT_SLICE]
            rows = history.objects.filter(**{f"{pk_name}__in": part}).values(pk_name).annotate(
                newest=Max("history_id")).order_by().values_list(pk_name, "newest")
            seen.update({str(pk): newest for pk, newest in rows})
        prints[label] = seen
    return prints


def _stale_rows(expected: dict[str, dict[str, int]]) -> list[str]:
    """The models whose rows changed (or appeared, or went) since ``expected`` was taken."""
    now = _fingerprint({label: sorted(rows) for label, rows in expected.items()})
    changed = []
    for label, rows in expected.items():
        if now.get(label, {}) != rows:
            changed.append(label)
    return changed


def _refuse_stale(result: ImportResult, where: list[str]) -> None:
    from django.apps import apps

    names = []
    for label in where:
        if "." in label:
            try:
                names.append(str(apps.get_model(label)._meta.verbose_name))
            except LookupError:
                names.append(label)
        else:
            names.append(f"工作表“{label}”")
    message = STALE_PREVIEW_MESSAGE.format(where="、".join(dict.fromkeys(names)))
    result.file_issues.append(ImportIssue("文件", None, "", message, "stale_preview"))


def _outcomes(summary: dict[str, Any] | None) -> dict[tuple[str, str], str]:
    """(sheet, key) → created/updated/unchanged as a summary records them (unchanged keys only as a count)."""
    found: dict[tuple[str, str], str] = {}
    for sheet in (summary or {}).get("sheets", []):
        for key in sheet.get("created", []):
            found[(sheet["name"], key)] = "created"
        for key in sheet.get("updated", []):
            found[(sheet["name"], key)] = "updated"
    return found


@collector_paused()
def workbook_import(
    *,
    file: BinaryIO | str | Path,
    user=None,
    dry_run: bool = False,
    filename: str | None = None,
    sheet: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_rows: int | None = None,
    track: bool = False,
    expect: dict[str, Any] | None = None,
) -> ImportResult:
    """Import an .xlsx workbook (or one sheet as CSV) all or nothing.

    ``file`` is a path or a binary file object (e.g. an upload); ``filename``
    overrides its name, which tells .xlsx from .csv and names a CSV's sheet.
    ``user`` is recorded in history and limits a clerk to their own 街办;
    None means no restriction. ``progress(done, total)`` is called now and
    then (a long import's progress bar).

    ``max_rows``: raise TooLargeForRequest, before any row is parsed, when the file holds more (the cap on what a
    web request does, whatever the file declared). ``track``: note on the result (``fingerprint``) the rows this
    import would change, as they are now. ``expect``: a preview's ``fingerprint`` and ``summary``; when any of
    those rows changed since, or a row would now be created/updated/left where the preview said otherwise,
    nothing is written and the file issue ``stale_preview`` asks for a new preview.
    """
    from django.utils import timezone

    result = ImportResult(dry_run=dry_run)
    data, name = _read_bytes(file)
    tables = _read_tables(data, filename or name, sheet.strip() if sheet else None, result)
    if result.file_issues:
        return result
    if max_rows is not None and sum(len(t.rows) for t in tables) > max_rows:
        raise TooLargeForRequest(sum(len(t.rows) for t in tables))

    ctx = ImportContext(user=user, dry_run=dry_run)
    steps = _Progress(progress, sum(len(t.rows) for t in tables))
    parsed = _parse_tables(tables, ctx, result, steps)
    # Every cell is parsed: the file and its cells go before the rows' records are built (a tenth of the peak
    # memory of a 100,000-person import).
    del data, tables

    # bulk_changes: the rules re-judge what the import touched once, after commit. Leaving the block by
    # an exception rolls everything back and re-judges nothing.
    touched: dict[str, list[Any]] = {}
    # The commit runs the re-judging inside this block (when this transaction is the outermost), and the result
    # page then says what it found. page=False: no page waits, so it is judged here as before, not queued.
    nested = transaction.get_connection().in_atomic_block
    try:
        with capture_changes(page=False) as judged, transaction.atomic(), bulk_changes():
            if expect is not None and expect.get("fingerprint") is not None:
                stale = _stale_rows(expect["fingerprint"])
                if stale:
                    _refuse_stale(result, stale)
                    raise _RollBack
            started = timezone.now()
            for sheet_obj, out, rows in parsed:
                _write_sheet(sheet_obj, rows, ctx, out, steps)
            if track and result.ok:
                touched = _touched_since(started)
            if result.ok and expect is not None:
                before = _outcomes(expect.get("summary"))
                now = _outcomes(summarize(result))
                # A row created by someone else meanwhile, or edited so that the file now changes it (or no
                # longer does): the preview no longer says what the confirmation would do.
                moved = sorted({key[0] for key in before.keys() | now.keys() if before.get(key) != now.get(key)})
                if moved:
                    _refuse_stale(result, moved)
                    raise _RollBack
            if result.ok and not dry_run:  # otherwise everything is rolled back anyway
                for task in ctx.finish:
                    task()
            if dry_run or not result.ok:
                raise _RollBack
    except _RollBack:
        pass
    if result.written and not nested:
        result.rejudged = Rejudged.of(judged)
    if touched:
        result.fingerprint = _fingerprint(touched)
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
        "rejudged": None if result.rejudged is None else asdict(result.rejudged),
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


# What a web request may check or import itself: the rows Excel would show, counted in the file, never the
# sheet's <dimension> (a writer may declare A1:I2 over 20,000 rows), and the unpacked size of what is parsed.
def inline_max_unpacked_bytes() -> int:
    return _limit("IMPORT_INLINE_MAX_UNPACKED_BYTES", 8 * MB)


# A <row> element, with or without a namespace prefix (<x:row>); <rows…> or <rowBreaks> do not match.
_ROW_ELEMENT = re.compile(rb"<(?:[A-Za-z0-9_]+:)?row[\s>/]")
_SHEET_ELEMENT = re.compile(rb"<(?:[A-Za-z0-9_]+:)?sheet\b([^>]*)>")
_RELATIONSHIP = re.compile(rb"<(?:[A-Za-z0-9_]+:)?Relationship\b([^>]*)>")
_ATTRIBUTE = re.compile(rb'([A-Za-z0-9_:]+)\s*=\s*"([^"]*)"')
_SMALL_PART = 5 * MB  # workbook.xml and its relationships: a few kB in any real workbook


def _attributes(raw: bytes) -> dict[str, str]:
    import html

    return {name.decode("utf-8", "replace"): html.unescape(value.decode("utf-8", "replace"))
            for name, value in _ATTRIBUTE.findall(raw)}


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str] | None:
    """Registered sheet name → its worksheet part; None when the workbook's index cannot be read."""
    try:
        if archive.getinfo("xl/workbook.xml").file_size > _SMALL_PART \
                or archive.getinfo("xl/_rels/workbook.xml.rels").file_size > _SMALL_PART:
            return None
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    targets = {}
    for raw in _RELATIONSHIP.findall(rels):
        attrs = _attributes(raw)
        if "Id" in attrs and "Target" in attrs:
            target = attrs["Target"]
            targets[attrs["Id"]] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    parts = {}
    for raw in _SHEET_ELEMENT.findall(workbook):
        attrs = _attributes(raw)
        name = attrs.get("name", "").strip()
        rel = next((v for k, v in attrs.items() if k.endswith(":id")), None)
        if registry.get(name) is not None and rel in targets:
            parts[name] = targets[rel]
    return parts


def _count_rows(archive: zipfile.ZipFile, part: str, cap: int) -> int:
    """<row> elements of a worksheet part, read in chunks; stops counting past ``cap``."""
    count = 0
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            data = tail + chunk
            # A match ending in the last 16 bytes is counted with the next chunk, never twice.
            cut = max(len(data) - 16, 0)
            count += len(_ROW_ELEMENT.findall(data, 0, cut))
            if count > cap:
                return count
            tail = data[cut:]
    return count + len(_ROW_ELEMENT.findall(tail))


def _count_data_rows(data: bytes, filename: str, sheet: str = "") -> tuple[int, int]:
    """(data rows, bytes that will be parsed) of an upload, counted in the file itself; past the request's cap the
    count stops (the answer is then only "more than the cap"). A file that cannot be read counts as empty: the
    check proper refuses it with its reason, which is quick."""
    if Path(filename).suffix.lower() != ".xlsx" and data[:4] != b"PK\x03\x04":
        # Lines of a CSV (a cell spanning lines only counts more: the file then goes to the worker, harmlessly).
        return max(data.count(b"\n"), data.count(b"\r"), 1) - 1, len(data)
    if _zip_problem(data) is not None:
        return 0, 0
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0, 0
    with archive:
        parts = _sheet_parts(archive)
        if parts is None:
            return LARGE_IMPORT_ROWS + 1, 0  # cannot tell: the worker reads it
        wanted = {name: part for name, part in parts.items() if not sheet or name == sheet.strip()}
        rows = unpacked = 0
        for part in wanted.values():
            try:
                info = archive.getinfo(part)
            except KeyError:
                continue
            unpacked += info.file_size
            rows += max(_count_rows(archive, part, LARGE_IMPORT_ROWS + 1) - 1, 0)  # less the header row
            if rows > LARGE_IMPORT_ROWS:
                break
        shared = next((i for i in archive.infolist() if i.filename == "xl/sharedStrings.xml"), None)
        return rows, unpacked + (shared.file_size if shared is not None else 0)


def runs_in_worker(upload) -> bool:
    """The size decision: a worker (Celery) checks and imports what is larger than a request may handle, counted
    in the stored file (rows, and the bytes that would be parsed); the import itself stops a request that meets
    more rows than counted (``max_rows``)."""
    if upload.rows > LARGE_IMPORT_ROWS or upload.size > inline_max_unpacked_bytes():
        return True
    try:
        data = upload.path.read_bytes()
    except OSError:
        return False  # the check reports the missing file at once
    rows, unpacked = _count_data_rows(data, upload.filename, upload.sheet)
    return rows > LARGE_IMPORT_ROWS or unpacked > inline_max_unpacked_bytes()


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
    upload.rows = _count_data_rows(upload.path.read_bytes(), name, upload.sheet)[0] if written <= limit else 0
    upload.ip = _request_ip()
    upload.save()
    return upload


def _request_ip() -> str | None:
    from audit.context import client_ip, current_request

    return client_ip(current_request.get())


def upload_run(*, upload, dry_run: bool, max_rows: int | None = None):
    """Check (dry run) or import a stored upload; the result is kept on it.

    A confirmation re-reads and re-checks the stored file from scratch: nothing
    the preview saw is trusted, and the import is all or nothing as always. It
    also refuses (``stale_preview``) when a row the preview would change has
    changed since. ``max_rows``: see workbook_import (TooLargeForRequest leaves
    the upload as it was, for the caller to queue).
    """
    from django.core.cache import cache
    from django.utils import timezone

    from .models import StoredUpload, UploadState

    before = upload.state
    StoredUpload.objects.filter(pk=upload.pk).update(
        state=UploadState.CHECKING if dry_run else UploadState.IMPORTING, error="")
    key = progress_key(upload)

    def report(done: int, total: int) -> None:
        cache.set(key, {"done": done, "total": total}, 3600)

    expect = None if dry_run else {"fingerprint": upload.fingerprint, "summary": upload.summary}
    try:
        result = workbook_import(file=upload.path, user=upload.user, dry_run=dry_run, filename=upload.filename,
                                 sheet=upload.sheet or None, progress=report, max_rows=max_rows, track=dry_run,
                                 expect=expect)
    except TooLargeForRequest:
        StoredUpload.objects.filter(pk=upload.pk).update(state=before)
        raise
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
    fields = ["state", "summary", "finished_at"]
    if dry_run:
        upload.fingerprint = result.fingerprint or {}
        fields.append("fingerprint")
    upload.save(update_fields=fields)
    return result


def progress_key(upload) -> str:
    return f"imports:progress:{upload.pk}"


def upload_start(*, upload, dry_run: bool) -> bool:
    """Run now when small; queue a Celery task when large. True when queued.

    Raises QueueUnavailable (lianhu.queue) when the task cannot be queued: the upload is then left as it was
    before (a confirmation stays 已检查 so it can be confirmed again), never 排队中."""
    from lianhu.queue import QueueUnavailable, enqueue

    from .models import StoredUpload, UploadState

    ip = _request_ip()
    if ip and ip != upload.ip:
        StoredUpload.objects.filter(pk=upload.pk).update(ip=ip)
        upload.ip = ip
    if not runs_in_worker(upload):
        try:
            upload_run(upload=upload, dry_run=dry_run, max_rows=LARGE_IMPORT_ROWS)
            return False
        except TooLargeForRequest as too_large:
            # More rows than the file seemed to hold: the worker takes it, the request stops here.
            StoredUpload.objects.filter(pk=upload.pk).update(rows=too_large.rows)
            upload.rows = too_large.rows
    from .tasks import run_upload

    before = upload.state
    StoredUpload.objects.filter(pk=upload.pk).update(state=UploadState.QUEUED, attempts=0, heartbeat_at=None)
    upload.state = UploadState.QUEUED

    def queue() -> None:
        try:
            enqueue(run_upload, str(upload.pk), dry_run, what="导入检查" if dry_run else "导入")
        except QueueUnavailable as unavailable:
            back = before if not dry_run else UploadState.FAILED
            StoredUpload.objects.filter(pk=upload.pk).update(state=back, error=unavailable.message)
            upload.state, upload.error = back, unavailable.message
            raise

    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(queue, robust=False)  # the worker must find the committed 排队中 row
    else:
        queue()  # a view (autocommit): the caller hears at once when the queue is down
    return True


# -- a worker's hold on an upload ------------------------------------------------------------------------------

MAX_ATTEMPTS = 3  # deliveries of one upload's task; past this a file that kills its worker is given up
WORKER_LOST_MESSAGE = "后台处理多次中断（可能文件过大或服务器重启），未写入任何数据。请拆分文件后重新上传，或联系管理员。"


def import_lease() -> float:
    from django.conf import settings

    return float(getattr(settings, "IMPORT_LEASE_SECONDS", 60))


def upload_claim(*, upload_id, dry_run: bool, wait: Callable[[float], None] | None = None):
    """The upload for this worker to run, or None.

    Queued: claimed. Already checking/importing: another delivery of the same task is on it; while its heartbeat
    is fresh this one waits (up to two leases), and takes over once the heartbeat is older than the lease (that
    worker died: its transaction was rolled back with its connection, so starting again is safe). Finished
    meanwhile: None. Past MAX_ATTEMPTS deliveries the upload fails with a message instead of looping."""
    import time

    from django.utils import timezone

    from .models import StoredUpload, UploadState

    wait = wait or time.sleep
    lease = import_lease()
    running = {UploadState.CHECKING, UploadState.IMPORTING}
    for _ in range(9):
        with transaction.atomic():
            upload = StoredUpload.objects.select_for_update().select_related("user").filter(pk=upload_id).first()
            if upload is None:
                return None
            now = timezone.now()
            beat = upload.heartbeat_at
            if upload.state == UploadState.QUEUED or (
                    upload.state in running and (beat is None or (now - beat).total_seconds() > lease)):
                if upload.attempts >= MAX_ATTEMPTS:
                    upload.state, upload.error, upload.finished_at = UploadState.FAILED, WORKER_LOST_MESSAGE, now
                    upload.save(update_fields=["state", "error", "finished_at"])
                    return None
                upload.attempts += 1
                upload.heartbeat_at = now
                upload.save(update_fields=["attempts", "heartbeat_at"])
                return upload
            if upload.state not in running:
                return None
        wait(lease / 4)
    return None


class Heartbeat:
    """Bumps ``heartbeat_at`` of an upload from a thread of its own while a worker runs it (a bulk write may take
    longer than a lease without a progress report). Only in a worker: an eager run has no one to take over."""

    def __init__(self, upload_id, every: float):
        import threading

        self.upload_id = upload_id
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"heartbeat-{upload_id}", daemon=True)

    def _run(self) -> None:
        from django.db import connection
        from django.utils import timezone

        from .models import StoredUpload

        try:
            while not self.stop.wait(self.every):
                StoredUpload.objects.filter(pk=self.upload_id).update(heartbeat_at=timezone.now())
        except Exception:  # a lost beat only lets another worker take over later than it could
            pass
        finally:
            connection.close()

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def upload_run_in_worker(*, upload_id, dry_run: bool, eager: bool = False) -> bool | None:
    """What the Celery task does: claim, keep the heartbeat, run. None when there was nothing to run."""
    import contextlib

    upload = upload_claim(upload_id=upload_id, dry_run=dry_run)
    if upload is None:
        return None
    beat = contextlib.nullcontext() if eager else Heartbeat(upload.pk, every=max(0.5, import_lease() / 4))
    with beat:
        return upload_run(upload=upload, dry_run=dry_run).ok
