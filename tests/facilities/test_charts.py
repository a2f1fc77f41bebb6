"""The facilities page's chart: 综合服务设施 area per 百户 of each community against 30㎡."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.models import Community
from facilities.charts import area_per_100_chart
from facilities.services import facility_create

pytestmark = pytest.mark.django_db


def _center(community, code, area, status="in_use"):
    return facility_create(code=code, community=community, name=f"{code}中心", kind="center", building_area=area,
                           activity_area=area * 7 // 10, status=status)


def test_area_per_100_households_counts_what_is_in_use(community, other_community):
    _center(community, "C-1", 700)  # 3500户: 20㎡/百户
    _center(other_community, "C-2", 420)  # 1200户: 35㎡/百户
    chart = area_per_100_chart(Community.objects.all())
    by_label = dict(zip(chart["categories"], chart["series"][0]["data"], strict=True))
    assert by_label["20–25㎡"] == 1 and by_label["35–40㎡"] == 1 and sum(by_label.values()) == 2
    assert chart["categories"][chart["in_band"][0]] == "30–35㎡" and chart["band"]["end"] == "≥60㎡"


def test_facility_list_chart_and_sorting_in_constant_queries(client, clerk_qingnian, community):
    client.force_login(clerk_qingnian)
    url = reverse("facilities:facility_list")

    def count(n, start):
        for i in range(start, start + n):
            _center(community, f"C-{i}", 100 + i)
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"sort": "-building_area"})
        assert response.status_code == 200
        return len(ctx.captured_queries), response

    small, _ = count(2, 0)
    large, response = count(20, 10)
    assert small == large
    assert response.context["page"][0].code == "C-29"
    assert 'data-chart-table="chart-area-per-100"' in response.content.decode()
