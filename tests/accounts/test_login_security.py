"""等保2.0 level 3 login rules: password strength, lockout, session lifetime, a new key on login."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.demo import DEMO_PASSWORD
from accounts.validators import CharacterClassesValidator

PASSWORD = "Lianhu#2024pass"


def _codes(password, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {e.code for e in exc.error_list}
    return set()


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Ab1#efgh", "password_too_short"),  # 8 characters, all four classes
        ("abcdefghij12", "password_too_few_classes"),  # lower + digit only
        ("ABCDEFGHIJKL", "password_too_few_classes"),
        ("1234567890123", "password_entirely_numeric"),
        ("Password123", "password_too_common"),
    ],
)
def test_weak_passwords_are_refused_with_their_reason(password, code):
    assert code in _codes(password)


@pytest.mark.parametrize("password", ["Lianhu2024abc", "lianhu#2024abc", "LIANHU#abcdef", DEMO_PASSWORD, PASSWORD])
def test_three_of_four_classes_and_ten_characters_pass(password):
    assert _codes(password) == set()


def test_class_message_is_chinese_and_counts_classes():
    with pytest.raises(ValidationError) as info:
        CharacterClassesValidator().validate("abcdefghij12")
    assert info.value.code == "password_too_few_classes"
    assert "四类中的3类，当前只有2类" in info.value.messages[0]


def _fail(client, username, times):
    for _ in range(times):
        response = client.post(reverse("login"), {"username": username, "password": "Wrong#password1"})
    return response


def test_five_failures_lock_user_at_that_address_for_30_minutes(client, clerk_qingnian):
    from axes.models import AccessAttempt

    assert django_settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    response = _fail(client, clerk_qingnian.username, 4)
    assert response.status_code == 200 and "用户名或密码不正确" in response.content.decode()
    response = _fail(client, clerk_qingnian.username, 1)
    assert response.status_code == 429
    page = response.content.decode()
    assert "账户已暂时锁定" in page and "30 分钟" in page

    # Even the right password is refused while locked.
    response = client.post(reverse("login"), {"username": clerk_qingnian.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    attempt = AccessAttempt.objects.get(username=clerk_qingnian.username)
    assert attempt.ip_address == "127.0.0.1" and attempt.failures_since_start >= 5


def test_lockout_is_per_user_and_address(client, clerk_qingnian, clerk_zaoyuan):
    _fail(client, clerk_qingnian.username, 5)
    # Another user from the same address is not locked out.
    response = client.post(reverse("login"), {"username": clerk_zaoyuan.username, "password": PASSWORD})
    assert response.status_code == 302
    # The locked user from another address is not locked out either.
    client.logout()
    response = client.post(
        reverse("login"), {"username": clerk_qingnian.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.8"
    )
    assert response.status_code == 302


def test_lockout_ends_after_the_cooloff(client, clerk_qingnian, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    _fail(client, clerk_qingnian.username, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    response = client.post(reverse("login"), {"username": clerk_qingnian.username, "password": PASSWORD})
    assert response.status_code == 302


def test_session_rules():
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert "accounts.middleware.IdleTimeoutMiddleware" in django_settings.MIDDLEWARE
    assert django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert django_settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert django_settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_login_gives_a_new_session_key_and_a_browser_session_cookie(client, clerk_qingnian):
    client.get(reverse("login"))
    session = client.session
    session["before_login"] = True
    session.save()
    before = session.session_key
    response = client.post(reverse("login"), {"username": clerk_qingnian.username, "password": PASSWORD})
    assert response.status_code == 302
    after = client.session.session_key
    assert after and after != before
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    # No expiry: the cookie dies with the browser.
    assert not cookie["expires"] and not cookie["max-age"]
    assert cookie["httponly"]


def test_idle_session_expires_after_30_minutes(client, clerk_qingnian):
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.sessions.backends import cached_db
    from django.contrib.sessions.models import Session
    from django.core.cache import caches
    from django.utils import timezone

    client.force_login(clerk_qingnian)
    assert client.get(reverse("communities:community_list")).status_code == 200
    # A request pushes the expiry 30 minutes ahead.
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = session.expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    # Half an hour on, the cache in front of the database (cached_db) has let the session go too: its entry is
    # kept for the session's age.
    caches[settings.SESSION_CACHE_ALIAS].delete(cached_db.KEY_PREFIX + session.pk)
    response = client.get(reverse("communities:community_list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_idle_clock_moves_at_most_once_a_minute(client, clerk_qingnian):
    """A page within a minute of the last push writes no session; one a minute or more later pushes the expiry
    30 minutes ahead of itself."""
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.middleware import IDLE_REFRESHED_KEY

    client.force_login(clerk_qingnian)
    assert client.get(reverse("communities:community_list")).status_code == 200
    key = client.session.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(minutes=20))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("communities:community_list")).status_code == 200
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
                and "django_session" in q["sql"]]
    assert Session.objects.get(pk=key).expire_date < timezone.now() + timedelta(minutes=21)
    # The last push was 61 seconds ago: this page pushes the expiry again.
    session = client.session
    session[IDLE_REFRESHED_KEY] -= 61
    session.save()
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(minutes=20))
    assert client.get(reverse("communities:community_list")).status_code == 200
    remaining = Session.objects.get(pk=key).expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)


def test_cache_sessions_keep_the_30_minute_idle_timeout(client, clerk_qingnian, settings):
    """Production keeps sessions in Redis (lianhu/settings.py): a request pushes the key's TTL 30 minutes
    ahead, no database write, and a key gone from the cache signs the user out."""
    import time

    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sessions"}}
    client.force_login(clerk_qingnian)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("communities:community_list")).status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"]]
    cache = caches["default"]
    key = cache.make_key(f"django.contrib.sessions.cache{client.cookies[django_settings.SESSION_COOKIE_NAME].value}")
    remaining = cache._expire_info[key] - time.time()  # type: ignore[attr-defined]
    assert 29 * 60 < remaining <= 30 * 60
    cache.delete(key.split(":", 2)[-1])  # what Redis does when the TTL runs out
    response = client.get(reverse("communities:community_list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
