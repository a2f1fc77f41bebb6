"""The district-wide figures the policy states (issue 15), read from the record on a date.

Each figure comes from the rule that judges it where there is one (its ``progress`` and parameters in force),
so the page and the findings never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum

from communities.models import Community
from staffing.models import Employment, active_on

from .parameters import params_for_rules
from .rules import registry

# 第七次全国人口普查（2020-11-01）的莲湖区常住人口, published: shown beside the communities' own total.
CENSUS_POPULATION = 1_019_102


@dataclass
class Figure:
    label: str
    measured: str
    required: str
    met: bool
    clause: str
    note: str = ""
    rule_id: str = ""


def _progress(rule_id: str, as_of: dt.date, params: dict) -> dict[str, int]:
    """A district rule's own counts (the rules that judge the district expose them as ``progress``)."""
    return registry.get(rule_id).progress(as_of, params)  # type: ignore[attr-defined]


def district_figures(as_of: dt.date) -> list[Figure]:
    """A fixed number of queries whatever the district's size."""

    ids = ["M06.district_adjustment", "M11.worker_ratio", "M17.district_targets", "M17.social_orgs"]
    params = params_for_rules([registry.get(i) for i in ids], as_of)
    judged = Community.objects.judged().filter(Q(founded_on__isnull=True) | Q(founded_on__lte=as_of))
    totals = judged.aggregate(n=Count("pk"), population=Sum("population"), orgs=Sum("social_org_count"),
                              orgs_met=Count("pk", filter=Q(social_org_count__gte=params["M17.social_orgs"]
                                                             ["min_social_orgs"])))
    n, population = totals["n"] or 0, totals["population"] or 0
    workers = (Employment.objects.filter(active_on("", as_of, "entry_on", "leave_on"), community__in=judged)
               .values("person").distinct().count())
    per = Decimal(str(params["M11.worker_ratio"]["workers_per_10k"]))
    ratio = (Decimal(workers) * 10000 / Decimal(population)).quantize(Decimal("0.1"), ROUND_HALF_UP) \
        if population else Decimal(0)
    figures = [Figure(
        "每万名常住人口拥有社区工作者", f"{ratio} 人（{workers:,} 人 ÷ {population:,} 人）", f"{per.normalize()} 人",
        ratio >= per, "十一",
        note=f"常住人口按各社区登记合计；第七次全国人口普查全区常住人口 {CENSUS_POPULATION:,} 人。",
        rule_id="M11.worker_ratio")]

    adj = params["M06.district_adjustment"]
    progress = _progress("M06.district_adjustment", as_of, adj)
    figures.append(Figure(
        "超大型社区拆分", f"已拆分 {progress['split_done']} 个，另有 {progress['split_planned']} 个已列入计划",
        f"{adj['oversized_to_split']} 个", progress["split_done"] >= adj["oversized_to_split"], "六",
        rule_id="M06.district_adjustment"))
    figures.append(Figure(
        "微型社区整合", f"已合并 {progress['merge_done']} 个，另有 {progress['merge_planned']} 个已列入计划",
        f"{adj['micro_to_merge']} 个", progress["merge_done"] >= adj["micro_to_merge"], "六",
        rule_id="M06.district_adjustment"))

    targets = params["M17.district_targets"]
    counts = _progress("M17.district_targets", as_of, targets)
    figures += [
        Figure("社区减负增效工作监测点", f"{counts['points']} 个", f"{targets['monitoring_points']} 个",
               counts["points"] >= targets["monitoring_points"], "十七", rule_id="M17.district_targets"),
        Figure("社会组织参与社区治理典型案例", f"{counts['social']} 个", f"{targets['typical_cases']} 个",
               counts["social"] >= targets["typical_cases"], "十七", rule_id="M17.district_targets"),
        Figure(f"{as_of.year}年议事协商优秀典型案例", f"{counts['consult']} 个",
               f"每年不少于 {targets['consultation_cases_per_year']} 个",
               counts["consult"] >= targets["consultation_cases_per_year"], "十七", rule_id="M17.district_targets"),
    ]
    orgs = params["M17.social_orgs"]
    average = (Decimal(totals["orgs"] or 0) / n).quantize(Decimal("0.1"), ROUND_HALF_UP) if n else Decimal(0)
    figures.append(Figure(
        "社区社会组织", f"平均每个社区 {average} 个；{totals['orgs_met']} / {n} 个社区达到",
        f"{orgs['target_year']}年每个社区不少于 {orgs['min_social_orgs']} 个", totals["orgs_met"] == n and n > 0,
        "十七", rule_id="M17.social_orgs"))
    return figures
