"""The 台账 on paper: the same rows as the download, as an A4 landscape page with its header row repeated."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_community_ledger_print_view_has_the_users_rows(client, district, clerk_qingnian):
    client.force_login(clerk_qingnian)
    response = client.get(reverse("exports:ledger", args=["communities"]), {"format": "print"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "社区台账" in html and "青年路街道第一社区" in html and "枣园街道第一社区" not in html
    table = html.split('id="ledger-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 1  # header + the clerk's one community
    assert "<thead>" in table and "2001-05-01" in table and "1,200" in table
    assert 'class="print-sheet landscape"' in html and "css/print.css" in html and "<script>" not in html


def test_people_ledger_print_stays_masked_and_scoped(client, district, clerk_qingnian):
    person = district["qingnian"]["person"]
    client.force_login(clerk_qingnian)
    html = client.get(reverse("exports:ledger", args=["people"]), {"format": "print"}).content.decode()
    assert person.name in html and person.id_number not in html


def test_unknown_street_is_404(client, district, clerk_qingnian):
    client.force_login(clerk_qingnian)
    assert client.get(reverse("exports:ledger", args=["communities"]),
                      {"format": "print", "street": "610104009"}).status_code == 404
