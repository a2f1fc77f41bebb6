"""A record's own page lists its latest changes and links to the whole history, a page at a time; the whole
history is read through the same selector as the record (another 街办's clerk gets 404)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities import services
from core.history import RECORD_PAGE_HISTORY, history_rows
from tests.communities import builders

pytestmark = pytest.mark.django_db


def _changed(community, times: int):
    for i in range(times):
        services.community_update(community=community, households=2000 + i)
    return community


def _rows(html: str) -> list[str]:
    table = html.split('history-table', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)


def test_the_record_page_shows_the_latest_changes_and_links_to_the_rest(client, streets, clerk_qingnian):
    busy = _changed(builders.community(streets["qingnian"]), 12)  # 13 entries with its creation
    quiet = _changed(builders.community(streets["qingnian"], "002"), RECORD_PAGE_HISTORY - 1)  # exactly 10
    client.force_login(clerk_qingnian)

    page = client.get(reverse("communities:community_detail", args=[busy.pk])).content.decode()
    rows = _rows(page)
    assert len(rows) == RECORD_PAGE_HISTORY
    assert "2010 → 2011" in rows[0]  # the newest first
    assert f'href="{reverse("communities:community_history", args=[busy.pk])}"' in page

    page = client.get(reverse("communities:community_detail", args=[quiet.pk])).content.decode()
    assert len(_rows(page)) == RECORD_PAGE_HISTORY and 'id="history-all"' not in page
    assert "新建记录" in _rows(page)[-1]


def test_the_whole_history_a_page_at_a_time(client, streets, clerk_qingnian):
    c = _changed(builders.community(streets["qingnian"]), 25)  # 26 entries
    client.force_login(clerk_qingnian)
    url = reverse("communities:community_history", args=[c.pk])

    first = client.get(url, {"size": 20})
    assert first.status_code == 200 and "共 26 条" in first.content.decode()
    second = _rows(client.get(url, {"size": 20, "page": 2}).content.decode())
    rows = _rows(first.content.decode()) + second
    assert len(rows) == 26 and len(second) == 6
    assert "新建记录" in rows[-1]
    # Across the page boundary each change still reads from the entry before it: 2000 → 2001 … → 2024.
    for i, row in enumerate(rows[:-2]):
        assert f"{2023 - i} → {2024 - i}" in row, (i, row)
    assert [r["changes"][0]["new"] for r in history_rows(c, 3, 20)] == ["2004", "2003", "2002"]


def test_another_streets_clerk_gets_404_and_reviewers_read(client, streets, clerk_zaoyuan, reviewer):
    c = _changed(builders.community(streets["qingnian"]), 2)
    compound = builders.compound("QN-1", community=c)
    urls = [reverse("communities:community_history", args=[c.pk]),
            reverse("communities:compound_history", args=[compound.pk])]
    client.force_login(clerk_zaoyuan)
    assert [client.get(u).status_code for u in urls] == [404, 404]
    client.force_login(reviewer)
    assert [client.get(u).status_code for u in urls] == [200, 200]


def test_the_history_page_asks_as_many_queries_for_15_entries_as_for_60(client, streets, clerk_qingnian):
    client.force_login(clerk_qingnian)

    def queries(n: int) -> int:
        c = _changed(builders.community(streets["qingnian"], f"{n:03d}"), n - 1)
        url = reverse("communities:community_history", args=[c.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    assert queries(15) == queries(60)
