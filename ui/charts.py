"""Chart data for the pages: counted in the database, drawn in the browser by ECharts.

A chart is a plain dict (see ``Chart``) that the page passes twice: to ``json_script`` for
``static/js/charts.js`` and to the table printed beside it, so the picture and the figures a
reader can check come from the same numbers. Histograms are one GROUP BY over a CASE that names
each value's bin, so a page asks one query per chart however many communities there are.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise
from typing import Any, TypedDict

from django.db.models import Count, F, Func, IntegerField, QuerySet, Value
from django.db.models.expressions import BaseExpression


class Series(TypedDict, total=False):
    name: str
    data: Sequence[int | float | None]
    color: str


class Band(TypedDict):
    # Category names of the first and last bin inside the standard's range.
    start: str
    end: str
    label: str


class Chart(TypedDict, total=False):
    id: str
    kind: str  # "bar" or "line"
    title: str
    x_label: str
    y_label: str
    categories: list[str]
    series: list[Series]
    stack: bool
    band: Band | None
    # Which categories (row indexes) lie inside the band: the table marks them.
    in_band: list[int]
    # One category pointed out (the community the page is about), and what to call it.
    mark: dict[str, Any] | None


SEVERITY_COLORS = {"violation": "#dc3545", "warning": "#fd7e14", "notice": "#0dcaf0"}


def _fmt(value: float | int | Decimal) -> str:
    number = float(value)
    return f"{int(number):,}" if number == int(number) else f"{number:,.1f}"


def bin_labels(edges: Sequence[float | int | Decimal], unit: str = "", integer: bool = False) -> list[str]:
    """["<1,000", "1,000–1,499", ..., "≥10,000"] for integer counts and edges [1000, 1500, ..., 10000].

    Bins hold [low, high); for whole numbers the label names the last number in (high − 1), so a
    range that includes its upper end (1000–5000户) is binned with an edge at 5001.
    """
    labels = [f"0{unit}" if integer and edges[0] == 1 else f"<{_fmt(edges[0])}{unit}"]
    for low, high in pairwise(edges):
        if integer and int(high) - 1 == low:
            labels.append(f"{_fmt(low)}{unit}")
            continue
        top = _fmt(int(high) - 1) if integer else _fmt(high)
        labels.append(f"{_fmt(low)}–{top}{unit}")
    labels.append(f"≥{_fmt(edges[-1])}{unit}")
    return labels


class _Bin(Func):
    """``CASE WHEN v < e0 THEN 0 WHEN v < e1 THEN 1 … ELSE n END``: the SQL of ``Case(When(v__lt=e0, then=0), …)``,
    with the value compiled once instead of a lookup resolved and compiled per edge (about 4 ms of Python a
    chart at 30 edges, on every list page that shows one)."""

    output_field = IntegerField()

    def __init__(self, expression, edges: Sequence[float | int | Decimal]):
        super().__init__(expression)
        self.edges = tuple(edges)

    def as_sql(self, compiler, connection, **extra_context):
        value = self.get_source_expressions()[0]
        sql, params = compiler.compile(value)
        whens, out = [], []
        for i, edge in enumerate(self.edges):
            # The edge as the lookup would send it: prepared for the value's own field.
            edge_sql, edge_params = compiler.compile(Value(edge, output_field=value.output_field))
            whens.append(f"WHEN {sql} < {edge_sql} THEN {i}")
            out += [*params, *edge_params]
        return f"CASE {' '.join(whens)} ELSE {len(self.edges)} END", out


def histogram(queryset: QuerySet, value: BaseExpression | str, edges: Sequence[float | int | Decimal]) -> list[int]:
    """How many rows of ``queryset`` fall in each bin: below edges[0], [edges[i], edges[i+1]), ≥ edges[-1].

    Rows whose value is NULL are left out. One query.
    """
    if isinstance(value, str):
        annotated, field = queryset.order_by(), value
    else:
        annotated, field = queryset.order_by().annotate(_chart_value=value), "_chart_value"
    rows = (
        annotated.filter(**{f"{field}__isnull": False})
        .annotate(_chart_bin=_Bin(F(field), edges))
        .values("_chart_bin")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = [0] * (len(edges) + 1)
    for row in rows:
        counts[row["_chart_bin"]] += row["n"]
    return counts


def band_chart(
    *,
    chart_id: str,
    title: str,
    x_label: str,
    edges: Sequence[float | int | Decimal],
    counts: list[int],
    band: tuple[float | int, float | int | None] | None,
    band_label: str,
    unit: str = "",
    integer: bool = False,
    y_label: str = "社区数",
    series_name: str = "社区数",
) -> Chart:
    """A histogram with the standard's range [low, high) marked; high None for "at least low"."""
    categories = bin_labels(edges, unit, integer)
    in_band: list[int] = []
    if band is not None:
        low, high = band
        # Bin i covers [edges[i-1], edges[i]); bin 0 is below edges[0], the last at or above edges[-1].
        for i in range(len(categories)):
            bin_low = edges[i - 1] if i > 0 else None
            bin_high = edges[i] if i < len(edges) else None
            if bin_low is not None and bin_low >= low and (high is None or (bin_high is not None and bin_high <= high)):
                in_band.append(i)
    chart: Chart = {
        "id": chart_id,
        "kind": "bar",
        "title": title,
        "x_label": x_label,
        "y_label": y_label,
        "categories": categories,
        "series": [{"name": series_name, "data": list(counts), "color": "#0d6efd"}],
        "stack": False,
        "band": (
            {"start": categories[in_band[0]], "end": categories[in_band[-1]], "label": band_label} if in_band else None
        ),
        "in_band": in_band,
    }
    return chart


def mark_value(chart: Chart, edges: Sequence[float | int | Decimal], value: float | int | None, label: str) -> Chart:
    """The same histogram with the bin that ``value`` falls in pointed out as ``label`` (e.g. 本社区)."""
    if value is None:
        return chart
    index = bisect_right(list(edges), value)
    return {**chart, "mark": {"index": index, "category": chart["categories"][index], "label": label}}


def table_rows(chart: Chart) -> list[dict[str, Any]]:
    """The chart as rows for the table beside it: category, one figure per series, and whether in the band."""
    in_band = set(chart.get("in_band", []))
    mark = chart.get("mark") or {}
    return [
        {"category": category, "values": [s["data"][i] for s in chart["series"]], "in_band": i in in_band,
         "mark": mark.get("label") if mark.get("index") == i else ""}
        for i, category in enumerate(chart["categories"])
    ]
