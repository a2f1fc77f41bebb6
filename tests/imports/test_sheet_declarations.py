"""Each sheet's columns are the model fields' own declarations: lengths and choices (issue 17, item 3).

The import parses cells with its own compiled parsers (fast, one per column), so a column that let through a
longer text or another choice than the form's field would make the import accept what the form refuses. This
compares every declared column with the field it fills."""

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from core.sheets import non_negative_integer, registry


def field_of(sheet, name):
    for model in sheet.models:
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


SHEETS = [registry.get(name) for name in registry.names()]


@pytest.mark.parametrize("sheet", [s for s in SHEETS if s.models], ids=lambda s: s.name)
def test_every_length_and_choice_of_a_sheet_is_its_fields(sheet):
    compared = 0
    for column in sheet.columns:
        field = field_of(sheet, column.field)
        if field is None or field.is_relation:  # a 社区 or 街办 named by code or name: looked up, not stored
            continue
        length = getattr(column.parse, "max_length", None)
        if length is not None:
            assert length == field.max_length, (sheet.name, column.header)
            compared += 1
        choices = getattr(column.parse, "choices", None)
        if choices is not None:
            assert {value for value, _ in choices.choices} == {value for value, _ in field.choices if value}, \
                (sheet.name, column.header)
            compared += 1
        if column.parse is non_negative_integer:
            assert isinstance(field, models.PositiveIntegerField | models.PositiveSmallIntegerField), column.header
            compared += 1
    assert compared >= 2


def test_the_sheets_with_a_bulk_path_name_their_models():
    named = {s.name for s in SHEETS if s.models}
    assert {"社区", "小区", "人员"} <= named
