"""The pieces a workbook sheet is made of, and the registry of sheets.

A domain app describes each sheet it owns in its own ``sheets.py`` (found at
start-up like ``admin.py``): the headers, how each cell is parsed, the key
column, the sheets it depends on and how one parsed row is written through the
app's services. The import (``imports.services``) reads the file, runs the
sheets in dependency order and makes the whole import all or nothing; the
admin's import/export (``core.resources``) and the blank workbook read the
same sheets. The sheets live here, below every app, so the ground app can
describe its own without importing the imports app.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from django.core.exceptions import ValidationError
from django.db.models import Choices


class SheetContext(Protocol):
    """What a sheet may ask while parsing and writing: who imports, what they may touch, what was refused.
    ``imports.services.ImportContext`` is the one an import passes."""

    user: Any
    dry_run: bool
    refused: dict[str, dict[str, int]]
    cache: dict[str, Any]
    finish: list[Callable[[], None]]

    @property
    def street_scope(self) -> set[str] | None: ...

    def require_street(self, code: str | None, column: str) -> None: ...


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
        if value.__class__ is str:
            result = value.strip()
        else:
            whole = _integral(value) if isinstance(value, int | float) else None
            result = str(whole if whole is not None else value).strip()
        if len(result) > max_length:
            raise CellError(f"不能超过{max_length}个字符（现为{len(result)}个）。", "too_long")
        return result

    parse.max_length = max_length  # type: ignore[attr-defined]  # compared with the model field's (tests)
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
    number = value if value.__class__ is int else _integral(value)
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

    parse.choices = choices  # type: ignore[attr-defined]  # compared with the model field's (tests)
    return parse


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_formula(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("=")
    # openpyxl hands array and data-table formulas over as objects.
    return type(value).__name__ in ("ArrayFormula", "DataTableFormula")


_VALUE, _BLANK, _REFUSED = object(), object(), object()
_FORMULA = (_REFUSED, "不接受公式，请把单元格改为数值或文字后再导入。", "formula")


def _parse_cell(raw: Any, parse: Parser, blank: bool) -> tuple:
    """One non-empty cell: (_VALUE, value), (_BLANK,) for a cell of spaces, or (_REFUSED, message, code)."""
    if raw.__class__ is str:  # most cells: is_formula and is_blank without their isinstance checks
        if raw[:1] == "=":
            return _FORMULA
        if not raw.strip():
            return (_BLANK,)
    elif is_formula(raw):
        return _FORMULA
    try:
        return (_VALUE, parse(raw))
    except CellError as error:
        return (_REFUSED, error.message, error.code)


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
    # The models whose fields the columns fill: a column's length and choices must be the field's own, so the
    # import refuses what the form refuses (tests/imports/test_sheet_declarations.py).
    models: ClassVar[tuple[type, ...]] = ()

    @classmethod
    def column(cls, header: str) -> Column:
        return next(c for c in cls.columns if c.header == header)

    @classmethod
    def header_for_field(cls, field: str) -> str:
        for column in cls.columns:
            if column.field == field:
                return column.header
        return cls.key

    def parse_rows(self, rows: list[tuple[int, list[Any]]], positions: dict[str, int], ctx: SheetContext
                   ) -> list[ParsedRow]:
        """Parse the present cells of many rows (``positions``: header → index in a row's values, every row at
        least that long), column by column; then, row by row in order, ``finish_row`` (``clean_row`` for checks
        across cells).

        Column by column because a sheet's cells repeat down a column (choices, 是/否, dates, codes): each
        distinct text or date is parsed once per import and column, and a column whose cells all parse is
        copied into the rows in one pass, without a call, a dict of cells and a walk over the columns per row."""
        n = len(rows)
        data: list[dict[str, Any]] = [{} for _ in range(n)]
        issues: list[list[tuple[str, str, str]]] = [[] for _ in range(n)]
        required = (_REFUSED, "不能为空。", "required")
        for header, field, parse, blank, empty, memo in self.compiled_columns():
            index = positions.get(header)
            if index is None:
                continue
            blank_outcome = (_VALUE, empty) if blank else required
            outcomes: list[tuple] = []
            add = outcomes.append
            get = memo.get
            for _row, values in rows:
                raw = values[index]
                if raw is None:
                    add(blank_outcome)
                    continue
                kind = raw.__class__
                if kind is str or kind is datetime:
                    # Numbers are not memoised: 1, 1.0 and True are equal keys with different readings.
                    outcome = get(raw)
                    if outcome is None:
                        outcome = memo[raw] = _parse_cell(raw, parse, blank)
                else:
                    outcome = _parse_cell(raw, parse, blank)
                add(blank_outcome if outcome[0] is _BLANK else outcome)
            if all(outcome[0] is _VALUE for outcome in outcomes):
                for cells, outcome in zip(data, outcomes, strict=True):
                    cells[field] = outcome[1]
                continue
            for cells, found, outcome in zip(data, issues, outcomes, strict=True):
                if outcome[0] is _VALUE:
                    cells[field] = outcome[1]
                else:
                    found.append((header, outcome[1], outcome[2]))
        key_field = self._key_field()
        parsed_rows = []
        for (row, _values), cells, found in zip(rows, data, issues, strict=True):
            parsed = ParsedRow(row=row, key=str(cells.get(key_field, "")), data=cells, issues=found)
            self.finish_row(parsed, ctx)
            parsed_rows.append(parsed)
        return parsed_rows

    def finish_row(self, parsed: ParsedRow, ctx: SheetContext) -> None:
        """A row once its cells are parsed: ``clean_row``; sheets add their own steps (the row's key…) after it."""
        self.clean_row(parsed, ctx)

    def compiled_columns(self) -> list[tuple[str, str, Parser, bool, Any, dict]]:
        """The columns as the row loop reads them, made once per sheet object: (header, field, parser, blank,
        empty value, memo of parsed cells). The memo lives as long as the sheet object, i.e. one import."""
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = self.__dict__["_compiled"] = [(c.header, c.field, c.parse, c.blank, c.empty, {})
                                                     for c in self.columns]
        return compiled

    def _key_field(self) -> str:
        key = self.__dict__.get("_key")
        if key is None:
            key = self.__dict__["_key"] = self.column(self.key).field
        return key

    def clean_row(self, parsed: ParsedRow, ctx: SheetContext) -> None:
        """Checks that need more than one cell or a lookup; append to ``parsed.issues``.

        Runs even when some cells were refused (so every error is reported):
        a field whose cell was refused is absent from ``parsed.data``."""

    def apply_row(self, data: dict[str, Any], ctx: SheetContext) -> Action:
        """Write one row through the app's services; raise ValidationError or RowRefused to refuse it."""
        raise NotImplementedError

    def bulk_apply(self, rows: list[ParsedRow], ctx: SheetContext) -> list[Action | list[Issue] | None] | None:
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


def instance_factory(model: Any, *, attnames_only: bool = False) -> Callable[[dict[str, Any]], Any]:
    """``make(values)``: a new, unsaved ``model`` instance from field values, as ``model(**values)`` would build
    it (every other field at its default), without Model.__init__'s per-field descriptor work — a third of a
    bulk import's time. ``values`` are keyed by attname (``sub_district_id``) or, for a foreign key, by name with
    the related instance (which is then cached on the new instance, as the constructor does). Only for writers
    that validate the rows themselves and insert them in bulk. ``attnames_only``: every key is an attname, never
    a relation's name (a faster build when the model has no callable defaults)."""
    from django.db.models import ForeignKey
    from django.db.models.base import ModelState

    static: dict[str, Any] = {}
    dynamic: list[tuple[str, Callable[[], Any]]] = []
    relations: dict[str, tuple[str, str]] = {}
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            dynamic.append((field.attname, field.default))
        else:
            static[field.attname] = field.get_default()
        if isinstance(field, ForeignKey):
            relations[field.name] = (field.attname, field.target_field.attname)
    new = object.__new__

    if attnames_only and not dynamic:
        # The caller keys every value by attname (no related instances): one update, no per-key look-up. A
        # first sweep builds a hundred thousand findings this way.
        def make_plain(values: dict[str, Any]) -> Any:
            obj: Any = new(model)
            fields = obj.__dict__
            fields.update(static)
            fields.update(values)
            fields["_state"] = ModelState()
            return obj

        return make_plain

    def make(values: dict[str, Any]) -> Any:
        obj: Any = new(model)
        obj._state = state = ModelState()
        fields = obj.__dict__
        fields.update(static)
        for attname, default in dynamic:
            fields[attname] = default()
        for name, value in values.items():
            relation = relations.get(name)
            if relation is None:
                fields[name] = value
            else:
                fields[relation[0]] = None if value is None else getattr(value, relation[1])
                state.fields_cache[name] = value
        return obj

    return make
