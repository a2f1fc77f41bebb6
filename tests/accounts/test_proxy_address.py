"""Behind DJANGO_PROXY_COUNT proxies the lockout and the security log see the client, not the proxy;
without a proxy a client's X-Forwarded-For changes nothing."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.network import client_address
from audit.models import Kind, SecurityEvent

PASSWORD = "Lianhu#2024pass"
WRONG = "Wrong#password1"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "127.0.0.1"),  # no proxy: the header is the client's word, ignored
        (1, "203.0.113.7", "203.0.113.7"),  # nginx overwrote the header with $remote_addr
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # a proxy that appends: the left entry is the client's claim
        (1, "10.20.30.40", "10.20.30.40"),  # an intranet client is a client too
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (1, "", "127.0.0.1"),  # did not come through the proxy (a local health check)
        (2, "203.0.113.7", "127.0.0.1"),  # fewer entries than proxies
        (1, "not-an-address", "127.0.0.1"),
        (1, "203.0.113.7:51234", "203.0.113.7"),
        (1, "[2001:db8::1]:443", "2001:db8::1"),
    ],
)
def test_client_address(settings, proxies, forwarded, expected):
    settings.LIANHU_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": "127.0.0.1"}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_address(RequestFactory().get("/", **meta)) == expected


def _fail(client, username, times, forwarded):
    for _ in range(times):
        response = client.post(reverse("login"), {"username": username, "password": WRONG},
                               REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    return response


def _login(client, username, forwarded):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD},
                       REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)


def test_behind_one_proxy_lockout_and_log_use_the_forwarded_address(client, settings, clerk_qingnian):
    from axes.models import AccessAttempt

    settings.LIANHU_PROXY_COUNT = 1
    assert _fail(client, clerk_qingnian.username, 5, "203.0.113.7").status_code == 429
    attempt = AccessAttempt.objects.get(username=clerk_qingnian.username)
    assert attempt.ip_address == "203.0.113.7"
    failed = SecurityEvent.objects.filter(kind=Kind.LOGIN_FAILED)
    assert set(failed.values_list("ip", flat=True)) == {"203.0.113.7"}
    lockout = SecurityEvent.objects.get(kind=Kind.LOCKOUT)
    assert lockout.ip == "203.0.113.7"

    # The attacker's address is locked, not the proxy's: the real user from elsewhere still signs in.
    assert _login(client, clerk_qingnian.username, "203.0.113.7").status_code == 429
    assert _login(client, clerk_qingnian.username, "198.51.100.2").status_code == 302
    login = SecurityEvent.objects.get(kind=Kind.LOGIN)
    assert login.ip == "198.51.100.2"


def test_without_a_proxy_the_header_is_ignored(client, settings, clerk_qingnian):
    from axes.models import AccessAttempt

    settings.LIANHU_PROXY_COUNT = 0
    assert _fail(client, clerk_qingnian.username, 5, "203.0.113.7").status_code == 429
    assert AccessAttempt.objects.get(username=clerk_qingnian.username).ip_address == "127.0.0.1"
    assert set(SecurityEvent.objects.filter(kind=Kind.LOGIN_FAILED).values_list("ip", flat=True)) == {"127.0.0.1"}
    # A made-up header does not get the locked-out client round the lockout.
    assert _login(client, clerk_qingnian.username, "198.51.100.2").status_code == 429
