"""Services: object permissions follow a community's 街办, codes are retired,
and nothing is ever deleted."""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from communities import services
from communities.models import Community, CommunityStatus, RetiredCommunityCode
from communities.selectors import (
    communities_for_user,
    community_for_user,
    compound_for_user,
    compounds_for_user,
)

from . import builders


def test_create_grants_the_streets_clerks_view_and_change(streets, clerk_qingnian, clerk_zaoyuan):
    c = builders.community(streets["qingnian"])
    assert clerk_qingnian.has_perm("communities.change_community", c)
    assert clerk_qingnian.has_perm("communities.view_community", c)
    assert list(communities_for_user(clerk_qingnian, "change_community")) == [c]
    assert not clerk_zaoyuan.has_perm("communities.view_community", c)
    assert not communities_for_user(clerk_zaoyuan).exists()


def test_move_to_another_street_moves_the_permissions(streets, clerk_qingnian, clerk_zaoyuan, django_user_model):
    c = builders.community(streets["qingnian"])
    compound = builders.compound("XQ-1", community=c)
    changed = services.community_update(
        community=c, sub_district=streets["zaoyuan"], code="610104009077", name="迁入社区"
    )
    assert set(changed) == {"sub_district", "code", "name"}

    # Fresh user objects: guardian caches permissions per user instance.
    old_clerk = django_user_model.objects.get(pk=clerk_qingnian.pk)
    new_clerk = django_user_model.objects.get(pk=clerk_zaoyuan.pk)
    with pytest.raises(Http404):
        community_for_user(old_clerk, c.pk)
    with pytest.raises(Http404):
        community_for_user(old_clerk, c.pk, "change_community")
    assert community_for_user(new_clerk, c.pk, "change_community") == c

    # Its compounds go with it.
    compound.refresh_from_db()
    assert compound.sub_district == streets["zaoyuan"]
    with pytest.raises(Http404):
        compound_for_user(old_clerk, compound.pk)
    assert compound_for_user(new_clerk, compound.pk, "change") == compound

    assert RetiredCommunityCode.objects.filter(code="610104001001", community=c).exists()


def test_move_without_the_new_prefix_is_refused_and_nothing_moves(streets, clerk_qingnian, clerk_zaoyuan):
    c = builders.community(streets["qingnian"])
    with pytest.raises(ValidationError) as info:
        services.community_update(community=Community.objects.get(pk=c.pk), sub_district=streets["zaoyuan"])
    assert [e.code for e in info.value.error_dict["code"]] == ["code_prefix"]
    c.refresh_from_db()
    assert c.sub_district_id == streets["qingnian"].code
    assert clerk_qingnian.has_perm("communities.change_community", c)
    assert not RetiredCommunityCode.objects.exists()


def test_update_returns_only_what_changed_and_records_who(streets, clerk_qingnian):
    c = builders.community(streets["qingnian"])
    assert services.community_update(community=c, user=clerk_qingnian, households=1180) == []
    assert services.community_update(community=c, user=clerk_qingnian, households=1250, population=3900) == [
        "households",
        "population",
    ]
    latest = c.history.first()
    assert latest.history_user == clerk_qingnian
    assert (latest.households, latest.population) == (1250, 3900)


def test_revoke_keeps_the_record_and_its_history(streets, clerk_qingnian):
    c = builders.community(streets["qingnian"])
    services.community_revoke(community=c, user=clerk_qingnian, reason="并入相邻社区")
    c.refresh_from_db()
    assert c.status == CommunityStatus.REVOKED and c.revoked_on is not None
    assert c.history.first().history_change_reason == "并入相邻社区"
    assert c not in Community.objects.judged()
    assert c in communities_for_user(clerk_qingnian)


def test_compound_takes_its_communitys_street(streets, clerk_qingnian):
    c = builders.community(streets["qingnian"])
    x = builders.compound("XQ-1", community=c, street=streets["zaoyuan"])
    assert x.sub_district == streets["qingnian"]
    assert x in compounds_for_user(clerk_qingnian, "change")


def test_unassigned_compound_is_its_streets(streets, clerk_qingnian, clerk_zaoyuan):
    x = builders.compound("XQ-1", street=streets["zaoyuan"])
    assert x in compounds_for_user(clerk_zaoyuan, "change")
    assert x not in compounds_for_user(clerk_qingnian)


def test_marking_jurisdiction_unclear_dates_it(streets):
    x = builders.compound("XQ-1", street=streets["qingnian"])
    services.compound_update(compound=x, jurisdiction_unclear=True)
    assert x.unclear_since is not None
