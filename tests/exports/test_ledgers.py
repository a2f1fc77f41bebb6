"""Ledger downloads hold exactly the rows the user may see; ID numbers masked unless an administrator asks."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.selectors import communities_for_user
from compliance.ledgers import community_ledger
from staffing.idnumbers import mask
from staffing.ledgers import people_ledger
from tests.staffing import builders

pytestmark = pytest.mark.django_db


def sheet_rows(response) -> list[dict]:
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


KEYS = {"communities": "社区代码", "facilities": "设施编号", "people": "姓名", "funding": "社区代码"}


@pytest.mark.parametrize("kind", list(KEYS))
def test_a_clerk_gets_their_own_rows(client, district, clerk_qingnian, admin_user, kind):
    url = reverse("exports:ledger", args=[kind])
    client.force_login(clerk_qingnian)
    mine = sheet_rows(client.get(url))
    assert mine and {r["街道办事处"] for r in mine} == {"青年路街道"}
    assert [r[KEYS[kind]] for r in csv_rows(client.get(url + "?format=csv"))] == [r[KEYS[kind]] for r in mine]
    # Another 街办 is not even a choice.
    assert client.get(url + f"?street={district['zaoyuan']['community'].sub_district_id}").status_code == 404

    client.force_login(admin_user)
    everything = sheet_rows(client.get(url))
    assert {r["街道办事处"] for r in everything} == {"青年路街道", "枣园街道"}
    one = sheet_rows(client.get(url + f"?street={district['qingnian']['community'].sub_district_id}"))
    assert [r[KEYS[kind]] for r in one] == [r[KEYS[kind]] for r in mine]


def test_community_register_matches_the_selector_row_for_row(client, district, clerk_qingnian):
    client.force_login(clerk_qingnian)
    rows = sheet_rows(client.get(reverse("exports:ledger", args=["communities"])))
    assert [r["社区代码"] for r in rows] == list(
        communities_for_user(clerk_qingnian).order_by("code").values_list("code", flat=True))
    row = rows[0]
    # 应配 vs 实有 as the rules compute them: 1200 户 × 30㎡/百户; 4000 人 × 18/万人 rounded up.
    assert (row["综合服务设施应配（㎡）"], row["综合服务设施实有（㎡）"]) == (360, 280.5)
    assert (row["社区工作者应配（人）"], row["社区工作者实有（人）"]) == (8, 1)
    assert (row["户数"], row["常住人口"]) == (1200, 4000)


def test_people_masked_unless_an_administrator_asks(client, district, clerk_qingnian, admin_user):
    url = reverse("exports:ledger", args=["people"])
    number = district["qingnian"]["person"].id_number
    client.force_login(clerk_qingnian)
    assert [r["身份证号"] for r in sheet_rows(client.get(url + "?reveal=1"))] == [mask(number)]
    client.force_login(admin_user)
    assert mask(number) in [r["身份证号"] for r in sheet_rows(client.get(url))]
    assert number in [r["身份证号"] for r in sheet_rows(client.get(url + "?reveal=1"))]
    assert number in [r["身份证号"] for r in csv_rows(client.get(url + "?reveal=1&format=csv"))]
    row = next(r for r in sheet_rows(client.get(url)) if r["姓名"] == "青年路街道张三")
    assert (row["社区工作者"], row["等级"], row["党组织职务"]) == ("是", 12, "书记")


def _drain(ledger) -> int:
    return sum(1 for _ in ledger.rows)


def test_queries_do_not_grow_with_rows(district, admin_user):
    street = district["qingnian"]["community"].sub_district
    counts = []
    for extra in (0, 30):
        for i in range(extra):
            community = builders.community(street, suffix=f"{100 + i + len(counts) * 100:03d}")
            builders.worker(community, grade=3)
        with CaptureQueriesContext(connection) as people_q:
            n_people = _drain(people_ledger(admin_user))
        with CaptureQueriesContext(connection) as community_q:
            n_communities = _drain(community_ledger(admin_user))
        counts.append((len(people_q), len(community_q), n_people, n_communities))
    assert counts[0][:2] == counts[1][:2]
    assert counts[1][2] >= counts[0][2] + 30 and counts[1][3] == counts[0][3] + 30


@pytest.mark.parametrize("kind", list(KEYS))
def test_ledgers_are_sized_filtered_and_set_up_for_printing(client, district, admin_user, kind):
    from django.utils import timezone

    from tests.exports.test_compliance_workbook import assert_readable_and_printable

    client.force_login(admin_user)
    response = client.get(reverse("exports:ledger", args=[kind]))
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    assert ws.max_row > 1
    assert_readable_and_printable(ws, 1, f"{timezone.localdate():%Y-%m-%d}")
    # Numbers grouped by thousands; a year is not (2,026).
    formats = {ws.cell(1, c).value: ws.cell(2, c).number_format for c in range(1, ws.max_column + 1)}
    if kind == "funding":
        assert formats["年度"] == "0" and formats["配套金额（元）"].startswith("#,##0")
    if kind == "communities":
        assert formats["户数"] == "#,##0"
