"""The security audit log: what is recorded, by whom and from where; nobody can change it; 180 days kept."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AppendOnlyError, Kind, SecurityEvent

PASSWORD = "Lianhu#2024pass"


def _events(kind):
    return list(SecurityEvent.objects.filter(kind=kind).order_by("id"))


def test_login_logout_and_failed_login_with_user_and_address(client, clerk_qingnian):
    client.post(reverse("login"), {"username": "clerk_qn", "password": "Wrong#password1"}, REMOTE_ADDR="10.1.2.3")
    failed = _events(Kind.LOGIN_FAILED)
    assert [(e.username, e.ip, e.user_id) for e in failed] == [("clerk_qn", "10.1.2.3", None)]
    assert "Wrong" not in str(failed[0].detail)

    client.post(reverse("login"), {"username": "clerk_qn", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    (login,) = _events(Kind.LOGIN)
    assert (login.user_id, login.username, login.ip) == (clerk_qingnian.pk, "clerk_qn", "10.1.2.3")
    assert timezone.now() - login.when < timedelta(minutes=1)

    client.post(reverse("logout"), REMOTE_ADDR="10.1.2.3")
    (logout,) = _events(Kind.LOGOUT)
    assert logout.user_id == clerk_qingnian.pk


def test_lockout_is_recorded(client, clerk_qingnian):
    for _ in range(5):
        client.post(reverse("login"), {"username": "clerk_qn", "password": "Wrong#password1"})
    (lockout,) = _events(Kind.LOCKOUT)
    assert lockout.username == "clerk_qn" and lockout.ip == "127.0.0.1"
    assert len(_events(Kind.LOGIN_FAILED)) == 5


def test_group_and_permission_changes_are_recorded(streets, clerk_qingnian, reviewer):
    from guardian.shortcuts import assign_perm, remove_perm

    start = SecurityEvent.objects.count()
    group = Group.objects.get(name="区民政局审核员")
    clerk_qingnian.groups.add(group)
    clerk_qingnian.groups.remove(group)
    perm = Permission.objects.get(codename="change_community")
    clerk_qingnian.user_permissions.add(perm)
    group.permissions.remove(perm)
    group.permissions.add(perm)
    community_street = streets["zaoyuan"]
    assign_perm("communities.view_subdistrict", reviewer, community_street)
    remove_perm("communities.view_subdistrict", reviewer, community_street)

    new = list(SecurityEvent.objects.order_by("id")[start:])
    summary = [(e.kind, e.detail.get("on"), e.detail.get("action")) for e in new]
    assert ("group_change", "user.groups", "add") in summary
    assert ("group_change", "user.groups", "remove") in summary
    assert ("permission_change", "user.user_permissions", "add") in summary
    assert ("permission_change", "group.permissions", "remove") in summary
    assert ("permission_change", "object_permission", "add") in summary
    assert ("permission_change", "object_permission", "remove") in summary
    add_group = next(e for e in new if e.detail.get("on") == "user.groups")
    assert add_group.detail["user"] == "clerk_qn" and add_group.detail["groups"] == ["区民政局审核员"]
    obj = next(e for e in new if e.detail.get("on") == "object_permission")
    assert obj.detail["permission"] == "communities.view_subdistrict" and obj.detail["holder"] == "reviewer"


def test_group_change_through_the_admin_names_the_administrator_and_address(client, admin_user, clerk_qingnian):
    client.force_login(admin_user)
    group = Group.objects.get(name="区民政局审核员")
    url = reverse("admin:auth_user_change", args=[clerk_qingnian.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("password", "groups", "user_permissions")}
    data.update(
        username="clerk_qn", groups=[*clerk_qingnian.groups.values_list("pk", flat=True), group.pk],
        date_joined_0=timezone.localtime(clerk_qingnian.date_joined).strftime("%Y-%m-%d"),
        date_joined_1="08:00:00", is_active="on",
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = client.post(url, data, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    event = SecurityEvent.objects.filter(kind=Kind.GROUP_CHANGE, detail__action="add").latest("id")
    assert event.username == "admin1" and event.ip == "10.9.9.9"
    assert "区民政局审核员" in event.detail["groups"]


def test_parameter_change_is_recorded(reviewer):
    from compliance.rules import registry
    from compliance.services import rule_parameter_set

    rule = next(r for r in registry.all() if r.params)
    name, default = next(iter(rule.params.items()))
    value = default.default if hasattr(default, "default") else default
    rule_parameter_set(rule_id=rule.id, name=name, value=value, effective_from=timezone.localdate(),
                       user=reviewer, reason="审计测试")
    (event,) = _events(Kind.PARAMETER_CHANGE)
    assert event.user_id == reviewer.pk
    assert event.detail["rule"] == rule.id and event.detail["name"] == name and event.detail["reason"] == "审计测试"


def test_download_is_recorded_as_an_export(client, reviewer, streets):
    client.force_login(reviewer)
    response = client.get(reverse("approvals:year_end_report", args=[2024]), REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 200
    (event,) = _events(Kind.EXPORT)
    assert event.username == "reviewer" and event.ip == "10.0.0.5"
    assert event.detail["view"] == "approvals:year_end_report" and event.detail["kwargs"] == {"year": "2024"}


def test_refused_download_is_not_an_export(client, clerk_zaoyuan, streets):
    from communities.services import community_create

    other = community_create(code="610104001001", name="莲湖路第一社区居委会", sub_district=streets["qingnian"],
                             households=1180, population=3892)
    client.force_login(clerk_zaoyuan)
    assert client.get(reverse("staffing:roster_export", args=[other.pk])).status_code == 404
    assert _events(Kind.EXPORT) == []


def test_import_from_the_command_line_is_recorded(streets, tmp_path, admin_user):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "社区"
    sheet.append(["社区代码", "社区名称", "街道办事处", "户数", "常住人口", "成立日期", "党组织类型",
                  "东至", "南至", "西至", "北至", "社会组织数", "环境和物业管理委员会"])
    sheet.append(["610104001001", "莲湖路第一社区居委会", "青年路街道", 1180, 3892, "2001-05-01", "党支部",
                  "甲", "乙", "丙", "丁", 2, "是"])
    path = tmp_path / "社区.xlsx"
    book.save(path)
    call_command("import_workbook", str(path), "--user", "admin1", stdout=StringIO(), stderr=StringIO())
    (event,) = _events(Kind.IMPORT)
    assert event.username == "admin1" and event.detail["via"] == "command"
    assert event.detail["sheets"]["社区"]["created"] == 1


# ------------------------------------------------------------------ append-only


def _event(**kwargs):
    from audit.services import security_event_record

    return security_event_record(kind=Kind.LOGIN, username="someone", ip="10.0.0.1", **kwargs)


def test_the_application_cannot_change_or_delete_events(db):
    event = _event()
    event.username = "someone-else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.filter(pk=event.pk).update(username="x")
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.all().delete()
    assert SecurityEvent.objects.get(pk=event.pk).username == "someone"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_postgresql_refuses_update_and_delete_even_in_raw_sql(db):
    event = _event()
    for sql in ("UPDATE audit_securityevent SET username = 'x' WHERE id = %s",
                "DELETE FROM audit_securityevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    # Even with the purge flag a young row stays.
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL audit.purge = 'on'")
        cursor.execute("DELETE FROM audit_securityevent WHERE id = %s", [event.pk])
    assert SecurityEvent.objects.filter(pk=event.pk, username="someone").exists()


def test_purge_keeps_at_least_180_days(db):
    old = SecurityEvent.objects.create(kind=Kind.LOGIN, username="old", when=timezone.now() - timedelta(days=181))
    kept = SecurityEvent.objects.create(kind=Kind.LOGIN, username="kept", when=timezone.now() - timedelta(days=179))
    with pytest.raises(CommandError, match="至少保存 180 天"):
        call_command("security_events_purge", "--days", "30", stdout=StringIO())
    out = StringIO()
    call_command("security_events_purge", "--dry-run", stdout=out)
    assert "可删除 1 条" in out.getvalue() and SecurityEvent.objects.filter(pk=old.pk).exists()
    out = StringIO()
    call_command("security_events_purge", stdout=out)
    assert "已删除 1 条" in out.getvalue()
    assert list(SecurityEvent.objects.values_list("pk", flat=True)) == [kept.pk]


def test_purge_with_a_longer_retention_keeps_more(db, settings):
    settings.AUDIT_RETENTION_DAYS = 400
    SecurityEvent.objects.create(kind=Kind.LOGIN, username="old", when=timezone.now() - timedelta(days=200))
    call_command("security_events_purge", stdout=StringIO())
    assert SecurityEvent.objects.count() == 1


# ------------------------------------------------------------------ who may read it


def test_only_administrators_see_the_log_in_the_admin(client, admin_user, reviewer, streets):
    _event()
    url = reverse("admin:audit_securityevent_changelist")
    reviewer.is_staff = True
    reviewer.save()
    reviewer.user_permissions.add(Permission.objects.get(codename="view_securityevent"))
    client.force_login(reviewer)
    assert client.get(url).status_code in (302, 403)
    client.force_login(admin_user)
    page = client.get(url)
    assert page.status_code == 200 and "someone" in page.content.decode()
    event = SecurityEvent.objects.first()
    change = client.get(reverse("admin:audit_securityevent_change", args=[event.pk]))
    assert change.status_code == 200 and "保存" not in change.content.decode().split("submit-row")[-1][:400]
    assert client.post(reverse("admin:audit_securityevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:audit_securityevent_add")).status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk).exists()


def test_approval_steps_are_recorded_and_a_refused_step_is_not(clerk_qingnian, reviewer, streets):
    from django.core.exceptions import ValidationError

    from approvals.services import request_create_new
    from communities.services import compound_create
    from tests.approvals.conftest import act, part, step_kwargs, submit

    free = compound_create(code="XQ-NEW", name="新建小区", sub_district=streets["qingnian"], households=1500)
    req = request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title="新设",
                             part=part("610104001050", "大兴东社区居委会"), compounds=[free])
    submit(req, clerk_qingnian)
    with pytest.raises(ValidationError):
        act(req, clerk_qingnian, **step_kwargs(2, req))  # a clerk may not take the reviewer's step
    act(req, reviewer, **step_kwargs(2, req))
    events = _events(Kind.APPROVAL)
    assert [(e.username, e.detail["step"], e.detail["action"]) for e in events] == [
        ("clerk_qn", 1, "advance"), ("reviewer", 2, "advance")]
    assert events[0].detail["request"] == req.pk
