"""The 经费 sheet: one row per community and year, 市级配套 and 区级配套 in 元."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from core.sheets import Action, CellError, Column, ParsedRow, RowRefused, Sheet, digits, register
from facilities.sheets import community_for_row

from .models import MAX_YEAR, MIN_YEAR, Allocation, FundingLevel
from .selectors import may_enter_funding
from .services import allocation_upsert


def year(value: Any) -> int:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise CellError("年度应为四位整数，如 2025。", "bad_year")
    if not MIN_YEAR <= number <= MAX_YEAR:
        raise CellError(f"年度应在 {MIN_YEAR}–{MAX_YEAR} 之间（填写了 {value}）。", "year_range")
    return int(number)


def money(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CellError("金额应为数字（元）。", "bad_number")
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise CellError("金额应为数字（元）。", "bad_number") from None
    if not number.is_finite():
        raise CellError("金额应为数字（元）。", "bad_number")
    if number < 0:
        raise CellError(f"金额不能为负数（填写了 {value}）。", "money_negative")
    rounded = number.quantize(Decimal("0.01"))
    if number != rounded and not (isinstance(value, float) and abs(number - rounded) < Decimal("1e-6")):
        raise CellError("金额最多保留两位小数（分）。", "too_many_decimals")
    return rounded


@register
class FundingSheet(Sheet):
    name = "经费"
    key = "社区代码"
    depends_on = ("社区",)
    columns = [
        Column("社区代码", "community", digits(12, "社区代码必须是12位数字。")),
        Column("年度", "year", year),
        Column("市级配套", "city", money),
        Column("区级配套", "district", money),
    ]

    def finish_row(self, parsed: ParsedRow, ctx) -> None:
        super().finish_row(parsed, ctx)
        # One row per community and year: the same community may appear once per year.
        if parsed.key and "year" in parsed.data:
            parsed.key = f"{parsed.key} {parsed.data['year']}年"

    def apply_row(self, data: dict[str, Any], ctx) -> Action:
        if ctx.user is not None and not may_enter_funding(ctx.user):
            raise RowRefused("社区代码", "经费由区财政局、区民政局录入，您无权导入“经费”表。", "out_of_scope")
        community = community_for_row(data["community"], ctx)
        before = dict(
            Allocation.objects.filter(community=community, year=data["year"]).values_list("level", "planned")
        )
        for level, field in ((FundingLevel.CITY, "city"), (FundingLevel.DISTRICT, "district")):
            allocation_upsert(
                community=community, year=data["year"], level=level, planned=data[field], user=ctx.user,
                reason=self.history_reason,
            )
        if not before:
            return Action.CREATED
        same = before.get(FundingLevel.CITY) == data["city"] and before.get(FundingLevel.DISTRICT) == data["district"]
        return Action.UNCHANGED if same else Action.UPDATED

    @classmethod
    def header_for_field(cls, field: str) -> str:
        return {"planned": "市级配套", "level": "社区代码", "year": "年度"}.get(field, super().header_for_field(field))
