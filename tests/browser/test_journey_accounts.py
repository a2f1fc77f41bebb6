"""Issue 14's account journeys in Chromium, at 1366 px and at a 390 px phone width:

- a reviewer sets up an authenticator (QR page, first code, recovery codes) and later signs in with a TOTP code;
- a non-staff user changes their password from the user menu and signs in with the new one;
- a user whose password an administrator set is sent to change it first.
"""

import re
from base64 import b32decode

import pytest
from django.urls import reverse
from django_otp.oath import totp

from .pages import PASSWORD, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
# Which elements stick out on the right, for the failure message.
WIDE_ELEMENTS = """Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth).slice(0, 8)
  .map(e => e.tagName + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')"""


def shots(screenshot, page, name: str) -> None:
    """The same page at the desktop width and at a phone's; neither may scroll sideways."""
    for label, size in (("1366", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(WIDE_ELEMENTS) if width > size["width"] else ""
        assert width <= size["width"], f"{name} at {label} px scrolls sideways ({width} px): {wide}"
        path = screenshot(page, f"{name}-{label}")
        assert path.is_file() and path.stat().st_size > 5_000
    page.set_viewport_size(DESKTOP)


def _code(key: bytes, device) -> str:
    return f"{totp(key, device.step, device.t0, device.digits, device.drift):06d}"


def test_reviewer_sets_up_an_authenticator_and_signs_in_with_a_code(live_server, settings, reviewer, new_page,
                                                                   screenshot):
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from playwright.sync_api import expect

    settings.LIANHU_REQUIRE_2FA = True
    page = new_page()
    log_in(page, live_server.url, reviewer.username)
    # No authenticator yet: every page leads to setting one up.
    page.goto(live_server.url + reverse("communities:community_list"))
    expect(page.get_by_role("heading", name="双因素认证")).to_be_visible()
    expect(page.get_by_role("img", name="身份验证器设置二维码")).to_be_visible()
    shots(screenshot, page, "journey-2fa-setup")

    # The phone scans the QR code; the test reads the same secret from the page.
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    device = TOTPDevice.objects.get(user=reviewer)
    assert b32decode(secret) == device.bin_key
    page.get_by_label("验证码").fill(_code(b32decode(secret), device))
    page.get_by_role("button", name="完成设置").click()
    expect(page.get_by_role("heading", name="双因素认证已启用")).to_be_visible()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    shots(screenshot, page, "journey-2fa-recovery-codes")
    page.get_by_role("link", name="我已保存，继续").click()
    expect(page).to_have_url(live_server.url + reverse("communities:community_list"))

    # Signing in again asks for a code; the code of the coming 30-second step (the one just used may not be
    # used twice) is accepted within the allowed drift of one step.
    page.get_by_role("button", name="退出").click()
    log_in(page, live_server.url, reviewer.username)
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    page.goto(live_server.url + reverse("compliance:dashboard"))
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    shots(screenshot, page, "journey-2fa-verify")
    device.refresh_from_db()
    page.get_by_label("验证码").fill(f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + 1):06d}")
    page.get_by_role("button", name="验证").click()
    expect(page).to_have_url(live_server.url + reverse("compliance:dashboard"))
    assert "/account/" not in page.url


def test_reviewer_signs_in_with_a_totp_code(live_server, settings, reviewer, new_page, screenshot):
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from playwright.sync_api import expect

    from audit.models import Kind, SecurityEvent

    settings.LIANHU_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=reviewer, name="身份验证器", confirmed=True)
    page = new_page()
    log_in(page, live_server.url, reviewer.username)
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    page.get_by_label("验证码").fill("123")
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("alert")).to_contain_text("验证码不正确")
    # django-otp's back-off after a wrong code (1 s) has passed by the time a person types the next one.
    page.wait_for_timeout(1100)
    page.get_by_label("验证码").fill(_code(device.bin_key, device))
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("heading", name="输入验证码")).to_have_count(0)
    page.goto(live_server.url + reverse("communities:community_list"))
    assert "/account/" not in page.url
    assert SecurityEvent.objects.filter(kind=Kind.TWO_FACTOR, user_id=reviewer.pk,
                                        detail__method="totp").exists()


def test_clerk_changes_their_password_from_the_user_menu(live_server, clerk_qingnian, new_page, screenshot):
    from playwright.sync_api import expect

    new = "Qingnian@2025new"
    page = new_page()
    # On a phone the user menu sits behind the menu button.
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, clerk_qingnian.username)
    page.get_by_role("button", name="菜单").click()
    # Bootstrap marks the menu "show" once it has finished opening: a click while it still slides open can land
    # on the page beneath (seen once, under load).
    expect(page.locator("#mainnav")).to_have_class(re.compile(r"\bshow\b"))
    page.get_by_role("link", name="修改密码").click()
    page.wait_for_url("**" + reverse("accounts:password_change"))
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
    page.set_viewport_size(DESKTOP)

    page.get_by_label("旧密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("abcdefghij12")
    page.get_by_label("新密码确认").fill("abcdefghij12")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator(".errorlist")).to_contain_text("当前只有2类")
    shots(screenshot, page, "journey-password-refused")

    page.get_by_label("旧密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill(new)
    page.get_by_label("新密码确认").fill(new)
    page.get_by_role("button", name="修改密码").click()
    expect(page.get_by_role("alert").filter(has_text="密码已修改")).to_be_visible()
    shots(screenshot, page, "journey-password-changed")

    page.get_by_role("button", name="退出").click()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(clerk_qingnian.username)
    page.get_by_label("密码").fill(new)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/login/" not in page.url
    clerk_qingnian.refresh_from_db()
    assert clerk_qingnian.check_password(new)


def test_an_initial_password_is_changed_before_anything_else(live_server, clerk_qingnian, new_page, screenshot):
    from playwright.sync_api import expect

    from accounts.models import AccountSecurity

    AccountSecurity.objects.create(user=clerk_qingnian, must_change_password=True, password_set_by="admin1")
    page = new_page()
    log_in(page, live_server.url, clerk_qingnian.username)
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
    page.goto(live_server.url + reverse("communities:community_list"))
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
    expect(page.get_by_text("当前密码由管理员设置")).to_be_visible()
    shots(screenshot, page, "journey-password-initial")
