"""The people page's 两委 size charts: communities counted by head count, against 3–5 and 5–9."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.models import Community
from staffing.charts import liangwei_charts

from . import builders as b

pytestmark = pytest.mark.django_db


def _by_label(chart):
    return dict(zip(chart["categories"], chart["series"][0]["data"], strict=True))


def test_sizes_are_counted_per_community_with_the_ranges_marked(make_community):
    a, c, _empty = make_community(), make_community(), make_community()
    b.party(a, 3)
    b.committee(a, 7)
    b.party(c, 6)
    b.committee(c, 4)
    party, committee = liangwei_charts(Community.objects.all())
    assert (_by_label(party)["0人"], _by_label(party)["3人"], _by_label(party)["6人"]) == (1, 1, 1)
    assert (_by_label(committee)["0人"], _by_label(committee)["4人"], _by_label(committee)["7人"]) == (1, 1, 1)
    assert [party["categories"][i] for i in party["in_band"]] == ["3人", "4人", "5人"]
    assert [committee["categories"][i] for i in committee["in_band"]] == ["5人", "6人", "7人", "8人", "9人"]


def test_person_list_shows_the_charts_in_constant_queries(client, admin_user, make_community):
    client.force_login(admin_user)
    url = reverse("staffing:person_list")

    def count(n):
        for _ in range(n):
            b.party(make_community(), 3)
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"sort": "-community"})
        assert response.status_code == 200
        return len(ctx.captured_queries), response

    small, _ = count(2)
    large, response = count(12)
    assert small == large
    html = response.content.decode()
    assert 'data-chart="chart-party-size-data"' in html and 'data-chart-table="chart-committee-size"' in html
    assert sum(response.context["charts"][0]["series"][0]["data"]) == 14


def test_composition_page_points_out_the_community_among_the_others(client, admin_user, make_community):
    a, other = make_community(), make_community()
    b.party(a, 4)
    b.committee(a, 6)
    b.party(other, 3)
    client.force_login(admin_user)
    response = client.get(reverse("staffing:composition", args=[a.pk]))
    assert response.status_code == 200
    party, committee = response.context["charts"]
    assert party["mark"]["category"] == "4人" and committee["mark"]["category"] == "6人"
    html = response.content.decode()
    table = html.split('data-chart-table="chart-party-size"')[1].split("</table>")[0]
    marked = table.split('marked"')[1].split("</tr>")[0]
    assert "4人" in marked and "本社区" in marked
