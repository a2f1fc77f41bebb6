"""The pieces a workbook sheet is made of, and the registry of sheets.

A domain app describes each sheet it owns in its own ``sheets.py`` (found at
start-up like ``admin.py``): the headers, how each cell is parsed, the key
column, the sheets it depends on and how one parsed row is written through the
app's services. The framework (``imports.services``) reads the file, runs the
sheets in dependency order and makes the whole import all or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import Choices

if TYPE_CHECKING:
    from .services import ImportContext


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ImportIssue:
    """One refused cell, row or file, with a stable error code."""

    sheet: str
    row: int | None
    column: str
    message: str
    code: str

    def __str__(self) -> str:
        if self.row is None:
            return f"{self.sheet}: {self.message}"
        return f"{self.sheet} 第{self.row}行 {self.column}: {self.message}"


class CellError(Exception):
    """A value a parser cannot accept."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class RowRefused(Exception):
    """A row the sheet refuses as a whole (unknown reference, out of the user's scope…)."""

    def __init__(self, column: str, message: str, code: str):
        super().__init__(message)
        self.column = column
        self.message = message
        self.code = code


# ---------------------------------------------------------------------------
# Cell parsers. Each takes a non-blank raw cell (str, int, float, bool,
# datetime) and returns the Python value or raises CellError.

Parser = Callable[[Any], Any]


