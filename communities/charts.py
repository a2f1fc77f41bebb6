"""Where the listed communities sit against the size standard of 措施四 (1000–5000户, 5000–15000人),
with the ranges in force today (a reviewer may have changed the parameters)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from ui.charts import Chart, band_chart, histogram


def _edges(low: int, high: int, step: int) -> list[int]:
    """Bins of ``step`` up to twice the upper end; both ends of the range meet the standard, so the
    band's upper edge is one past it (bins hold [low, high))."""
    edges = set(range(step, 2 * high + 1, step)) | {low, high + 1}
    edges.discard(high)
    return sorted(edges)


def _ranges() -> dict[str, tuple[int, int]]:
    from compliance.parameters import params_for_rules
    from compliance.rules import registry

    params = params_for_rules([registry.get("M04.households"), registry.get("M04.population")], timezone.localdate())
    households, population = params["M04.households"], params["M04.population"]
    return {
        "households": (int(households["min_households"]), int(households["max_households"])),
        "population": (int(population["min_population"]), int(population["max_population"])),
    }


def size_charts(communities: QuerySet) -> list[Chart]:
    """户数 and 常住人口 histograms of ``communities`` with the standard's band; one query each."""
    ranges = _ranges()
    (h_low, h_high), (p_low, p_high) = ranges["households"], ranges["population"]
    h_edges, p_edges = _edges(h_low, h_high, 500), _edges(p_low, p_high, 1000)
    return [
        band_chart(
            chart_id="chart-households", title=f"社区户数分布（措施四：{h_low}～{h_high}户）", x_label="户数",
            edges=h_edges, counts=histogram(communities, "households", h_edges), band=(h_low, h_high + 1),
            band_label=f"{h_low}～{h_high}户的标准范围", integer=True,
        ),
        band_chart(
            chart_id="chart-population", title=f"社区常住人口分布（措施四：{p_low}～{p_high}人）",
            x_label="常住人口", edges=p_edges, counts=histogram(communities, "population", p_edges),
            band=(p_low, p_high + 1), band_label=f"{p_low}～{p_high}人的标准范围", integer=True,
        ),
    ]
