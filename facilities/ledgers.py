"""The 服务设施台账: every facility the user may see, with its community and lifecycle dates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.ledgers import CHUNK, Ledger, labels, register
from core.writer import DATE, NUMBER, Col

from .models import Acquisition, FacilityKind, FacilityStatus, ServiceCategory
from .selectors import facilities_for_user


@register("facilities", "服务设施台账", order=20)
def facility_ledger(user, street: str | None = None) -> Ledger:
    qs = facilities_for_user(user)
    if street:
        qs = qs.filter(community__sub_district_id=street)  # type: ignore[misc]  # a 街办 code, see _communities
    table = qs.order_by("community__code", "code").values_list(
        "code", "name", "community__code", "community__name", "community__sub_district__name", "kind",
        "service_category", "building_area", "activity_area", "site_area", "acquisition", "residential_utilities",
        "status", "accepted_on", "handed_over_on",
    )
    kind, category, acquisition, status = (labels(FacilityKind), labels(ServiceCategory), labels(Acquisition),
                                           labels(FacilityStatus))

    def rows() -> Iterator[list[Any]]:
        for (code, name, c_code, c_name, s_name, k, cat, building, activity, site, acq, utilities, st, accepted,
             handed) in table.iterator(chunk_size=CHUNK):
            yield [code, name, c_code, c_name, s_name, kind.get(k, k), category.get(cat, cat), building, activity,
                   site, acquisition.get(acq, acq), None if utilities is None else ("是" if utilities else "否"),
                   status.get(st, st), accepted, handed]

    cols: list[str | Col] = [Col("设施编号", width=18), Col("设施名称", width=24), Col("社区代码", width=15), Col("社区名称", width=20),
            "街道办事处", "类型", "服务类别", Col("建筑面积（㎡）", NUMBER), Col("居民活动区域面积（㎡）", NUMBER),
            Col("场地面积（㎡）", NUMBER), "取得方式", "水电气暖执行居民价格", "状态", Col("验收日期", DATE),
            Col("移交日期", DATE)]
    return Ledger("facilities", "服务设施台账", cols, rows(), table.count)
