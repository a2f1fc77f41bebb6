"""Who may see and change what, through the pages a user would use.

A clerk who types another 街办's id gets 404 on detail, edit and POST, and the
record stays as it was; reviewers and department users read everything and
change nothing."""

import pytest
from django.urls import reverse

from communities.models import Community, CommunityAdjustment, Compound

from . import builders


@pytest.fixture
def zaoyuan_records(streets):
    c = builders.community(streets["zaoyuan"], households=2000, population=6000)
    x = builders.compound("ZY-1", community=c)
    loose = builders.compound("ZY-2", street=streets["zaoyuan"])
    return c, x, loose


def test_clerk_gets_404_for_another_streets_community(client, clerk_qingnian, zaoyuan_records):
    c, _, _ = zaoyuan_records
    client.force_login(clerk_qingnian)
    for name in ("community_detail", "community_edit", "community_revoke", "adjustment_create"):
        assert client.get(reverse(f"communities:{name}", args=[c.pk])).status_code == 404, name

    response = client.post(
        reverse("communities:community_edit", args=[c.pk]), builders.community_post(c, households=1, population=1)
    )
    assert response.status_code == 404
    response = client.post(reverse("communities:community_revoke", args=[c.pk]), {"revoked_on": "2024-01-01", "reason": "x"})
    assert response.status_code == 404
    response = client.post(reverse("communities:adjustment_create", args=[c.pk]), {"kind": "split", "reason": "x"})
    assert response.status_code == 404

    c.refresh_from_db()
    assert (c.households, c.population, c.status) == (2000, 6000, "active")
    assert c.history.count() == 1
    assert not CommunityAdjustment.objects.exists()


def test_clerk_gets_404_for_another_streets_compounds(client, clerk_qingnian, zaoyuan_records):
    _, x, loose = zaoyuan_records
    client.force_login(clerk_qingnian)
    for compound in (x, loose):
        assert client.get(reverse("communities:compound_detail", args=[compound.pk])).status_code == 404
        assert client.get(reverse("communities:compound_edit", args=[compound.pk])).status_code == 404
        response = client.post(
            reverse("communities:compound_edit", args=[compound.pk]), builders.compound_post(compound, name="改名")
        )
        assert response.status_code == 404
    assert set(Compound.objects.values_list("name", flat=True)) == {"ZY-1小区", "ZY-2小区"}


def test_other_streets_records_are_absent_from_lists(client, clerk_qingnian, zaoyuan_records, streets):
    builders.community(streets["qingnian"], name="青年路自己的社区")
    client.force_login(clerk_qingnian)
    page = client.get(reverse("communities:community_list")).content.decode()
    assert "青年路自己的社区" in page and zaoyuan_records[0].name not in page
    page = client.get(reverse("communities:compound_list")).content.decode()
    assert "ZY-1小区" not in page and "ZY-2小区" not in page
    page = client.get(reverse("communities:subdistrict_list")).content.decode()
    assert "青年路街道" in page and "枣园街道" not in page


def test_clerk_cannot_create_in_another_street(client, clerk_qingnian, streets):
    client.force_login(clerk_qingnian)
    response = client.post(
        reverse("communities:community_create"),
        {"code": "610104009099", "name": "越界社区", "sub_district": streets["zaoyuan"].code, "status": "active",
         "households": 1200, "population": 3000, "party_org_type": "branch", "social_org_count": 0},
    )
    assert response.status_code == 200
    assert builders.error_codes(response.context["form"], "sub_district") == ["invalid_choice"]
    assert not Community.objects.exists()


def test_clerk_cannot_assign_a_compound_to_another_streets_community(client, clerk_qingnian, streets, zaoyuan_records):
    c, _, _ = zaoyuan_records
    own = builders.compound("QN-1", street=streets["qingnian"])
    client.force_login(clerk_qingnian)
    response = client.post(reverse("communities:compound_edit", args=[own.pk]), builders.compound_post(own, community=c.pk))
    assert builders.error_codes(response.context["form"], "community") == ["invalid_choice"]
    own.refresh_from_db()
    assert own.community is None

    response = client.post(
        reverse("communities:compound_create"),
        {"code": "QN-2", "name": "越界小区", "community": c.pk, "households": 10, "property_service": "none"},
    )
    assert builders.error_codes(response.context["form"], "community") == ["invalid_choice"]
    assert not Compound.objects.filter(code="QN-2").exists()


