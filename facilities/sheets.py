"""The 设施 sheet of the import workbook (docs/design.md).

A new facility is recorded in whatever status it has reached. For an existing
one, a change of status must be one row of the lifecycle table, recorded as a
step like any other; a user importing it must be of the unit that row names.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied

from communities.models import Community
from core.sheets import (
    Action,
    CellError,
    Column,
    RowRefused,
    Sheet,
    choice,
    digits,
    iso_date,
    register,
    text,
    yes_no,
)

from .lifecycle import skip_message, transition_for
from .models import Acquisition, Facility, FacilityKind, FacilityStatus, ServiceCategory
from .services import facility_advance, facility_create, facility_update

IMPORT_UNIT = "工作簿导入"


def area(value: Any) -> Decimal:
    """㎡ with at most two decimals; a negative area is a data error, not a finding."""
    if isinstance(value, bool):
        raise CellError("面积应为数字（㎡）。", "bad_number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise CellError("面积应为数字（㎡）。", "bad_number") from None
    if not number.is_finite():
        raise CellError("面积应为数字（㎡）。", "bad_number")
    if number < 0:
        raise CellError(f"面积不能为负数（填写了 {value}）。", "area_negative")
    if number != number.quantize(Decimal("0.01")):
        if isinstance(value, float) and abs(number - number.quantize(Decimal("0.01"))) < Decimal("1e-9"):
            # Excel's binary float for 1049.99 is not exactly 1049.99.
            return number.quantize(Decimal("0.01"))
        raise CellError("面积最多保留两位小数。", "too_many_decimals")
    return number.quantize(Decimal("0.01"))


def community_for_row(code: str, ctx) -> Community:
    community = Community.objects.select_related("sub_district").filter(code=code).first()
    if community is not None:
        return community
    row = ctx.refused.get("社区", {}).get(code)
    if row is not None:
        raise RowRefused("社区代码", f"社区代码 {code} 在“社区”表第{row}行，该行有错误未能导入。", "community_row_refused")
    raise RowRefused("社区代码", f"社区代码 {code} 不存在：请先建立该社区，或在“社区”表中一并导入。", "unknown_community")


@register
class FacilitySheet(Sheet):
    name = "设施"
    key = "设施编号"
    models = (Facility,)
    depends_on = ("社区",)
    columns = [
        Column("设施编号", "code", text(32)),
        Column("社区代码", "community", digits(12, "社区代码必须是12位数字。")),
        Column("设施名称", "name", text(100)),
        Column("类型", "kind", choice(FacilityKind)),
        Column("服务类别", "service_category", choice(ServiceCategory), blank=True, empty=""),
        Column("建筑面积", "building_area", area, blank=True),
        Column("居民活动区域面积", "activity_area", area, blank=True),
        Column("场地面积", "site_area", area, blank=True),
        Column("状态", "status", choice(FacilityStatus)),
        Column("验收日期", "accepted_on", iso_date, blank=True),
        Column("移交日期", "handed_over_on", iso_date, blank=True),
        # Not in docs/design.md's list; accepted when present.
        Column("取得方式", "acquisition", choice(Acquisition), blank=True, empty="", optional=True),
        Column("水电气暖执行居民价格", "residential_utilities", yes_no, blank=True, optional=True),
    ]

    def apply_row(self, data: dict[str, Any], ctx) -> Action:
        code = data.pop("code")
        community = community_for_row(data["community"], ctx)
        ctx.require_street(community.sub_district_id, "社区代码")
        data["community"] = community
        existing = Facility.objects.select_related("community").filter(code=code).first()
        if existing is None:
            facility_create(user=ctx.user, reason=self.history_reason, code=code, **data)
            return Action.CREATED
        ctx.require_street(existing.community.sub_district_id, "设施编号")
        status = data.pop("status")
        transition = None
        step_on = None
        if status != existing.status:
            transition = transition_for(existing.status, status)
            if transition is None:
                raise RowRefused("状态", skip_message(existing, status), "lifecycle_skip")
            if transition.sets_date:
                step_on = data.pop(transition.sets_date)
                if step_on is None:
                    header = self.header_for_field(transition.sets_date)
                    raise RowRefused(header, f"状态改为“{FacilityStatus(status).label}”时须填写{header}。", "required")
        changed = facility_update(facility=existing, user=ctx.user, reason=self.history_reason, **data)
        if transition is None:
            return Action.UPDATED if changed else Action.UNCHANGED
        try:
            facility_advance(
                facility=existing, to_status=status, user=ctx.user, on=step_on, note=IMPORT_UNIT,
                check_actor=ctx.user is not None, unit_label=IMPORT_UNIT if ctx.user is None else None,
            )
        except PermissionDenied as denied:
            raise RowRefused("状态", str(denied), "step_not_yours") from None
        return Action.UPDATED
