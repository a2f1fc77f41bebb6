"""Area per 百户 of each community's 综合服务设施 against the 30㎡ of 措施七, counted in the database."""

from __future__ import annotations

from django.db.models import ExpressionWrapper, F, FloatField, QuerySet
from django.db.models.functions import Cast, NullIf
from django.utils import timezone

from ui.charts import Chart, band_chart, histogram

from .models import FacilityKind
from .rules import facility_sum

EDGES = list(range(5, 61, 5))


def area_per_100_chart(communities: QuerySet) -> Chart:
    """How many communities have each 建筑面积 per 百户 (facilities that count today: 已移交/使用中).

    Communities without households recorded are left out (the ratio has no meaning there). One query.
    """
    from compliance.parameters import params_for
    from compliance.rules import registry

    today = timezone.localdate()
    per_100 = float(params_for(registry.get("M07.facility_area"), today)["area_per_100_households"])
    per_100_households = ExpressionWrapper(
        Cast(facility_sum("building_area", FacilityKind.CENTER, today), FloatField()) * 100.0
        / NullIf(F("households"), 0),
        output_field=FloatField(),
    )
    return band_chart(
        chart_id="chart-area-per-100",
        title=f"社区综合服务设施每百户建筑面积（措施七：不低于{per_100:g}㎡）",
        x_label="每百户建筑面积",
        edges=EDGES,
        counts=histogram(communities.judged(), per_100_households, EDGES),  # type: ignore[attr-defined]
        band=(per_100, None),
        band_label=f"达到每百户{per_100:g}㎡",
        unit="㎡",
    )
