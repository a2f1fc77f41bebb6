"""What compliance registers for download: the 社区台账 and the compliance workbook.

The 社区台账: every community with, clause by clause, 应配 against 实有 as the rules compute them.

Registered here rather than in ``communities``: its figures are M07's and M11's own (facility sums, required
workers, composition counts), and the ground app must not import the apps that stand on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from communities.ledgers import communities_in_scope
from communities.models import CommunityStatus, PartyOrgType
from core.ledgers import CHUNK, Ledger, WorkbookSpec, labels, register, register_workbook
from core.writer import DATE, NUMBER, Col
from facilities.models import FacilityKind
from facilities.rules import FacilityArea, facility_sum
from staffing.rules import annotate_composition, required_workers

from .models import Finding, FindingStatus
from .parameters import params_for_rules
from .rules import registry
from .workbook import findings_count, write_compliance_workbook


@register("communities", "社区台账", order=10)
def community_ledger(user, street: str | None = None, as_of: dt.date | None = None) -> Ledger:
    """Every community with its figures and, clause by clause, 应配 against 实有.

    应配 and 实有 come from the rules themselves (M07.facility_area's required area and
    facility sum, M11.worker_ratio's required workers and composition count) with the
    parameters in force on ``as_of``, as the community page's panel shows them.
    """
    as_of = as_of or timezone.localdate()
    wanted = [r for r in (registry.get("M07.facility_area"), registry.get("M11.worker_ratio"),
                          registry.get("M17.social_orgs")) if r is not None]
    params = params_for_rules(wanted, as_of)
    area_rule = FacilityArea()
    open_findings = (Finding.objects.filter(community=OuterRef("pk"), status=FindingStatus.OPEN).order_by()
                     .values("community").annotate(n=Count("id")).values("n"))
    qs = annotate_composition(communities_in_scope(user, street), as_of, ("workers_n",)).annotate(
        area=facility_sum("building_area", FacilityKind.CENTER, as_of),
        open_n=Coalesce(Subquery(open_findings), 0),
    ).order_by("code").values_list(
        "code", "name", "sub_district__name", "status", "households", "population", "founded_on", "approved_on",
        "election_on", "party_org_type", "east", "south", "west", "north", "social_org_count",
        "has_property_committee", "workers_n", "area", "open_n",
    )
    status, party = labels(CommunityStatus), labels(PartyOrgType)
    per_10k = params.get("M11.worker_ratio", {}).get("workers_per_10k")
    min_orgs = params.get("M17.social_orgs", {}).get("min_social_orgs")
    area_params = params.get("M07.facility_area")

    def rows() -> Iterator[list[Any]]:
        for (code, name, street_name, state, households, population, founded, approved, election, party_type,
             east, south, west, north, orgs, committee, workers, area, open_n) in qs.iterator(chunk_size=CHUNK):
            need_workers = required_workers(population, per_10k) if per_10k is not None else None
            need_area = (area_rule.required({"households": households, "founded_on": founded}, area_params)[0]
                         if area_params else None)
            yield [code, name, street_name, status.get(state, state), households, population, founded, approved,
                   election, party.get(party_type, party_type), east, south, west, north,
                   need_workers, workers, need_area, area, min_orgs, orgs, "是" if committee else "否", open_n]

    cols: list[str | Col] = [
        Col("社区代码", width=15), Col("社区名称", width=24), Col("街道办事处", width=14), "状态",
        Col("户数", NUMBER), Col("常住人口", NUMBER), Col("成立日期", DATE), Col("批复日期", DATE),
        Col("两委选举日期", DATE), "党组织类型", "东至", "南至", "西至", "北至",
        Col("社区工作者应配（人）", NUMBER), Col("社区工作者实有（人）", NUMBER),
        Col("综合服务设施应配（㎡）", NUMBER), Col("综合服务设施实有（㎡）", NUMBER),
        Col("社会组织应有（个）", NUMBER), Col("社会组织实有（个）", NUMBER), "环境和物业管理委员会",
        Col("未整改问题数", NUMBER),
    ]
    return Ledger("communities", "社区台账", cols, rows(), qs.count)


def _workbook_filename(as_of: dt.date | None) -> str:
    return f"合规情况-{(as_of or timezone.localdate()):%Y%m%d}.xlsx"


register_workbook(WorkbookSpec("compliance", "合规工作簿", write_compliance_workbook, findings_count,
                               _workbook_filename))
