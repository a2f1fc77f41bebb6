"""The access snapshot (accounts.access): pages stop asking for the user's groups, permissions and units, and any
change to them is seen on the very next page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.access import GENERATION_KEY, access_of, forget_access
from accounts.models import DepartmentMembership, Unit, units_of
from accounts.roles import Role, is_clerk_of, roles_of

pytestmark = pytest.mark.django_db

AUTH_TABLES = ("auth_group", "auth_permission", "accounts_departmentmembership")


def _auth_reads(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries if any(f'"{t}"' in q["sql"] for t in AUTH_TABLES)]


def test_pages_read_no_group_permission_or_unit_after_signing_in(client, reviewer):
    client.force_login(reviewer)  # signing in reads the snapshot
    url = reverse("communities:community_list")
    assert _auth_reads(client, url) == []
    assert _auth_reads(client, url) == []
    cache.delete(GENERATION_KEY)  # the cache restarted: read once more, then kept again
    assert _auth_reads(client, url)
    assert _auth_reads(client, url) == []


def test_losing_a_role_shows_on_the_next_page(client, reviewer):
    client.force_login(reviewer)
    url = reverse("approvals:ledger")
    assert client.get(url).status_code == 200
    reviewer.groups.remove(Group.objects.get(name=Role.REVIEWER.value))
    assert client.get(url).status_code == 403


def test_a_new_department_unit_and_a_cleared_cache_are_read_again(django_user_model):
    user = django_user_model.objects.create_user("dept_fin", password="x")
    user.groups.add(Group.objects.get_or_create(name=Role.DEPARTMENT.value)[0])
    assert units_of(user) == set()
    DepartmentMembership.objects.create(user=user, unit=Unit.FINANCE)
    fresh = django_user_model.objects.get(pk=user.pk)  # as the next request loads it
    assert units_of(fresh) == {Unit.FINANCE.value}
    assert roles_of(fresh) == {Role.DEPARTMENT}

    # The cache restarted: a new generation, read from the tables again rather than an older snapshot.
    stale = access_of(fresh)
    DepartmentMembership.objects.filter(user=user).delete()
    cache.delete(GENERATION_KEY)
    again = django_user_model.objects.get(pk=user.pk)
    assert access_of(again) != stale and units_of(again) == set()


def test_clerk_of_their_own_street_only(clerk_qingnian, django_user_model):
    street = clerk_qingnian.groups.get(sub_district__isnull=False).sub_district
    assert is_clerk_of(clerk_qingnian, street.code)
    assert not is_clerk_of(clerk_qingnian, "610104999")
    clerk_qingnian.groups.remove(street.clerk_group)
    forget_access(clerk_qingnian)
    assert not is_clerk_of(clerk_qingnian, street.code)


def test_a_deactivated_user_holds_no_model_permission(reviewer, django_user_model):
    assert reviewer.has_perm("communities.view_community")
    reviewer.is_active = False
    reviewer.save()
    again = django_user_model.objects.get(pk=reviewer.pk)
    access_of(again)
    assert not again.has_perm("communities.view_community")


def test_a_cache_each_process_keeps_for_itself_keeps_nothing_across_requests(client, reviewer, settings):
    """Production with a per-process cache and several workers: a role taken away must not live on elsewhere."""
    settings.ACCESS_SNAPSHOT_SHARED = False
    client.force_login(reviewer)
    url = reverse("communities:community_list")
    assert _auth_reads(client, url)
    assert _auth_reads(client, url)


def test_a_page_reads_the_snapshot_in_one_cache_round_trip(client, reviewer, settings, monkeypatch):
    settings.ACCESS_SNAPSHOT_SHARED = True
    client.force_login(reviewer)
    url = reverse("communities:community_list")
    assert client.get(url).status_code == 200  # the snapshot is stored
    calls: list[tuple[str, object]] = []
    inside: list[str] = []  # the local-memory cache's get_many asks get() per key; Redis sends one MGET
    for name in ("get", "get_many", "add", "set"):
        original = getattr(cache, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            keys = args[0] if args else None
            if "lianhu:access" in str(keys) and not inside:
                calls.append((_name, keys))
            inside.append(_name)
            try:
                return _original(*args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(cache, name, spy)
    assert client.get(url).status_code == 200
    assert [name for name, _keys in calls] == ["get_many"], calls