def _integral(value: Any) -> int | None:
    """An int from 1180, 1180.0, "1180" or " 1180.0 "; None when it is not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    return None


def text(max_length: int) -> Parser:
    def parse(value: Any) -> str:
        whole = _integral(value) if isinstance(value, int | float) else None
        result = str(whole if whole is not None else value).strip()
        if len(result) > max_length:
            raise CellError(f"不能超过{max_length}个字符（现为{len(result)}个）。", "too_long")
        return result

    return parse


def digits(length: int, message: str, code: str = "code_format") -> Parser:
    """A numeric code, which Excel may hand over as a number."""

    def parse(value: Any) -> str:
        whole = _integral(value) if isinstance(value, int | float) else None
        result = str(whole if whole is not None else value).strip()
        if not re.fullmatch(rf"[0-9]{{{length}}}", result):
            raise CellError(message, code)
        return result

    return parse


MAX_INTEGER = 2_147_483_647  # the largest value an integer column holds (PostgreSQL integer)


def non_negative_integer(value: Any) -> int:
    number = _integral(value)
    if number is None or number < 0:
        raise CellError("必须是非负整数。", "not_non_negative_integer")
    if number > MAX_INTEGER:
        raise CellError(f"数值过大，不能超过{MAX_INTEGER}。", "too_large")
    return number


def iso_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})\s*", value)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                pass
    raise CellError("日期应为 YYYY-MM-DD 格式（或 Excel 日期单元格），且是真实存在的日期。", "bad_date")


def yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in ("是", "否"):
        return value.strip() == "是"
    raise CellError("应填“是”或“否”。", "bad_yes_no")


def choice(choices: type[Choices]) -> Parser:
    """A choice given by its Chinese label."""
    by_label = {str(label): value for value, label in choices.choices}

    def parse(value: Any) -> str:
        label = str(value).strip()
        if label not in by_label:
            raise CellError(f"应为以下之一：{'、'.join(by_label)}。", "bad_choice")
        return by_label[label]

    return parse


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_formula(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("=")
    # openpyxl hands array and data-table formulas over as objects.
    return type(value).__name__ in ("ArrayFormula", "DataTableFormula")


# ---------------------------------------------------------------------------
# Sheets


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    parse: Parser
    blank: bool = False  # the cell may be empty
    empty: Any = None  # the value of an empty cell
    optional: bool = False  # the whole column may be missing; its field is then left alone


Issue = tuple[str, str, str]  # (column, message, code)


@dataclass
class ParsedRow:
    row: int
    key: str
    data: dict[str, Any]
    issues: list[tuple[str, str, str]]  # (column, message, code)


class Sheet:
    """A sheet of the import workbook. Subclasses set the class attributes and ``apply_row``."""

    name: ClassVar[str]
    columns: ClassVar[list[Column]]
    key: ClassVar[str]  # header of the natural-key column
    depends_on: ClassVar[tuple[str, ...]] = ()
    history_reason: ClassVar[str] = "工作簿导入"

    @classmethod
    def column(cls, header: str) -> Column:
        return next(c for c in cls.columns if c.header == header)

    @classmethod
    def header_for_field(cls, field: str) -> str:
        for column in cls.columns:
            if column.field == field:
                return column.header
        return cls.key

    def parse_row(self, row: int, values: dict[str, Any], ctx: ImportContext) -> ParsedRow:
        """Parse every present cell; then ``clean_row`` for checks across cells."""
        data: dict[str, Any] = {}
        issues: list[tuple[str, str, str]] = []
        for column in self.columns:
            if column.header not in values:
                continue
            raw = values[column.header]
            if is_formula(raw):
                issues.append((column.header, "不接受公式，请把单元格改为数值或文字后再导入。", "formula"))
                continue
            if is_blank(raw):
                if column.blank:
                    data[column.field] = column.empty
                else:
                    issues.append((column.header, "不能为空。", "required"))
                continue
            try:
                data[column.field] = column.parse(raw)
            except CellError as error:
                issues.append((column.header, error.message, error.code))
        key_field = self.column(self.key).field
        parsed = ParsedRow(row=row, key=str(data.get(key_field, "")), data=data, issues=issues)
        self.clean_row(parsed, ctx)
        return parsed

    def clean_row(self, parsed: ParsedRow, ctx: ImportContext) -> None:
        """Checks that need more than one cell or a lookup; append to ``parsed.issues``.

        Runs even when some cells were refused (so every error is reported):
        a field whose cell was refused is absent from ``parsed.data``."""

    def apply_row(self, data: dict[str, Any], ctx: ImportContext) -> Action:
        """Write one row through the app's services; raise ValidationError or RowRefused to refuse it."""
        raise NotImplementedError

    def bulk_apply(self, rows: list[ParsedRow], ctx: ImportContext) -> list[Action | list[Issue] | None] | None:
        """Check and write many rows at once, in the order given: for each row its Action, its issues when
        refused (the other rows are still written, as one at a time would), or None to leave that row to
        ``apply_row`` (run after the batch). None instead of a list: no bulk path, every row goes one by one.

        Must refuse exactly what ``apply_row`` refuses. The import runs it in a savepoint; if the database
        refuses a batch anyway, the savepoint is rolled back and the rows go one by one to find the culprit,
        so change ``ctx`` caches only after the writes."""
        return None

    def validation_issues(self, error: ValidationError) -> list[tuple[str, str, str]]:
        """A model's ValidationError as (column, message, code), in the form's own words."""
        by_field: list[tuple[str | None, list[ValidationError]]] = (
            list(error.error_dict.items()) if hasattr(error, "error_dict") else [(None, error.error_list)])
        return [
            (self.header_for_field(field) if field else self.key, e.messages[0], e.code or "invalid")
            for field, errors in by_field
            for e in errors
        ]


class SheetRegistry:
    def __init__(self) -> None:
        self._sheets: dict[str, type[Sheet]] = {}

    def register(self, sheet: type[Sheet]) -> type[Sheet]:
        if sheet.name in self._sheets and self._sheets[sheet.name] is not sheet:
            raise ValueError(f"工作表“{sheet.name}”已被登记。")
        self._sheets[sheet.name] = sheet
        return sheet

    def get(self, name: str) -> type[Sheet] | None:
        return self._sheets.get(name)

    def names(self) -> list[str]:
        return [s.name for s in self.ordered(self._sheets)]

    def ordered(self, names: Iterable[str]) -> list[type[Sheet]]:
        """The named sheets, each after the sheets it depends on (registration order otherwise)."""
        wanted = [n for n in self._sheets if n in set(names)]
        done: list[type[Sheet]] = []
        seen: set[str] = set()

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in seen:
                return
            if name in path:
                raise ValueError(f"工作表依赖成环：{' → '.join((*path, name))}")
            sheet = self._sheets[name]
            for dependency in sheet.depends_on:
                if dependency in self._sheets:
                    visit(dependency, (*path, name))
            seen.add(name)
            if name in wanted:
                done.append(sheet)

        for name in wanted:
            visit(name, ())
        return done


registry = SheetRegistry()
register = registry.register
