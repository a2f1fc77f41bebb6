"""Every sortable list answers every whitelisted sort key, both ways, and marks the column it is sorted by."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.views import REQUEST_SORTS
from communities.models import Community
from communities.views import COMMUNITY_SORTS, COMPOUND_SORTS, STREET_SORTS
from compliance.views import FINDING_SORTS, SUPERVISION_SORTS, SWEEP_SORTS
from facilities.views import FACILITY_SORTS
from staffing.views import PERSON_SORTS

pytestmark = pytest.mark.django_db

LISTS = [
    ("communities:subdistrict_list", STREET_SORTS),
    ("communities:community_list", COMMUNITY_SORTS),
    ("communities:compound_list", COMPOUND_SORTS),
    ("facilities:facility_list", FACILITY_SORTS),
    ("staffing:person_list", PERSON_SORTS),
    ("compliance:finding_list", FINDING_SORTS),
    ("compliance:sweep_list", SWEEP_SORTS),
    ("compliance:supervision_list", SUPERVISION_SORTS),
    ("approvals:request_list", REQUEST_SORTS),
]


@pytest.mark.parametrize(("url_name", "keys"), LISTS, ids=[name for name, _ in LISTS])
def test_every_sort_key_answers_both_ways(client, admin_user, clerk_qingnian, streets, url_name, keys):
    from approvals.services import request_create_new
    from tests.approvals.conftest import part

    # The request list shows its table only when there is a request.
    request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title="新设星火社区",
                       part=part("610104001090", "星火社区居民委员会"))
    client.force_login(admin_user)
    url = reverse(url_name) + ("?view=all" if url_name == "approvals:request_list" else "")
    joiner = "&" if "?" in url else "?"
    for key, spec in keys.items():
        for value in (key, f"-{key}"):
            response = client.get(f"{url}{joiner}sort={value}")
            assert response.status_code == 200, (url_name, value)
            html = response.content.decode()
            header = html.split(f'data-sort-key="{key}"')[0].rsplit("<th", 1)[1]
            assert 'aria-sort="descending"' in header if value.startswith("-") else 'aria-sort="ascending"' in header
            assert f">{spec.label}<" in html


# ---------------------------------------------------------------- lists sorted in groups or in Python (issue 13)


def _header_state(html: str, key: str) -> str:
    assert f'data-sort-key="{key}"' in html, html[-3000:]
    header = html.split(f'data-sort-key="{key}"')[0].rsplit("<th", 1)[1]
    return header.split('aria-sort="')[1].split('"')[0]


def _each_key_both_ways(client, url, keys):
    joiner = "&" if "?" in url else "?"
    for key, spec in keys.items():
        for value in (key, f"-{key}"):
            response = client.get(f"{url}{joiner}sort={value}")
            assert response.status_code == 200, (url, value)
            html = response.content.decode()
            assert _header_state(html, key) == ("descending" if value.startswith("-") else "ascending"), (url, value)
            assert f">{spec.label}<" in html


@pytest.fixture
def funded(streets):
    """Three communities of 青年路 with different city funding for 2025 (one with none: 未登记)."""
    from decimal import Decimal

    from funding.services import allocation_upsert
    from tests.communities.test_views import _make_communities

    _make_communities(streets["qingnian"], 3)
    communities = list(Community.objects.order_by("code"))
    for community, planned in zip(communities, ("150000", "50000"), strict=False):
        allocation_upsert(community=community, year=2025, level="city", planned=Decimal(planned))
    return communities


def test_funding_table_sorts_inside_each_street(client, admin_user, funded):
    from funding.views import FUNDING_SORTS

    client.force_login(admin_user)
    url = reverse("funding:overview") + "?year=2025"
    _each_key_both_ways(client, url, FUNDING_SORTS)

    def codes(sort):
        rows = client.get(url + f"&sort={sort}").context["table"]["groups"][0]["rows"]
        return [c.code for c in rows]

    first, second, third = (c.code for c in funded)
    assert codes("city_planned") == [second, first, third]  # 未登记 last both ways
    assert codes("-city_planned") == [first, second, third]
    assert codes("-city_gap") == [third, second, first]  # 未登记 is the whole standard short
    assert codes("-code") == [third, second, first]
    # The year choice keeps the order.
    assert 'name="sort" value="-code"' in client.get(url + "&sort=-code").content.decode()


def test_funding_table_query_count_is_flat(client, admin_user, streets):
    from tests.communities.test_views import _make_communities

    client.force_login(admin_user)

    def count(n, start):
        _make_communities(streets["zaoyuan"], n, start=start)
        client.get(reverse("funding:overview"))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("funding:overview"), {"sort": "-city_gap"}).status_code == 200
        return len(ctx.captured_queries)

    assert count(3, 100) == count(60, 200)


def test_rule_catalogue_matrix_sorts(client, admin_user):
    from compliance.views import CATALOGUE_SORTS

    client.force_login(admin_user)
    url = reverse("compliance:rule_catalogue")
    _each_key_both_ways(client, url, CATALOGUE_SORTS)
    numbers = [c["number"] for c in client.get(url, {"sort": "-number"}).context["matrix"]]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == 20
    by_rules = client.get(url, {"sort": "-rules"}).context["matrix"]
    assert [c["rule_count"] for c in by_rules] == sorted((c["rule_count"] for c in by_rules), reverse=True)


def test_ledger_and_sweep_and_supervision_lists_sort(client, admin_user, streets):
    from datetime import date

    from approvals.views import LEDGER_SORTS
    from compliance.services import sweep_run
    from compliance.views import SNAPSHOT_SORTS, SWEEP_EVENT_SORTS
    from supervision.views import BULLETIN_SORTS, DOCUMENT_SORTS
    from tests.communities.test_views import _make_communities

    _make_communities(streets["qingnian"], 2)
    replay = sweep_run(as_of=date(2025, 6, 30), rule_ids=["M04.households"])  # a past date: a replay
    live = sweep_run(rule_ids=["M04.households"])
    assert live.live and not replay.live
    client.force_login(admin_user)
    _each_key_both_ways(client, reverse("approvals:ledger"), LEDGER_SORTS)
    _each_key_both_ways(client, reverse("compliance:sweep_detail", args=[live.pk]), SWEEP_EVENT_SORTS)
    _each_key_both_ways(client, reverse("compliance:sweep_detail", args=[replay.pk]), SNAPSHOT_SORTS)
    _each_key_both_ways(client, reverse("supervision:document_list"), DOCUMENT_SORTS)
    _each_key_both_ways(client, reverse("supervision:bulletin_list"), BULLETIN_SORTS)


def test_sort_rows_puts_missing_values_last_both_ways(rf):
    from ui.listing import SortKey, sort_rows

    rows = [{"n": 2, "k": "b"}, {"n": None, "k": "c"}, {"n": 1, "k": "a"}]
    keys = {"n": SortKey("数", ["n", "k"])}
    assert [r["k"] for r in sort_rows(rf.get("/", {"sort": "n"}), rows, keys, "n")[0]] == ["a", "b", "c"]
    assert [r["k"] for r in sort_rows(rf.get("/", {"sort": "-n"}), rows, keys, "n")[0]] == ["b", "a", "c"]
