"""/healthz for the proxy and the status command for cron: up, down within 2 s, stale nightly sweep."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("LIANHU_CI_REDIS_URL", "redis://127.0.0.1:6379/15")
CLOSED = "127.0.0.1:9"  # discard port: nothing listens there on a test machine


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379")

# A production process (debug off) in a subprocess, so the database really is the one in DATABASE_URL.
PROBE = textwrap.dedent(
    """
    import json, time, django
    django.setup()
    from django.test import Client
    client = Client(raise_request_exception=False)
    client.get("/healthz")  # a running server has its middleware loaded already: time the next request
    start = time.monotonic()
    r = client.get("/healthz")
    print(json.dumps({"status": r.status_code, "seconds": time.monotonic() - start, "body": r.json()}))
    """
)


def _probe(database_url: str, broker_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="lianhu.example.gov.cn",
               DJANGO_SITE_URL="https://lianhu.example.gov.cn", DATABASE_URL=database_url,
               CELERY_BROKER_URL=broker_url, DJANGO_SETTINGS_MODULE="lianhu.settings", DJANGO_LOG_LEVEL="CRITICAL")
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@needs_redis
def test_healthz_200_with_database_and_broker_up():
    # Plain HTTP, no Host header from ALLOWED_HOSTS, no login: what nginx or a monitor on the machine sends.
    seen = _probe("sqlite:///:memory:", REDIS_URL)
    assert seen["status"] == 200, seen
    assert seen["body"] == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_503_within_2s_with_broker_on_a_closed_port():
    seen = _probe("sqlite:///:memory:", f"redis://{CLOSED}/0")
    assert seen["status"] == 503 and seen["body"]["checks"]["broker"] == "fail"
    assert seen["body"]["checks"]["database"] == "ok"
    assert seen["seconds"] < 2.0, seen


@needs_redis
def test_healthz_503_within_2s_with_database_on_a_closed_port():
    seen = _probe(f"postgres://lianhu@{CLOSED}/lianhu", REDIS_URL)
    assert seen["status"] == 503 and seen["body"]["checks"]["database"] == "fail", seen
    assert seen["seconds"] < 2.0, seen


def test_a_failing_healthz_is_not_mailed_as_a_server_error(client, db, settings):
    from django.core import mail

    settings.ADMINS = [("运维", "ops@lianhu.example.gov.cn")]
    settings.DEBUG = False
    settings.CELERY_BROKER_URL = f"redis://{CLOSED}/0"
    for _ in range(3):
        assert client.get("/healthz").status_code == 503
    assert mail.outbox == []


def test_healthz_shows_no_personal_data_and_needs_no_login(client, db):
    start = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - start < 2.0
    assert response.status_code == 200
    assert set(response.json()) == {"status", "checks"}
    assert "Set-Cookie" not in response.headers


def _nightly(finished_hours_ago: float):
    from compliance.models import Sweep, SweepStatus

    finished = timezone.now() - dt.timedelta(hours=finished_hours_ago)
    return Sweep.objects.create(as_of=timezone.localdate(finished), status=SweepStatus.FINISHED,
                                finished_at=finished, triggered_by="定时任务")


def test_status_command_passes_with_a_fresh_nightly_sweep(db, capsys):
    _nightly(3)
    call_command("ops_status")
    assert "全部正常" in capsys.readouterr().out


def test_status_command_exits_non_zero_when_the_nightly_sweep_is_older_than_26_hours(db, capsys):
    _nightly(27)
    with pytest.raises(SystemExit) as exit_:
        call_command("ops_status", "--json")
    assert exit_.value.code == 1
    report = json.loads(capsys.readouterr().out)
    sweep = next(c for c in report["checks"] if c["key"] == "sweep")
    assert report["ok"] is False and sweep["ok"] is False and sweep["data"]["age_hours"] >= 26


def test_status_command_exits_non_zero_without_any_nightly_sweep(db):
    from compliance.models import Sweep, SweepStatus

    # A sweep from the command line is not the nightly one: beat may still be dead.
    Sweep.objects.create(as_of=timezone.localdate(), status=SweepStatus.FINISHED, finished_at=timezone.now(),
                         triggered_by="命令行")
    with pytest.raises(SystemExit):
        call_command("ops_status")


def test_beat_check_reads_the_heartbeat(db, settings):
    from ops import health
    from ops.tasks import heartbeat

    settings.CELERY_BROKER_URL = REDIS_URL
    assert not health.check_beat().ok  # never ticked
    heartbeat()
    assert health.check_beat().ok
    assert not health.check_beat(now=timezone.now() + dt.timedelta(minutes=6)).ok


@needs_redis
def test_status_reports_workers_missing_and_queue_lengths(db, settings):
    from ops import health

    settings.CELERY_BROKER_URL = REDIS_URL
    checks = {c.key: c for c in health.full_status()}
    assert checks["broker"].ok and checks["queues"].ok
    assert isinstance(checks["queues"].data["queues"]["celery"], int)
    assert checks["disk"].data["total_bytes"] > 0


def test_status_page_for_administrators_only(client, admin_user, clerk_qingnian):
    _nightly(1)
    client.force_login(clerk_qingnian)
    assert client.get("/ops/").status_code == 403
    assert 'href="/ops/"' not in client.get("/").text
    client.force_login(admin_user)
    response = client.get("/ops/")
    assert response.status_code == 200
    assert 'href="/ops/"' in response.text  # the administrators' menu leads here
    assert 'data-check="sweep"' in response.text and "夜间巡检" in response.text


def test_status_command_mails_admins_once_an_hour_for_the_same_failure(db, settings, tmp_path):
    from django.core import mail

    settings.ADMINS = [("运维", "ops@lianhu.example.gov.cn")]
    _nightly(30)
    state = tmp_path / "last.json"
    for _ in range(2):
        with pytest.raises(SystemExit):
            call_command("ops_status", "--mail", "--state", str(state))
    assert len(mail.outbox) == 1 and "夜间巡检" in mail.outbox[0].subject
