"""The role groups and a 街办's clerk rights, written in bulk: the same rows and security events the signal
receivers write for one row at a time, nothing on a second run, and a fixed handful of queries."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.models import GroupObjectPermission

from accounts.roles import ROLE_PERMISSIONS, Role, ensure_role_groups
from audit.models import Kind, SecurityEvent
from communities.services import SUB_DISTRICT_OBJECT_PERMS, sub_district_upsert

pytestmark = pytest.mark.django_db


def _events(kind, on):
    return [e.detail for e in SecurityEvent.objects.filter(kind=kind).order_by("pk") if e.detail.get("on") == on]


def test_role_groups_are_created_with_their_rights_and_logged_once():
    groups = ensure_role_groups()

    assert {g.name for g in groups.values()} == {role.value for role in Role}
    for role, group in groups.items():
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(ROLE_PERMISSIONS.get(role, []))
    assert sorted(d["group"] for d in _events(Kind.GROUP_CHANGE, "group")) == sorted(r.value for r in Role)
    granted = {d["group"]: d["permissions"] for d in _events(Kind.PERMISSION_CHANGE, "group.permissions")}
    assert granted[Role.CLERK.value] == sorted(set(ROLE_PERMISSIONS[Role.CLERK]))

    before = SecurityEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert ensure_role_groups() == groups
    assert SecurityEvent.objects.count() == before, "a second run changes nothing and logs nothing"
    assert len(queries) <= 5


def test_a_right_taken_away_is_granted_again_and_logged():
    groups = ensure_role_groups()
    reviewer = groups[Role.REVIEWER]
    taken = reviewer.permissions.select_related("content_type").first()
    reviewer.permissions.remove(taken)

    ensure_role_groups()

    assert reviewer.permissions.filter(pk=taken.pk).exists()
    last = _events(Kind.PERMISSION_CHANGE, "group.permissions")[-1]
    assert last == {"action": "add", "on": "group.permissions", "group": reviewer.name,
                    "permissions": [f"{taken.content_type.app_label}.{taken.codename}"]}


def test_a_new_street_gets_its_clerk_group_and_rights_in_a_few_queries():
    ensure_role_groups()
    with CaptureQueriesContext(connection) as queries:
        street = sub_district_upsert(code="610104001", name="青年路街道")
    assert len(queries) <= 16

    assert street.clerk_group.name == "街办办事员·青年路街道"
    rights = GroupObjectPermission.objects.filter(group=street.clerk_group, object_pk=str(street.pk))
    assert sorted(rights.values_list("permission__codename", flat=True)) == sorted(SUB_DISTRICT_OBJECT_PERMS)
    logged = _events(Kind.PERMISSION_CHANGE, "object_permission")
    assert sorted(d["permission"] for d in logged) == sorted(f"communities.{p}" for p in SUB_DISTRICT_OBJECT_PERMS)
    assert {d["object"] for d in logged} == {f"communities.subdistrict:{street.pk}"}
    assert {d["holder"] for d in logged} == {street.clerk_group.name}
    # One history row: the 街办 is created with its group, not created and then updated.
    assert [h.history_type for h in street.history.all()] == ["+"]


def test_upserting_a_street_again_renames_it_and_restores_a_lost_right_only():
    street = sub_district_upsert(code="610104001", name="青年路街道")
    GroupObjectPermission.objects.filter(group=street.clerk_group, permission__codename="change_subdistrict").delete()
    before = len(_events(Kind.PERMISSION_CHANGE, "object_permission"))

    again = sub_district_upsert(code="610104001", name="青年路街道办事处")

    assert again.pk == street.pk and again.name == "青年路街道办事处"
    assert again.clerk_group_id == street.clerk_group_id, "the clerk group stays (its members stay clerks)"
    added = _events(Kind.PERMISSION_CHANGE, "object_permission")[before:]
    assert [(d["action"], d["permission"]) for d in added if d["action"] == "add"] == [
        ("add", "communities.change_subdistrict")]
    assert Group.objects.filter(name__startswith="街办办事员·青年路").count() == 1
