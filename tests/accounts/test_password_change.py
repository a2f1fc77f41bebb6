"""Every user changes their own password; a password an administrator chose must be replaced at first login;
the validators speak Chinese; the security log records changes and resets."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from accounts.models import AccountSecurity
from audit.models import Kind, SecurityEvent

PASSWORD = "Lianhu#2024pass"
NEW = "Qingnian@2025new"
User = get_user_model()


def _change(client, old=PASSWORD, new=NEW, again=None):
    return client.post(reverse("accounts:password_change"),
                       {"old_password": old, "new_password1": new, "new_password2": again or new})


def test_non_staff_user_changes_their_password(client, clerk_qingnian):
    client.force_login(clerk_qingnian)
    page = client.get(reverse("home")).content.decode()
    assert reverse("accounts:password_change") in page  # the user menu links to it
    assert client.get(reverse("accounts:password_change")).status_code == 200
    response = _change(client)
    assert response.status_code == 302
    clerk_qingnian.refresh_from_db()
    assert clerk_qingnian.check_password(NEW)
    # Still signed in (Django keeps the session valid for the new password hash).
    assert client.get(reverse("communities:community_list")).status_code == 200
    event = SecurityEvent.objects.get(kind=Kind.PASSWORD_CHANGE)
    assert event.user_id == clerk_qingnian.pk and event.ip == "127.0.0.1"
    assert not SecurityEvent.objects.filter(kind=Kind.PASSWORD_RESET).exists()
    state = AccountSecurity.objects.get(user=clerk_qingnian)
    assert not state.must_change_password and state.password_changed_at is not None


@pytest.mark.parametrize(
    ("old", "new", "again", "field", "words"),
    [
        ("Wrong#password1", NEW, None, "old_password", "旧密码不正确"),
        (PASSWORD, NEW, "Other@2025new", "new_password2", "不一致"),
        (PASSWORD, "Ab1#efgh", None, "new_password2", "至少需要10个字符"),
        (PASSWORD, "abcdefghij12", None, "new_password2", "当前只有2类"),
        (PASSWORD, "clerk_qn#2024", None, "new_password2", "与用户名太相似"),
    ],
)
def test_refused_changes_say_why_in_chinese_and_change_nothing(client, clerk_qingnian, old, new, again, field,
                                                               words):
    client.force_login(clerk_qingnian)
    response = _change(client, old, new, again)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert words in errors
    clerk_qingnian.refresh_from_db()
    assert clerk_qingnian.check_password(PASSWORD)
    assert not SecurityEvent.objects.filter(kind=Kind.PASSWORD_CHANGE).exists()


@pytest.mark.parametrize(
    ("password", "code"),
    [("Ab1#efgh", "password_too_short"), ("reviewer#2024", "password_too_similar"),
     ("1234567890123", "password_entirely_numeric"), ("Password123", "password_too_common"),
     ("abcdefghij12", "password_too_few_classes")],
)
def test_every_validator_message_is_chinese(reviewer, password, code):
    with pytest.raises(ValidationError) as info:
        validate_password(password, reviewer)
    errors = {e.code: " ".join(e.messages) for e in info.value.error_list}
    assert code in errors
    for message in info.value.messages:
        assert not any("a" <= ch.lower() <= "z" for ch in message.replace("%", "")), message


def _admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _log_in(client, username, password):
    client.logout()
    return client.post(reverse("login"), {"username": username, "password": password})


def test_user_added_in_the_admin_must_change_the_initial_password(client, admin_user, streets):
    _admin_client(client, admin_user)
    response = client.post(reverse("admin:auth_user_add"), {
        "username": "newclerk", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:2000]
    newclerk = User.objects.get(username="newclerk")
    assert AccountSecurity.objects.get(user=newclerk).must_change_password
    event = SecurityEvent.objects.get(kind=Kind.PASSWORD_RESET)
    assert event.user_id == admin_user.pk and event.detail["user"] == "newclerk"
    assert event.detail["action"] == "initial"

    assert _log_in(client, "newclerk", PASSWORD).status_code == 302
    # Every page sends them to the password-change page until they pick their own.
    for url in (reverse("home"), reverse("communities:community_list")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("accounts:password_change")
    page = client.get(reverse("accounts:password_change")).content.decode()
    assert "管理员设置" in page
    assert _change(client).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert not AccountSecurity.objects.get(user=newclerk).must_change_password
    # Next sign-in: no detour.
    assert _log_in(client, "newclerk", NEW).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_admin_password_reset_of_another_user_is_logged_and_forces_a_change(client, admin_user, clerk_qingnian):
    _admin_client(client, admin_user)
    url = reverse("admin:auth_user_password_change", args=[clerk_qingnian.pk])
    response = client.post(url, {"password1": "Reset#2025pass", "password2": "Reset#2025pass",
                                 "usable_password": "true"}, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 302
    event = SecurityEvent.objects.get(kind=Kind.PASSWORD_RESET)
    assert (event.user_id, event.ip, event.detail["user"], event.detail["action"]) == (
        admin_user.pk, "10.0.0.7", "clerk_qn", "reset")
    assert AccountSecurity.objects.get(user=clerk_qingnian).must_change_password
    assert _log_in(client, "clerk_qn", "Reset#2025pass").status_code == 302
    assert client.get(reverse("home"))["Location"] == reverse("accounts:password_change")


def test_admin_changing_their_own_password_is_a_change_not_a_reset(client, admin_user):
    _admin_client(client, admin_user)
    url = reverse("admin:auth_user_password_change", args=[admin_user.pk])
    assert client.post(url, {"password1": NEW, "password2": NEW, "usable_password": "true"}).status_code == 302
    assert SecurityEvent.objects.filter(kind=Kind.PASSWORD_CHANGE, user_id=admin_user.pk).exists()
    assert not SecurityEvent.objects.filter(kind=Kind.PASSWORD_RESET).exists()
    assert not AccountSecurity.objects.get(user=admin_user).must_change_password


def test_command_line_passwords_must_be_changed(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", "--noinput", "--username", "root2", "--email", "root2@lianhu.local",
                 stdout=StringIO())
    root = User.objects.get(username="root2")
    assert AccountSecurity.objects.get(user=root).must_change_password
    event = SecurityEvent.objects.get(kind=Kind.PASSWORD_RESET)
    assert event.detail["via"] == "command" and event.detail["command"] == "createsuperuser"


def test_demo_users_and_plain_saves_are_not_flagged(clerk_qingnian, reviewer):
    # Fixture users (create_user outside any request or password command) sign in normally.
    assert not AccountSecurity.objects.filter(must_change_password=True).exists()
    clerk_qingnian.first_name = "某"
    clerk_qingnian.save()
    assert not SecurityEvent.objects.filter(kind__in=[Kind.PASSWORD_RESET, Kind.PASSWORD_CHANGE]).exists()


def test_pages_pay_no_query_for_the_gate(client, clerk_qingnian):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(clerk_qingnian)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("accounts:password_change"))
    assert not [q for q in queries if "accounts_accountsecurity" in q["sql"]]


def test_administrators_see_who_must_still_change_their_password(client, admin_user, clerk_qingnian):
    AccountSecurity.objects.create(user=clerk_qingnian, must_change_password=True, password_set_by="admin1")
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_accountsecurity_changelist") + "?must_change_password__exact=1")
    assert page.status_code == 200 and "clerk_qn" in page.content.decode()
    change = client.post(reverse("admin:accounts_accountsecurity_change", args=[clerk_qingnian.pk]),
                         {"must_change_password": ""})
    assert change.status_code == 403
    assert AccountSecurity.objects.get(user=clerk_qingnian).must_change_password
