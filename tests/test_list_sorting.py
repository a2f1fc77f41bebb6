"""Every sortable list answers every whitelisted sort key, both ways, and marks the column it is sorted by."""

import pytest
from django.urls import reverse

from approvals.views import REQUEST_SORTS
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
