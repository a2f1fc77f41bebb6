"""create_demo_users: one login per role, scoped like real users, idempotent."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from accounts.demo import DEMO_PASSWORD
from accounts.models import DepartmentMembership, Unit, units_of
from accounts.roles import Role, is_admin, is_clerk, is_department, is_reviewer
from approvals.models import EstablishmentRequest
from communities.selectors import communities_for_user, own_sub_districts

pytestmark = pytest.mark.django_db

User = get_user_model()


def _login_request():
    # django-axes checks every authentication against the request's address.
    return RequestFactory().post("/login/")


def _run(**options) -> str:
    out = StringIO()
    call_command("create_demo_users", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def demo(settings, db, structure_demo_rows):
    from ..demo_world import restore

    settings.DEBUG = True
    restore(structure_demo_rows)


def test_one_user_per_role_with_printed_logins(demo):
    out = _run()
    for username in ("qingnian", "zaoyuan", "reviewer", "admin"):
        assert username in out
        assert authenticate(_login_request(), username=username, password=DEMO_PASSWORD) is not None
    assert "密码" in out and DEMO_PASSWORD in out

    qingnian = User.objects.get(username="qingnian")
    assert is_clerk(qingnian) and not is_reviewer(qingnian)
    assert list(own_sub_districts(qingnian).values_list("name", flat=True)) == ["青年路街道"]
    assert {c.sub_district_id for c in communities_for_user(qingnian, "change_community")} == {"610104001"}

    zaoyuan = User.objects.get(username="zaoyuan")
    assert list(own_sub_districts(zaoyuan).values_list("code", flat=True)) == ["610104009"]
    assert communities_for_user(zaoyuan).count() == 22

    reviewer = User.objects.get(username="reviewer")
    assert is_reviewer(reviewer) and not is_admin(reviewer) and not is_clerk(reviewer)
    # The 142 of the NBS list and the 筹建 community of the demo's 新设 request.
    assert communities_for_user(reviewer).count() == 143

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and is_admin(admin)


def test_a_new_community_request_waits_at_step_two(demo):
    out = _run()
    req = EstablishmentRequest.objects.get()
    assert (req.kind, req.state, req.created_by.username) == ("new", "district_review", "qingnian")
    assert req.parts.get().community.status == "preparing"
    assert list(req.records.values_list("step", "to_state")) == [(1, "district_review")]
    assert "第2步" in out
    _run()
    assert EstablishmentRequest.objects.count() == 1 and req.records.count() == 1


def test_department_users_act_for_their_unit(demo):
    out = _run()
    expected = {"guihua": "planning", "zhujian": "housing", "daxing": "daxing", "caizheng": "finance"}
    for username, unit in expected.items():
        user = authenticate(_login_request(), username=username, password=DEMO_PASSWORD)
        assert user is not None and is_department(user) and not is_clerk(user) and not is_reviewer(user)
        assert units_of(user) == {unit}
        assert f"{Unit(unit).label}" in out and username in out
    _run()
    assert DepartmentMembership.objects.filter(user__username__in=expected).count() == 4


def test_second_run_changes_nothing(demo):
    _run()
    before = list(User.objects.order_by("pk").values("pk", "username", "password", "is_superuser", "last_name"))
    groups = {u.username: set(u.groups.values_list("name", flat=True)) for u in User.objects.all()}
    _run()
    assert list(User.objects.order_by("pk").values("pk", "username", "password", "is_superuser", "last_name")) == before
    assert {u.username: set(u.groups.values_list("name", flat=True)) for u in User.objects.all()} == groups
    assert groups["qingnian"] == {Role.CLERK.value, "街办办事员·青年路街道"}


def test_repairs_a_changed_password(demo):
    _run()
    user = User.objects.get(username="reviewer")
    user.set_password("something-else-42")
    user.save()
    _run()
    assert authenticate(_login_request(), username="reviewer", password=DEMO_PASSWORD) is not None


def test_works_before_load_demo(db, settings):
    settings.DEBUG = True
    _run()
    assert list(own_sub_districts(User.objects.get(username="zaoyuan")).values_list("name", flat=True)) == ["枣园街道"]


def test_refused_without_debug_unless_forced(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        _run()
    assert not User.objects.exists()
    _run(force=True)
    assert User.objects.filter(username="admin", is_superuser=True).exists()
