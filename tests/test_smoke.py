"""The settings contract of the README's environment table.

Each environment case runs in a fresh interpreter with a cleared environment,
because the settings module is read once per process and the test process
itself runs with DJANGO_DEBUG=1 (tests/conftest.py).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent

# A local .env would leak into the child's settings (settings.py reads it).
needs_no_dotenv = pytest.mark.skipif(
    (BASE_DIR / ".env").exists(), reason="a local .env file overrides the environment under test"
)

PROBE = """
import json
from django.conf import settings
from lianhu.celery import app
print(json.dumps({
    "debug": settings.DEBUG,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "celery_app_eager": app.conf.task_always_eager,
    "broker": settings.CELERY_BROKER_URL,
    "session_engine": settings.SESSION_ENGINE,
    "rejudge_async": settings.COMPLIANCE_REJUDGE_ASYNC,
}))
"""


def _settings_in_child(**env: str) -> subprocess.CompletedProcess:
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DJANGO_SETTINGS_MODULE": "lianhu.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _probe(**env: str) -> dict:
    result = _settings_in_child(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@needs_no_dotenv
def test_debug_is_off_unless_asked_for():
    seen = _probe(DJANGO_SECRET_KEY="k" * 50)
    assert seen["debug"] is False
    assert seen["allowed_hosts"] == ["127.0.0.1", "localhost"]
    assert seen["engine"] == "django.db.backends.sqlite3"


@needs_no_dotenv
def test_debug_on_with_django_debug_1_needs_no_secret_key():
    assert _probe(DJANGO_DEBUG="1")["debug"] is True


@needs_no_dotenv
def test_missing_secret_key_with_debug_off_refuses_to_start():
    result = _settings_in_child()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@needs_no_dotenv
def test_celery_runs_eagerly_without_a_broker_and_not_with_one():
    without = _probe(DJANGO_DEBUG="1")
    assert without["eager"] is True
    assert without["celery_app_eager"] is True

    with_broker = _probe(DJANGO_DEBUG="1", CELERY_BROKER_URL="redis://127.0.0.1:6379/15")
    assert with_broker["eager"] is False
    assert with_broker["celery_app_eager"] is False
    assert with_broker["broker"] == "redis://127.0.0.1:6379/15"
    # A page's save re-judges in a worker only when there is one to send it to.
    assert without["rejudge_async"] is False and with_broker["rejudge_async"] is True


@needs_no_dotenv
def test_sessions_survive_a_redis_outage_with_the_cache_in_front_of_the_database():
    # Several gunicorn workers with a per-process cache: the database alone (a sign-out holds in every worker).
    assert _probe(DJANGO_SECRET_KEY="k" * 50)["session_engine"] == "django.contrib.sessions.backends.db"
    # One process (make run, make test): its own cache in front of the database.
    assert _probe(DJANGO_DEBUG="1")["session_engine"] == "django.contrib.sessions.backends.cached_db"
    shared = _probe(DJANGO_SECRET_KEY="k" * 50, DJANGO_CACHE_URL="redis://127.0.0.1:6379/15")
    # The database keeps every session; Redis only speeds the reads (a Redis restart signs nobody out).
    assert shared["session_engine"] == "django.contrib.sessions.backends.cached_db"


@needs_no_dotenv
def test_database_url_chooses_the_backend():
    seen = _probe(DJANGO_DEBUG="1", DATABASE_URL="postgres://lianhu@db.example:5432/lianhu")
    assert seen["engine"] == "django.db.backends.postgresql"


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


def test_suite_runs_on_the_backend_ci_asked_for():
    # .ci/run sets this so a suite that silently fell back to SQLite fails CI.
    expected = os.environ.get("LIANHU_EXPECT_DB_VENDOR")
    if not expected:
        pytest.skip("LIANHU_EXPECT_DB_VENDOR is not set (only .ci/run sets it)")
    assert connection.vendor == expected
