"""Production settings, security headers, templates fit for the CSP, error pages without internals."""

import os
import re
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def _production_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="lianhu.example.gov.cn",
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'deploy-check.sqlite3'}"),
        CELERY_BROKER_URL="redis://127.0.0.1:6379/14",
        DJANGO_SITE_URL="https://lianhu.example.gov.cn",
        # Any valid pair: the deploy check only asks that they are set (staffing.E001).
        DJANGO_FIELD_ENCRYPTION_KEY="7q1m0d8C5mK7d5f6Wq8y0JxJQk3v2cA9Pp4S1R0tXh8=",
        DJANGO_FIELD_HASH_KEY=secrets.token_urlsafe(32),
        DJANGO_SETTINGS_MODULE="lianhu.settings",
    )
    env.update(extra)
    return env


def _run(args, env, timeout=120):
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_check_deploy_reports_nothing_with_production_settings():
    result = _run([PY, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"], _production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


def test_check_deploy_requires_the_site_url():
    env = _production_env()
    del env["DJANGO_SITE_URL"]
    result = _run([PY, "manage.py", "check", "--deploy"], env)
    assert result.returncode != 0 and "ops.E001" in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env()
    del env["DJANGO_SECRET_KEY"]
    result = _run([PY, "manage.py", "check"], env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


PRODUCTION_PROBE = textwrap.dedent(
    """
    import django, json
    from django.conf import settings as conf
    # No collectstatic here: serve static names unhashed instead of from the manifest.
    conf.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    django.setup()
    from django.conf import settings as s
    from django.test import Client
    c = Client(raise_request_exception=False, HTTP_HOST="lianhu.example.gov.cn")
    r = c.get("/login/", secure=True)
    print(json.dumps({
        "hsts": r.headers.get("Strict-Transport-Security"),
        "csp": r.headers.get("Content-Security-Policy"),
        "referrer": r.headers.get("Referrer-Policy"),
        "nosniff": r.headers.get("X-Content-Type-Options"),
        "frame": r.headers.get("X-Frame-Options"),
        "plain_http": c.get("/login/").status_code,
        "session_secure": s.SESSION_COOKIE_SECURE, "csrf_secure": s.CSRF_COOKIE_SECURE,
        "session_httponly": s.SESSION_COOKIE_HTTPONLY,
    }))
    """
)


def test_production_headers_and_cookies():
    import json

    result = _run([PY, "-c", PRODUCTION_PROBE], _production_env(DATABASE_URL="sqlite:///:memory:"))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["hsts"].startswith("max-age=31536000") and "includeSubDomains" in seen["hsts"]
    assert "script-src 'self'" in seen["csp"] and "unsafe-inline" not in seen["csp"]
    assert "frame-ancestors 'none'" in seen["csp"]
    assert seen["referrer"] == "same-origin"
    assert seen["nosniff"] == "nosniff" and seen["frame"] == "DENY"
    assert seen["plain_http"] == 301  # http is redirected to https
    assert seen["session_secure"] and seen["csrf_secure"] and seen["session_httponly"]


def test_every_page_carries_the_csp_without_inline_allowances(client, clerk_qingnian):
    client.force_login(clerk_qingnian)
    response = client.get(reverse("communities:community_list"))
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert response.headers["Referrer-Policy"] == "same-origin"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\sstyle\s*=", re.I), 'style="" attribute'),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def _templates():
    for path in ROOT.rglob("*.html"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & {".venv", "staticfiles", "node_modules", "test-artifacts", "bench-results"}:
            continue
        yield path


# Files the user downloads and opens from disk (Content-Disposition: attachment, never rendered under the site's
# CSP): they carry their own print stylesheet so the 督办单 or 通报 prints the same away from the server.
DOWNLOADED_FILES = {"supervision/templates/supervision/document_file.html",
                    "supervision/templates/supervision/bulletin_file.html"}


def test_no_template_needs_an_inline_script_or_style():
    found = []
    for path in _templates():
        if str(path.relative_to(ROOT)) in DOWNLOADED_FILES:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "CSP forbids these (move them to static files / CSS classes):\n" + "\n".join(found)


# ------------------------------------------------------------------ error pages

LEAKS = ("Traceback", "File \"", "SELECT ", "django.", "Exception Value", "sqlite", "psycopg", "raise ")


def _no_internals(body: str):
    for leak in LEAKS:
        assert leak not in body, f"error page shows {leak!r}"


@pytest.fixture
def production_like(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


def test_404_is_chinese_and_plain(client, production_like, clerk_qingnian):
    client.force_login(clerk_qingnian)
    response = client.get("/communities/999999999/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body
    _no_internals(body)


def test_csrf_failure_page_is_chinese(production_like, clerk_qingnian):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk_qingnian)
    response = client.post(reverse("communities:community_create"), {"name": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "页面已过期，请重新提交" in body
    _no_internals(body)


def test_500_is_chinese_without_traceback_or_sql(production_like, clerk_qingnian, monkeypatch):
    from django.test import Client

    from communities import views

    def boom(*args, **kwargs):
        raise ZeroDivisionError("SELECT secret FROM auth_user")

    monkeypatch.setattr(views, "communities_for_user", boom)
    client = Client(raise_request_exception=False)
    client.force_login(clerk_qingnian)
    response = client.get(reverse("communities:community_list"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "系统出错" in body and "secret" not in body
    _no_internals(body)


def test_403_template_is_chinese():
    from django.template import loader

    body = loader.render_to_string("403.html")
    assert "无权访问" in body
    _no_internals(body)


def test_lost_database_in_a_view_gives_the_503_page(production_like, clerk_qingnian, monkeypatch):
    from django.db import OperationalError
    from django.test import Client

    from communities import views

    def gone(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    monkeypatch.setattr(views, "communities_for_user", gone)
    client = Client(raise_request_exception=False)
    client.force_login(clerk_qingnian)
    response = client.get(reverse("communities:community_list"))
    assert response.status_code == 503
    body = response.content.decode()
    assert "数据库暂时不可用" in body and "5432" not in body
    _no_internals(body)


DATABASE_DOWN_PROBE = textwrap.dedent(
    """
    import django, json
    from django.conf import settings as conf
    # No collectstatic here: serve static names unhashed instead of from the manifest.
    conf.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    django.setup()
    from django.test import Client
    c = Client(raise_request_exception=False, HTTP_HOST="lianhu.example.gov.cn")
    # A session cookie makes the very first middleware ask the database.
    c.cookies["sessionid"] = "x" * 32
    r = c.get("/communities/", secure=True)
    print(json.dumps({"status": r.status_code, "body": r.content.decode()}))
    """
)


def test_postgresql_down_gives_the_chinese_page_not_a_traceback():
    import json

    # Port 9 (discard) has no PostgreSQL: the connection is refused at once.
    env = _production_env(DATABASE_URL="postgres://lianhu@127.0.0.1:9/lianhu", DJANGO_LOG_LEVEL="CRITICAL")
    result = _run([PY, "-c", DATABASE_DOWN_PROBE], env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["status"] == 503
    assert "数据库暂时不可用" in seen["body"]
    _no_internals(seen["body"])