@pytest.mark.parametrize("who", ["reviewer", "department_user"])
def test_readers_see_everything_but_change_nothing(request, client, who, zaoyuan_records, streets):
    user = request.getfixturevalue(who)
    c, x, loose = zaoyuan_records
    other = builders.community(streets["qingnian"])
    client.force_login(user)

    for community in (c, other):
        page = client.get(reverse("communities:community_detail", args=[community.pk]))
        assert page.status_code == 200
        assert reverse("communities:community_edit", args=[community.pk]) not in page.content.decode()
        assert client.get(reverse("communities:community_edit", args=[community.pk])).status_code == 404
        assert client.post(
            reverse("communities:community_edit", args=[community.pk]), builders.community_post(community, name="改")
        ).status_code == 404
        assert client.post(
            reverse("communities:community_revoke", args=[community.pk]), {"revoked_on": "2024-01-01", "reason": "x"}
        ).status_code == 404
    for compound in (x, loose):
        page = client.get(reverse("communities:compound_detail", args=[compound.pk]))
        assert page.status_code == 200
        assert reverse("communities:compound_edit", args=[compound.pk]) not in page.content.decode()
        assert client.post(
            reverse("communities:compound_edit", args=[compound.pk]), builders.compound_post(compound, name="改")
        ).status_code == 404

    assert client.get(reverse("communities:community_create")).status_code == 403
    assert client.get(reverse("communities:compound_create")).status_code == 403
    listing = client.get(reverse("communities:community_list")).content.decode()
    assert c.name in listing and other.name in listing
    assert reverse("communities:community_create") not in listing

    assert Community.objects.filter(name="改").count() == 0
    assert Compound.objects.filter(name="改").count() == 0
    assert Community.objects.get(pk=c.pk).status == "active"


def test_admin_can_edit_any_street(client, admin_user, zaoyuan_records):
    c, _, _ = zaoyuan_records
    client.force_login(admin_user)
    response = client.post(
        reverse("communities:community_edit", args=[c.pk]), builders.community_post(c, households=2100)
    )
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.households == 2100


