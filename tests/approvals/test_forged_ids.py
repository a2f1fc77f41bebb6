"""Forged record ids in the request forms are refused as invalid choices, never a 500."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("forged", ["9223372036854775808", "99999999999999999999999", "-1", "abc"])
def test_merge_with_a_forged_source_id_is_a_form_error(client, clerk_qingnian, forged):
    client.force_login(clerk_qingnian)
    response = client.post(reverse("approvals:request_merge"), {"sources": [forged], "title": "合并"})
    assert response.status_code == 200
    assert response.context["form"].errors["sources"][0].startswith("选择一个有效的选项")
