"""Malformed query strings answer 400 or the page, never 500 (the fuzz over every view is tests/test_fuzz_query.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", ["-1", "9" * 24, "-" + "9" * 24, "1e309", "二〇二五", "2025.5"])
def test_an_absurd_year_on_the_ledgers_shows_this_year(client, reviewer, year):
    from django.utils import timezone

    client.force_login(reviewer)
    for name in ("approvals:ledger", "funding:overview"):
        response = client.get(reverse(name), {"year": year})
        assert response.status_code == 200, (name, year)
        assert str(timezone.localdate().year) in response.content.decode()


@pytest.mark.parametrize(("name", "query"), [
    ("communities:community_list", "q=%00"),
    ("communities:community_list", "street=610104%00001"),
    ("compliance:finding_list", "unit=a%00"),
    ("exports:ledger", "street=%00"),
])
def test_a_nul_byte_in_a_list_or_download_query_is_400(client, reviewer, name, query):
    client.force_login(reviewer)
    url = reverse(name, args=["communities"]) if name == "exports:ledger" else reverse(name)
    response = client.get(f"{url}?{query}")
    assert response.status_code == 400
    assert "查询参数无效" in response.content.decode()


def test_an_over_long_query_string_is_400(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("communities:community_list"), {"q": "x" * 10_000}).status_code == 400
    assert client.get(reverse("communities:community_list"), {"q": "正常的搜索"}).status_code == 200
