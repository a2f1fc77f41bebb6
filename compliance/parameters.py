"""Parameter values in force on a date: the catalogue's defaults overridden by
the latest ``RuleParameter`` whose effective date is on or before it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from .models import RuleParameter
from .rules import Rule


def to_json(default: Any, value: Any) -> Any:
    """Validate ``value`` against the type of the default; return what is stored."""
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            if str(value).strip() in ("是", "true", "True", "1"):
                return True
            if str(value).strip() in ("否", "false", "False", "0"):
                return False
            raise ValueError
        if isinstance(default, int):
            number = Decimal(str(value).strip())
            if number != number.to_integral_value():
                raise ValueError
            return int(number)
        if isinstance(default, float | Decimal):
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise ValueError
            return float(number)
        if isinstance(default, dt.date):
            if isinstance(value, dt.date):
                return value.isoformat()
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        if isinstance(default, str) and len(default) == 5 and default[2] == "-":
            # A month-day such as "12-01".
            text = str(value).strip()
            dt.date.fromisoformat(f"2000-{text}")
            if len(text) != 5:
                raise ValueError
            return text
        return str(value)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise ValidationError(
            f"参数取值“{value}”无效：应为{type_label(default)}。", code="invalid_value"
        ) from exc


def from_json(default: Any, stored: Any) -> Any:
    if isinstance(default, dt.date) and isinstance(stored, str):
        return dt.date.fromisoformat(stored)
    if isinstance(default, Decimal):
        return Decimal(str(stored))
    return stored


def type_label(default: Any) -> str:
    if isinstance(default, bool):
        return "是/否"
    if isinstance(default, int):
        return "整数"
    if isinstance(default, float | Decimal):
        return "数字"
    if isinstance(default, dt.date):
        return "日期（YYYY-MM-DD）"
    if isinstance(default, str) and len(default) == 5 and default[2] == "-":
        return "月-日（MM-DD）"
    return "文字"


def params_for_rules(rules: Iterable[Rule], as_of: dt.date) -> dict[str, dict[str, Any]]:
    """All rules' parameters in force on ``as_of``, in one query."""
    rules = list(rules)
    out = {r.id: dict(r.params) for r in rules}
    by_id = {r.id: r for r in rules}
    rows = (
        RuleParameter.objects.filter(rule_id__in=list(out), effective_from__lte=as_of)
        .order_by("rule_id", "name", "effective_from", "created_at", "id")
        .values_list("rule_id", "name", "value")
    )
    for rule_id, name, value in rows:
        defaults = by_id[rule_id].params
        if name in defaults:  # a parameter the rule no longer has is ignored
            out[rule_id][name] = from_json(defaults[name], value)
    return out


def params_for(rule: Rule, as_of: dt.date) -> dict[str, Any]:
    return params_for_rules([rule], as_of)[rule.id]
