"""The issue-8 list, item by item, where the first audit commit left gaps: imports (which grant no rights), command-line
exports and imports, account flags, groups themselves, department units and step deadlines edited in the admin."""

import getpass
import socket
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from audit.context import COMMAND_LINE
from audit.models import Kind, SecurityEvent


def _events(kind, **detail):
    return list(SecurityEvent.objects.filter(kind=kind, **{f"detail__{k}": v for k, v in detail.items()})
                .order_by("id"))


def _workbook(path, rows):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "社区"
    sheet.append(["社区代码", "社区名称", "街道办事处", "户数", "常住人口", "成立日期", "党组织类型",
                  "东至", "南至", "西至", "北至", "社会组织数", "环境和物业管理委员会"])
    for code, name, street in rows:
        sheet.append([code, name, street, 1180, 3892, "2001-05-01", "党支部", "甲", "乙", "丙", "丁", 2, "是"])
    book.save(path)
    return path


THREE_ROWS = [("610104001001", "莲湖路第一社区居委会", "青年路街道"),
              ("610104001002", "莲湖路第二社区居委会", "青年路街道"),
              ("610104009001", "枣园东社区居委会", "枣园街道")]


# ------------------------------------------------------------------ imports


def test_import_is_recorded_with_the_importer_and_grants_nothing(streets, tmp_path, admin_user):
    path = _workbook(tmp_path / "社区.xlsx", THREE_ROWS)
    call_command("import_workbook", str(path), "--user", "admin1", "--dry-run", stdout=StringIO(), stderr=StringIO())
    assert _events(Kind.IMPORT) == []

    rights_before = len(_events(Kind.PERMISSION_CHANGE))
    call_command("import_workbook", str(path), "--user", "admin1", stdout=StringIO(), stderr=StringIO())
    (imported,) = _events(Kind.IMPORT)
    assert imported.username == "admin1" and imported.detail["via"] == "command"
    # A new community is its 街办's clerks' through their rights on the 街办: no right changes hands.
    assert len(_events(Kind.PERMISSION_CHANGE)) == rights_before


