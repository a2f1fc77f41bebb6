"""The 社区经费台账: each community's yearly allocations by level."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.ledgers import CHUNK, Ledger, labels, register
from core.writer import NUMBER, Col

from .models import FundingLevel
from .selectors import allocations_for_user


@register("funding", "社区经费台账", order=40)
def funding_ledger(user, street: str | None = None) -> Ledger:
    qs = allocations_for_user(user)
    if street:
        qs = qs.filter(community__sub_district_id=street)  # type: ignore[misc]  # a 街办 code, see _communities
    table = qs.order_by("-year", "community__code", "level").values_list(
        "community__code", "community__name", "community__sub_district__name", "year", "level", "planned",
        "disbursed", "note",
    )
    level = labels(FundingLevel)

    def rows() -> Iterator[list[Any]]:
        for code, name, s_name, year, lv, planned, disbursed, note in table.iterator(chunk_size=CHUNK):
            yield [code, name, s_name, year, level.get(lv, lv), planned, disbursed, note]

    cols: list[str | Col] = [Col("社区代码", width=15), Col("社区名称", width=20), "街道办事处", Col("年度", NUMBER, num_format="0"), "层级",
            Col("配套金额（元）", NUMBER), Col("已拨付（元）", NUMBER), Col("备注", width=30)]
    return Ledger("funding", "社区经费台账", cols, rows(), table.count)
