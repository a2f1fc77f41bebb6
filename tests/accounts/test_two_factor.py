"""Two-factor sign-in for administrators and reviewers (等保2.0 level 3): the gate, enrolment, codes,
recovery codes that work once, and the security log."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import RECOVERY_CODE_COUNT, recovery_code_digest
from audit.models import Kind, SecurityEvent

PASSWORD = "Lianhu#2024pass"


def code_for(device, offset=0) -> str:
    """What the phone shows now (offset in steps: -1 is the previous code)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset):06d}"


@pytest.fixture
def required(settings):
    settings.LIANHU_REQUIRE_2FA = True


def _log_in(client, username):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def _enrolled(user):
    device = TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=True)
    from django_otp.plugins.otp_static.models import StaticDevice

    static = StaticDevice.objects.create(user=user, name="恢复码", confirmed=True)
    StaticToken.objects.create(device=static, token=recovery_code_digest("abcd2345"))
    StaticToken.objects.create(device=static, token=recovery_code_digest("efgh6723"))
    return device


def test_reviewer_without_a_device_is_sent_to_set_one_up(client, required, reviewer):
    _log_in(client, reviewer.username)
    for url in (reverse("home"), reverse("communities:community_list"), reverse("compliance:dashboard")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:two_factor"))


def test_enrolment_shows_a_server_drawn_qr_code_then_recovery_codes_once(client, required, reviewer):
    _log_in(client, reviewer.username)
    page = client.get(reverse("accounts:two_factor"))
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "<script" not in html.split("<main", 1)[1].split("</main>")[0]
    device = TOTPDevice.objects.get(user=reviewer)
    assert not device.confirmed
    # Reloading keeps the same secret (the phone may already have scanned it).
    client.get(reverse("accounts:two_factor"))
    assert TOTPDevice.objects.filter(user=reviewer).count() == 1

    wrong = client.post(reverse("accounts:two_factor"), {"token": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 400 and "验证码不正确" in wrong.content.decode()
    assert client.get(reverse("home")).status_code == 302
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()

    done = client.post(reverse("accounts:two_factor"), {"token": code_for(device), "next": "/compliance/"})
    assert done.status_code == 200 and done["Cache-Control"] == "no-store"
    stored = set(StaticToken.objects.filter(device__user=reviewer).values_list("token", flat=True))
    assert len(stored) == RECOVERY_CODE_COUNT
    html = done.content.decode()
    codes = re.findall(r"<li class=\"col mb-1\">([a-z2-7]{8})</li>", html)
    # Shown in clear once; stored only as keyed hashes.
    assert {recovery_code_digest(code) for code in codes} == stored
    assert not set(codes) & stored
    # Verified in this session: pages open.
    assert client.get(reverse("communities:community_list")).status_code == 200
    # The codes are not shown again.
    status = client.get(reverse("accounts:two_factor")).content.decode()
    assert not any(code in status for code in codes) and "已启用" in status
    kinds = list(SecurityEvent.objects.filter(kind__in=[Kind.TWO_FACTOR, Kind.TWO_FACTOR_FAILED])
                 .order_by("id").values_list("kind", "detail__step", "detail__action"))
    assert kinds == [(Kind.TWO_FACTOR_FAILED, "enrol", None), (Kind.TWO_FACTOR, None, "enrol")]


def test_reviewer_with_a_device_cannot_reach_pages_without_a_code(client, required, reviewer):
    device = _enrolled(reviewer)
    _log_in(client, reviewer.username)
    response = client.get(reverse("communities:community_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor_verify"))
    assert client.get(reverse("admin:index")).status_code == 302

    response = client.post(reverse("accounts:two_factor_verify"),
                           {"token": code_for(device), "next": reverse("communities:community_list")})
    assert response.status_code == 302 and response["Location"] == reverse("communities:community_list")
    assert client.get(reverse("communities:community_list")).status_code == 200
    event = SecurityEvent.objects.get(kind=Kind.TWO_FACTOR)
    assert event.user_id == reviewer.pk and event.detail == {"action": "verify", "method": "totp"}


def test_a_code_is_refused_a_second_time_and_wrong_codes_are_logged(client, required, reviewer):
    device = _enrolled(reviewer)
    code = code_for(device)
    _log_in(client, reviewer.username)
    assert client.post(reverse("accounts:two_factor_verify"), {"token": code}).status_code == 302
    client.logout()
    _log_in(client, reviewer.username)
    again = client.post(reverse("accounts:two_factor_verify"), {"token": code})
    assert again.status_code == 400 and "不正确或已使用过" in again.content.decode()
    assert client.get(reverse("home")).status_code == 302
    failed = SecurityEvent.objects.get(kind=Kind.TWO_FACTOR_FAILED)
    assert failed.user_id == reviewer.pk and failed.detail["method"] == "totp"


def test_a_recovery_code_works_once(client, required, reviewer):
    _enrolled(reviewer)
    _log_in(client, reviewer.username)
    response = client.post(reverse("accounts:two_factor_verify"), {"token": "ABCD-2345"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert not StaticToken.objects.filter(token=recovery_code_digest("abcd2345")).exists()
    event = SecurityEvent.objects.get(kind=Kind.TWO_FACTOR)
    assert event.detail == {"action": "verify", "method": "recovery_code", "recovery_codes_left": 1}

    client.logout()
    _log_in(client, reviewer.username)
    again = client.post(reverse("accounts:two_factor_verify"), {"token": "abcd2345"})
    assert again.status_code == 400
    assert client.get(reverse("home")).status_code == 302


def test_throttling_after_wrong_codes(client, required, reviewer):
    device = _enrolled(reviewer)
    _log_in(client, reviewer.username)
    wrong = "000000" if code_for(device) != "000000" else "111111"
    client.post(reverse("accounts:two_factor_verify"), {"token": wrong})
    # Right away the back-off refuses even the right code.
    response = client.post(reverse("accounts:two_factor_verify"), {"token": code_for(device)})
    assert response.status_code == 400 and "稍等" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_administrators_are_gated_too_including_the_admin(client, required, admin_user):
    _log_in(client, admin_user.username)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:two_factor"))


def test_clerks_and_departments_are_not_asked(client, required, clerk_qingnian, department_user):
    for user in (clerk_qingnian, department_user):
        client.logout()
        _log_in(client, user.username)
        assert client.get(reverse("communities:community_list")).status_code == 200
        assert client.get(reverse("accounts:two_factor")).status_code == 403


def test_without_the_requirement_demo_reviewers_sign_in_with_a_password(client, settings, reviewer):
    settings.LIANHU_REQUIRE_2FA = False
    _log_in(client, reviewer.username)
    assert client.get(reverse("communities:community_list")).status_code == 200
    # Once they set up an authenticator, it is asked for at the next sign-in.
    device = _enrolled(reviewer)
    client.logout()
    _log_in(client, reviewer.username)
    assert client.get(reverse("communities:community_list")).status_code == 302
    assert client.post(reverse("accounts:two_factor_verify"), {"token": code_for(device)}).status_code == 302
    assert client.get(reverse("communities:community_list")).status_code == 200


def test_regenerating_recovery_codes_needs_a_verified_session(client, required, reviewer):
    device = _enrolled(reviewer)
    _log_in(client, reviewer.username)
    assert client.post(reverse("accounts:recovery_codes")).status_code == 302
    assert StaticToken.objects.filter(token=recovery_code_digest("abcd2345")).exists()
    client.post(reverse("accounts:two_factor_verify"), {"token": code_for(device)})
    response = client.post(reverse("accounts:recovery_codes"))
    assert response.status_code == 200
    assert not StaticToken.objects.filter(token=recovery_code_digest("abcd2345")).exists()
    assert StaticToken.objects.filter(device__user=reviewer).count() == RECOVERY_CODE_COUNT
    assert SecurityEvent.objects.filter(kind=Kind.TWO_FACTOR, detail__action="recovery_codes_regenerate").exists()


def test_initial_password_is_changed_before_enrolment(client, required, admin_user, reviewer):
    from accounts.models import AccountSecurity

    AccountSecurity.objects.create(user=reviewer, must_change_password=True)
    _log_in(client, reviewer.username)
    assert client.get(reverse("home"))["Location"] == reverse("accounts:password_change")
    assert client.get(reverse("accounts:password_change")).status_code == 200
    new = "Shenhe@2025new"
    client.post(reverse("accounts:password_change"),
                {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert client.get(reverse("home"))["Location"].startswith(reverse("accounts:two_factor"))


def test_an_open_redirect_is_not_followed(client, required, reviewer):
    device = _enrolled(reviewer)
    _log_in(client, reviewer.username)
    response = client.post(reverse("accounts:two_factor_verify"),
                           {"token": code_for(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_admin_removes_a_lost_authenticator_without_seeing_its_secret(client, admin_user, reviewer):
    device = _enrolled(reviewer)
    client.force_login(admin_user)
    listing = client.get(reverse("admin:otp_totp_totpdevice_changelist"))
    assert listing.status_code == 200 and "双因素认证：身份验证器" in listing.content.decode()
    page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()
    assert device.key not in page
    response = client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert response.status_code == 302
    event = SecurityEvent.objects.get(kind=Kind.TWO_FACTOR, detail__action="remove")
    assert event.user_id == admin_user.pk and event.detail["user"] == reviewer.username
