"""The community list: sortable headers, page size and jump box, and the size charts beside their tables."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.charts import size_charts
from communities.models import Community

from .test_views import _make_communities

pytestmark = pytest.mark.django_db

URL = "communities:community_list"


@pytest.fixture
def qn(client, clerk_qingnian):
    client.force_login(clerk_qingnian)
    return client


def _codes(client, **params):
    return [c.code for c in client.get(reverse(URL), params).context["page"]]


def test_headers_sort_both_ways_and_unknown_keys_fall_back(qn, streets):
    _make_communities(streets["qingnian"], 30)  # households 3800 .. 4670
    assert _codes(qn, sort="-households")[0] == "610104001129"
    assert _codes(qn, sort="households")[0] == "610104001100"
    assert _codes(qn, sort="-name")[0] == "610104001129"
    # Not on the whitelist (a field the list does not show): the default order, no error.
    assert _codes(qn, sort="-leader_phone")[0] == _codes(qn)[0] == "610104001100"
    html = qn.get(reverse(URL), {"sort": "households", "page": 1}).content.decode()
    # The sorted column says so and its link turns the order round, dropping the page number.
    header = re.search(r'<th[^>]*data-sort-key="households"[^>]*>.*?</th>', html).group(0)
    assert 'aria-sort="ascending"' in header and "sort=-households" in header and "page=" not in header
    assert ">户数<" in header


def test_page_size_choice_and_jump_box(qn, streets):
    _make_communities(streets["qingnian"], 60)
    assert len(qn.get(reverse(URL), {"size": 20}).context["page"].object_list) == 20
    assert qn.get(reverse(URL), {"size": 20, "page": 3}).context["page"].number == 3
    assert len(qn.get(reverse(URL), {"size": 7}).context["page"].object_list) == 50  # not offered: default
    html = qn.get(reverse(URL), {"size": 20, "sort": "-households"}).content.decode()
    jump = re.search(r'<form method="get" class="[^"]*pager-jump">.*?</form>', html, re.S).group(0)
    assert 'name="page"' in jump and 'value="-households"' in jump and 'name="size" value="20"' in jump
    assert 'name="size"' in re.search(r'<form method="get" class="[^"]*pager-size">.*?</form>', html, re.S).group(0)


def test_size_charts_count_against_the_bands(streets):
    Community.objects.bulk_create([
        Community(code=f"610104001{i:03d}", name=f"图表{i}社区", sub_district=streets["qingnian"], households=h,
                  population=p)
        for i, (h, p) in enumerate([(999, 4999), (1000, 5000), (5000, 15000), (5001, 15001), (20000, 70000)])
    ])
    households, population = size_charts(Community.objects.all())
    by_label = dict(zip(households["categories"], households["series"][0]["data"], strict=True))
    assert by_label["500–999"] == 1 and by_label["1,000–1,499"] == 1 and by_label["4,500–5,000"] == 1
    assert by_label["5,001–5,499"] == 1 and by_label["≥10,000"] == 1
    band = [households["categories"][i] for i in households["in_band"]]
    assert band[0] == "1,000–1,499" and band[-1] == "4,500–5,000"
    assert households["band"] == {"start": band[0], "end": band[-1], "label": "1000～5000户的标准范围"}
    assert sum(population["series"][0]["data"]) == 5
    p_band = [population["categories"][i] for i in population["in_band"]]
    assert p_band[0] == "5,000–5,999" and p_band[-1] == "14,000–15,000"


@pytest.mark.parametrize("who", ["clerk_qingnian", "reviewer"])
def test_list_with_charts_keeps_query_count_flat(request, client, streets, who):
    client.force_login(request.getfixturevalue(who))

    def count(n):
        Community.objects.all().delete()
        _make_communities(streets["qingnian"], n)
        client.get(reverse(URL))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse(URL), {"sort": "street", "size": 100})
        assert response.status_code == 200
        assert sum(response.context["charts"][0]["series"][0]["data"]) == n
        return len(ctx.captured_queries)

    assert count(5) == count(150)