def test_anonymous_is_sent_to_login(client, zaoyuan_records):
    c, _, _ = zaoyuan_records
    for url in (reverse("home"), reverse("communities:community_list"), reverse("communities:community_detail", args=[c.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_admin_site_never_deletes_structure(client, admin_user, zaoyuan_records):
    c, x, _ = zaoyuan_records
    client.force_login(admin_user)
    assert client.get(reverse("admin:communities_community_delete", args=[c.pk])).status_code == 403
    assert client.get(reverse("admin:communities_compound_delete", args=[x.pk])).status_code == 403
    changelist = client.get(reverse("admin:communities_community_changelist"))
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()
    assert Community.objects.filter(pk=c.pk).exists()


def test_admin_pages_open(client, admin_user, zaoyuan_records):
    c, x, _ = zaoyuan_records
    client.force_login(admin_user)
    for url in (
        reverse("admin:communities_community_change", args=[c.pk]),
        reverse("admin:communities_community_add"),
        reverse("admin:communities_community_history", args=[c.pk]),
        reverse("admin:communities_compound_change", args=[x.pk]),
        reverse("admin:communities_subdistrict_changelist"),
        reverse("admin:communities_communityadjustment_changelist"),
        reverse("admin:communities_retiredcommunitycode_changelist"),
    ):
        assert client.get(url).status_code == 200, url


def test_admin_move_goes_through_the_service(client, admin_user, zaoyuan_records, streets, clerk_qingnian):
    c, _, _ = zaoyuan_records
    client.force_login(admin_user)
    data = builders.community_post(c, sub_district=streets["qingnian"].code, code="610104001077")
    data.update({"revoked_on": "", "compounds-TOTAL_FORMS": "1", "compounds-INITIAL_FORMS": "1",
                 "compounds-MIN_NUM_FORMS": "0", "compounds-MAX_NUM_FORMS": "1000", "compounds-0-id": str(c.compounds.get().pk),
                 "compounds-0-community": str(c.pk)})
    response = client.post(reverse("admin:communities_community_change", args=[c.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert clerk_qingnian.has_perm("communities.change_community", Community.objects.get(pk=c.pk))
    assert c.retired_codes.get().code == "610104009001"
    assert c.history.first().history_user == admin_user


def test_admin_refuses_a_revoked_status_without_its_date_once(client, admin_user, zaoyuan_records):
    c, _, _ = zaoyuan_records
    client.force_login(admin_user)
    data = builders.community_post(c, status="revoked")
    data.update({"revoked_on": "", "compounds-TOTAL_FORMS": "1", "compounds-INITIAL_FORMS": "1",
                 "compounds-MIN_NUM_FORMS": "0", "compounds-MAX_NUM_FORMS": "1000", "compounds-0-id": str(c.compounds.get().pk),
                 "compounds-0-community": str(c.pk)})
    response = client.post(reverse("admin:communities_community_change", args=[c.pk]), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["revoked_on"]] == ["revoked_on_required"]  # the model's, not repeated by the form
    assert Community.objects.get(pk=c.pk).status != "revoked"


def test_scoped_querysets_follow_user_and_group_object_permissions(streets, clerk_qingnian, clerk_zaoyuan):
    """communities_for_user reads guardian's tables itself: a community's rights are its 街办's, through the
    clerk group or given to the user alone; a per-community row grants nothing; a global permission opens
    every row."""
    from django.contrib.auth.models import Permission
    from guardian.shortcuts import assign_perm, remove_perm

    from communities.selectors import communities_for_user, community_permitted, sub_districts_for_user

    qn = builders.community(streets["qingnian"])
    zy = builders.community(streets["zaoyuan"])
    assert set(communities_for_user(clerk_qingnian)) == {qn}
    assert set(communities_for_user(clerk_qingnian, "change_community")) == {qn}
    assert set(sub_districts_for_user(clerk_qingnian, "change_subdistrict")) == {streets["qingnian"]}

    assign_perm("communities.view_subdistrict", clerk_qingnian, streets["zaoyuan"])
    assert set(communities_for_user(clerk_qingnian)) == {qn, zy}
    assert set(communities_for_user(clerk_qingnian, "change_community")) == {qn}
    assert community_permitted(clerk_qingnian, zy.pk, "view_community")
    assert not community_permitted(clerk_qingnian, zy.pk, "change_community")
    remove_perm("communities.view_subdistrict", clerk_qingnian, streets["zaoyuan"])
    assert not community_permitted(clerk_qingnian, zy.pk, "view_community")
    # A right on the community itself (the pks of communities and 街办 overlap) is not one on its 街办.
    assign_perm("communities.view_community", clerk_qingnian, zy)
    assert set(communities_for_user(clerk_qingnian)) == {qn}
    remove_perm("communities.view_community", clerk_qingnian, zy)
    assert set(communities_for_user(clerk_zaoyuan, "view_community")) == {zy}

    clerk_qingnian.user_permissions.add(Permission.objects.get(codename="view_community"))
    fresh = type(clerk_qingnian).objects.get(pk=clerk_qingnian.pk)  # Django caches permissions per user object
    assert set(communities_for_user(fresh)) == {qn, zy}


def test_the_rights_statements_read_the_same_on_sqlite(streets, clerk_qingnian):
    """make run serves from SQLite while the suite runs on PostgreSQL: the selectors' own SQL must read on both.
    The same statements against the same rows copied into an SQLite database."""
    import sqlite3

    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import GroupObjectPermission, UserObjectPermission

    from communities.selectors import _granted_street_rights_sql, _granted_streets_sql, _permitted_sql

    qn, zy = builders.community(streets["qingnian"]), builders.community(streets["zaoyuan"])
    membership = type(clerk_qingnian).groups.through
    tables = {
        Community: ("id", "sub_district_id"), streets["qingnian"].__class__: ("id", "code"),
        Permission: ("id", "content_type_id", "codename"), membership: ("user_id", "group_id"),
        GroupObjectPermission: ("group_id", "permission_id", "object_pk"),
        UserObjectPermission: ("user_id", "permission_id", "object_pk"),
    }
    db = sqlite3.connect(":memory:")
    for model, fields in tables.items():
        table = model._meta.db_table
        columns = [model._meta.get_field(name.removesuffix("_id") if name.endswith("_id") else name).column
                   for name in fields]
        db.execute(f'CREATE TABLE "{table}" ({", ".join(columns)})')
        rows = list(model.objects.values_list(*fields))
        if rows:
            db.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(columns))})', rows)
    ctype = ContentType.objects.get_for_model(streets["qingnian"]).pk
    rights = [clerk_qingnian.pk, ctype, "change_subdistrict"] * 2
    codes = [row[0] for row in db.execute(_granted_streets_sql().replace("%s", "?"), rights)]
    assert codes == [streets["qingnian"].code]
    permitted = _permitted_sql().replace("%s", "?")
    assert db.execute(permitted, [qn.pk, *rights]).fetchone() == (1,)
    assert db.execute(permitted, [zy.pk, *rights]).fetchone() is None
    both = [clerk_qingnian.pk, ctype, "view_subdistrict", "change_subdistrict"] * 2
    code = streets["qingnian"].code
    assert sorted(db.execute(_granted_street_rights_sql().replace("%s", "?"), both)) == [
        (code, "change_subdistrict"), (code, "view_subdistrict")]


def test_the_migration_gives_each_clerk_group_its_street_and_drops_the_per_community_rows(streets, clerk_qingnian):
    import importlib

    from django.apps import apps
    from guardian.models import GroupObjectPermission
    from guardian.shortcuts import assign_perm, get_perms, remove_perm

    from communities.selectors import communities_for_user

    migration = importlib.import_module("communities.migrations.0011_community_rights_from_their_sub_district")
    street = streets["qingnian"]
    c = builders.community(street)
    # A database seeded before the 街办 rights: the group held its communities one by one.
    remove_perm("communities.view_subdistrict", street.clerk_group, street)
    remove_perm("communities.change_subdistrict", street.clerk_group, street)
    assign_perm("communities.view_community", street.clerk_group, c)
    assert not communities_for_user(clerk_qingnian).exists()

    migration.rights_from_the_sub_district(apps, None)
    migration.rights_from_the_sub_district(apps, None)  # a second run changes nothing

    assert set(get_perms(street.clerk_group, street)) == {"view_subdistrict", "change_subdistrict"}
    assert list(communities_for_user(clerk_qingnian, "change_community")) == [c]
    assert not GroupObjectPermission.objects.filter(content_type__model="community").exists()
    assert GroupObjectPermission.objects.filter(object_pk=str(street.pk), group=street.clerk_group).count() == 2


def test_a_page_reads_the_streets_rights_once_and_the_next_page_reads_them_again(client, streets, clerk_qingnian):
    """Within one GET the 街办 rights (查看 and 修改) are read in one statement however often the page asks (the
    record, its panels, its 编辑 button); a right taken away shows on the very next page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from guardian.shortcuts import remove_perm

    qn = builders.community(streets["qingnian"])
    client.force_login(clerk_qingnian)
    url = reverse("communities:community_detail", args=[qn.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url)
    assert page.status_code == 200 and 'id="community-actions"' in page.content.decode()
    assert sum("guardian_" in q["sql"] for q in ctx.captured_queries) == 1

    remove_perm("communities.change_subdistrict", streets["qingnian"].clerk_group, streets["qingnian"])
    page = client.get(url)
    assert page.status_code == 200 and 'id="community-actions"' not in page.content.decode()
    remove_perm("communities.view_subdistrict", streets["qingnian"].clerk_group, streets["qingnian"])
    assert client.get(url).status_code == 404


def test_outside_a_page_the_rights_are_read_each_time(streets, clerk_qingnian):
    """Services, imports and tasks (no GET request) never see rights held over from an earlier read."""
    from guardian.shortcuts import assign_perm

    from communities.selectors import may_change_community, sub_districts_for_user

    zy = builders.community(streets["zaoyuan"])
    assert not may_change_community(clerk_qingnian, zy)
    assert set(sub_districts_for_user(clerk_qingnian)) == {streets["qingnian"]}
    assign_perm("communities.change_subdistrict", clerk_qingnian, streets["zaoyuan"])
    assign_perm("communities.view_subdistrict", clerk_qingnian, streets["zaoyuan"])
    assert may_change_community(clerk_qingnian, zy)
    assert set(sub_districts_for_user(clerk_qingnian)) == {streets["qingnian"], streets["zaoyuan"]}
