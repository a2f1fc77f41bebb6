"""Imported 社区 are their 街办 clerks' at once, as a form save's: through the rights on the 街办, with no row per
社区 in guardian's tables."""

import pytest

from communities.selectors import communities_for_user
from imports.services import workbook_import

from .test_import_workbook import COMMUNITY_HEADERS, community_row, xlsx

pytestmark = pytest.mark.django_db


def _book():
    return xlsx({"社区": [
        COMMUNITY_HEADERS,
        community_row("610104001001", name="甲社区"),
        community_row("610104001002", name="乙社区"),
        community_row("610104009001", name="丙社区", street="枣园街道"),
    ]})


def test_each_street_clerk_may_see_and_change_only_its_own_imported_communities(clerk_qingnian, clerk_zaoyuan):
    from guardian.models import GroupObjectPermission

    before = GroupObjectPermission.objects.count()
    result = workbook_import(file=_book())

    assert result.written
    assert set(communities_for_user(clerk_qingnian).values_list("code", flat=True)) == {"610104001001", "610104001002"}
    assert set(communities_for_user(clerk_qingnian, "change_community").values_list("code", flat=True)) == {
        "610104001001", "610104001002"}
    assert set(communities_for_user(clerk_zaoyuan).values_list("code", flat=True)) == {"610104009001"}
    assert GroupObjectPermission.objects.count() == before


def test_a_refused_import_grants_nothing(clerk_qingnian):
    from guardian.models import GroupObjectPermission

    before = GroupObjectPermission.objects.count()
    book = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001001"), community_row("61010400100X")]})

    result = workbook_import(file=book)

    assert not result.ok
    assert GroupObjectPermission.objects.count() == before
    assert not communities_for_user(clerk_qingnian).exists()
