"""The admin's import/export of 规则参数 (django-import-export).

Parameters have no import sheet; a row is set the way ``set_parameter`` and the catalogue page set one
(``rule_parameter_set``: the rule's own types, a reason, a date in force, a security event), and a file with
one refused row writes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from import_export import resources
from import_export.fields import Field
from import_export.results import Error, Result, RowResult

from core.sheets import CellError, is_blank, iso_date

from .models import RuleParameter
from .services import rule_parameter_set

HEADERS = ("规则编号", "参数", "取值", "生效日期", "理由")


class _RollBack(Exception):
    pass


def _value(stored: Any) -> Any:
    return stored if isinstance(stored, str | int | float) and not isinstance(stored, bool) else json.dumps(
        stored, ensure_ascii=False)


class RuleParameterResource(resources.ModelResource):
    rule_id = Field(attribute="rule_id", column_name="规则编号")
    name = Field(attribute="name", column_name="参数")
    value = Field(attribute="value", column_name="取值", dehydrate_method=lambda p: _value(p.value))
    effective_from = Field(attribute="effective_from", column_name="生效日期")
    reason = Field(attribute="reason", column_name="理由")
    set_by = Field(column_name="设置人", dehydrate_method=lambda p: p.set_by.get_username() if p.set_by else "")

    class Meta:
        model = RuleParameter
        name = "规则参数"
        fields = ("rule_id", "name", "value", "effective_from", "reason", "set_by")

    def import_data(self, dataset, dry_run: bool = False, raise_errors: bool = False, use_transactions=None,
                    collect_failed_rows: bool = False, rollback_on_validation_errors: bool = False,
                    **kwargs: Any) -> Result:
        user = kwargs.get("user")
        result = Result()
        headers = [str(h or "").strip() for h in dataset.headers or []]
        result.diff_headers = headers
        result.add_dataset_headers(headers)
        missing = [h for h in HEADERS if h not in headers]
        if missing:
            result.append_base_error(Error(ValidationError(f"缺少列：{'、'.join(missing)}。", code="missing_column")))
            return result
        try:
            with transaction.atomic():
                for number, raw in enumerate(dataset, start=2):
                    row = dict(zip(headers, raw, strict=False))
                    try:
                        if is_blank(row["生效日期"]):
                            raise ValidationError({"生效日期": ["请填写生效日期（YYYY-MM-DD）。"]})
                        try:
                            effective = iso_date(row["生效日期"])
                        except CellError as error:
                            raise ValidationError({"生效日期": [error.message]}) from None
                        parameter = rule_parameter_set(
                            rule_id=str(row["规则编号"] or "").strip(), name=str(row["参数"] or "").strip(),
                            value=row["取值"], effective_from=effective, user=user, reason=str(row["理由"] or ""))
                    except ValidationError as error:
                        result.append_invalid_row(number, row, error)
                        result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
                        continue
                    done = RowResult()
                    done.import_type = RowResult.IMPORT_TYPE_NEW
                    done.object_repr = str(parameter)
                    done.diff = [str(parameter)]
                    result.append_row_result(done)
                    result.increment_row_result_total(done)
                if dry_run or result.invalid_rows:
                    raise _RollBack
        except _RollBack:
            pass
        result.total_rows = len(dataset)
        return result