def test_web_import_records_the_import_with_the_uploader(streets, admin_user, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports.services import upload_run, upload_store

    settings.MEDIA_ROOT = str(tmp_path / "media")
    data = _workbook(tmp_path / "社区.xlsx", THREE_ROWS[:1]).read_bytes()
    upload = upload_store(user=admin_user, file=SimpleUploadedFile("社区.xlsx", data))
    upload_run(upload=upload, dry_run=True)
    assert _events(Kind.IMPORT) == []
    upload_run(upload=upload, dry_run=False)
    (imported,) = _events(Kind.IMPORT)
    assert imported.username == "admin1" and imported.detail["via"] == "web"


# ------------------------------------------------------------------ command-line export and import


def test_command_line_export_is_recorded_with_file_date_rows_and_origin(streets, tmp_path):
    target = tmp_path / "合规.xlsx"
    call_command("export_compliance", str(target), "--as-of", "2024-06-30", stdout=StringIO())
    (event,) = _events(Kind.EXPORT)
    assert event.user_id is None and event.username == COMMAND_LINE and event.ip is None
    assert event.detail["via"] == "command" and event.detail["command"] == "export_compliance"
    assert event.detail["host"] == socket.gethostname() and event.detail["os_user"] == getpass.getuser()
    assert event.detail["file"] == str(target.resolve())
    assert event.detail["as_of"] == "2024-06-30" and event.detail["as_of_requested"] == "2024-06-30"
    assert event.detail["rows"] == 0 and event.detail["sheets"] >= 1


def test_a_refused_command_line_export_records_nothing(streets, tmp_path):
    with pytest.raises(CommandError):
        call_command("export_compliance", str(tmp_path / "合规.csv"), stdout=StringIO())
    assert _events(Kind.EXPORT) == []


def test_command_line_import_without_a_user_names_the_command_line(streets, tmp_path):
    path = _workbook(tmp_path / "社区.xlsx", THREE_ROWS[:1])
    call_command("import_workbook", str(path), stdout=StringIO(), stderr=StringIO())
    (event,) = _events(Kind.IMPORT)
    assert event.username == COMMAND_LINE and event.user_id is None
    assert event.detail["command"] == "import_workbook" and event.detail["host"] == socket.gethostname()
    assert event.detail["file"] == str(path.resolve())


def test_signals_inside_a_command_name_the_command_line(streets):
    from audit.context import audited_command

    class Fake:
        @audited_command
        def handle(self):
            get_user_model().objects.create_user(username="x1").groups.add(Group.objects.get(name="区民政局审核员"))

    Fake.__module__ = "accounts.management.commands.create_demo_users"
    Fake().handle()
    (event,) = _events(Kind.GROUP_CHANGE, on="user.groups")
    assert event.username == COMMAND_LINE and event.detail["command"] == "create_demo_users"
    # Outside a command nothing is filled in.
    get_user_model().objects.get(username="x1").groups.clear()
    cleared = _events(Kind.GROUP_CHANGE, on="user.groups", action="clear")[0]
    assert cleared.username == "" and "via" not in cleared.detail


# ------------------------------------------------------------------ accounts, groups, units


def test_account_flags_are_permission_changes_and_a_login_save_is_not(db):
    User = get_user_model()
    user = User.objects.create_user(username="u1", password="Lianhu#2024pass")
    (created,) = _events(Kind.PERMISSION_CHANGE, on="user.account")
    assert created.detail["action"] == "create" and created.detail["is_superuser"] is False

    user.is_superuser = user.is_staff = True
    user.save()
    change = _events(Kind.PERMISSION_CHANGE, on="user.account", action="change")
    assert [e.detail["changed"] for e in change] == [{"is_staff": [False, True], "is_superuser": [False, True]}]

    user.first_name = "张"
    user.save()
    user.save(update_fields=["last_login"])
    assert len(_events(Kind.PERMISSION_CHANGE, on="user.account", action="change")) == 1

    user.delete()
    assert _events(Kind.PERMISSION_CHANGE, on="user.account", action="delete")[0].detail["user"] == "u1"


def test_deactivating_a_user_in_the_admin_names_the_administrator(client, admin_user, clerk_qingnian):
    from django.utils import timezone

    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[clerk_qingnian.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("password", "groups",
                                                                                  "user_permissions", "is_active")}
    data.update(username="clerk_qn", groups=list(clerk_qingnian.groups.values_list("pk", flat=True)),
                date_joined_0=timezone.localtime(clerk_qingnian.date_joined).strftime("%Y-%m-%d"),
                date_joined_1="08:00:00")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    assert client.post(url, data, REMOTE_ADDR="10.9.9.8").status_code == 302
    (event,) = _events(Kind.PERMISSION_CHANGE, on="user.account", action="change")
    assert event.username == "admin1" and event.ip == "10.9.9.8"
    assert event.detail == {**event.detail, "user": "clerk_qn", "changed": {"is_active": [True, False]}}


def test_groups_created_renamed_and_deleted_are_recorded(db):
    User = get_user_model()
    group = Group.objects.create(name="临时组")
    User.objects.create_user(username="m1").groups.add(group)
    group.name = "临时组二"
    group.save()
    group.save()
    group.delete()
    events = [(e.detail["action"], e.detail["group"]) for e in _events(Kind.GROUP_CHANGE, on="group")]
    assert events == [("create", "临时组"), ("rename", "临时组二"), ("delete", "临时组二")]
    assert _events(Kind.GROUP_CHANGE, on="group", action="delete")[0].detail["users"] == ["m1"]
    assert _events(Kind.GROUP_CHANGE, on="group", action="rename")[0].detail["from"] == "临时组"


def test_department_units_are_role_assignments(department_user):
    from accounts.models import DepartmentMembership, Unit

    membership = DepartmentMembership.objects.create(user=department_user, unit=Unit.FINANCE)
    membership.delete()
    events = _events(Kind.PERMISSION_CHANGE, on="department_membership")
    assert [(e.detail["action"], e.detail["user"], e.detail["unit"]) for e in events] == [
        ("add", "dept", "finance"), ("remove", "dept", "finance")]


# ------------------------------------------------------------------ parameters


def test_step_deadline_is_a_parameter_change_once_whichever_way_it_is_set(client, admin_user):
    from approvals.flow import State
    from approvals.services import deadline_set

    deadline_set(state=State.DISTRICT_REVIEW, days=5)
    (by_service,) = _events(Kind.PARAMETER_CHANGE)
    assert (by_service.detail["parameter"], by_service.detail["state"], by_service.detail["days"]) == (
        "approval_step_deadline", State.DISTRICT_REVIEW, 5)

    from approvals.models import StepDeadline

    row = StepDeadline.objects.get(state=State.DISTRICT_REVIEW)
    client.force_login(admin_user)
    response = client.post(reverse("admin:approvals_stepdeadline_change", args=[row.pk]),
                           {"state": State.DISTRICT_REVIEW, "days": 9}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302
    by_admin = _events(Kind.PARAMETER_CHANGE)[-1]
    assert (by_admin.username, by_admin.ip, by_admin.detail["days"], by_admin.detail["action"]) == (
        "admin1", "10.0.0.9", 9, "change")
