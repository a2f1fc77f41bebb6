"""What the real-worker tests share: the broker they need, a publishing app, the environment of a worker
process and how to start and end one (tests/compliance/test_celery_worker.py, test_scale_out.py,
test_worker_faults.py, tests/exports/test_job_worker.py).

They run where ``LIANHU_CI_REDIS_URL`` is set (``.ci/run`` sets it) and the suite is on PostgreSQL: a worker
is another process, so it must read the same committed test database, which SQLite in-memory cannot give it.
Under CI (``CI=true``) a missing or unreachable Redis fails the test instead of skipping it: CI must prove the
broker path, not quietly pass without it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REDIS_URL = os.environ.get("LIANHU_CI_REDIS_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ROOT = Path(__file__).resolve().parents[1]


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI 必须用真实的 Celery worker 跑这条测试：{reason}")
    pytest.skip(reason)


def database_url() -> str:
    db = connection.settings_dict
    host = db["HOST"] or ""
    auth = db["USER"] or ""
    if db["PASSWORD"]:
        auth += f":{db['PASSWORD']}"
    if auth:
        auth += "@"
    port = f":{db['PORT']}" if db["PORT"] else ""
    # The worker must read what this test commits: the test database, not the configured one.
    return f"postgres://{auth}{host}{port}/{db['NAME']}"


def producer():
    """A Celery app of its own that only publishes: never eager, whatever the settings say."""
    from celery import Celery

    # Not the current app: the project's shared tasks must keep resolving to lianhu's own app afterwards.
    app = Celery("lianhu-test-producer", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
    app.conf.task_always_eager = False
    return app


def ready_producer():
    """The publishing app once the broker and the database can serve a worker; the queues emptied first."""
    if not REDIS_URL:
        unavailable("LIANHU_CI_REDIS_URL 未设置（只有 .ci/run 会设置）")
    if connection.vendor != "postgresql":
        unavailable(f"需要 PostgreSQL（当前 {connection.vendor}）：worker 进程要读同一个测试数据库")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis {REDIS_URL} 无法连接：{exc}")
    app = producer()
    # Leftovers of an earlier, killed run would be consumed first.
    app.control.purge()
    return app


def worker_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "lianhu.settings",
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "DATABASE_URL": database_url(),
        "DJANGO_CONN_MAX_AGE": "0",
        **extra,
    }


def start_worker(name: str, env: dict[str, str], *, pool: str = "solo", more: tuple[str, ...] = ()) -> subprocess.Popen:
    """A ``celery worker`` command of its own, as on another machine; its own process group, so it ends whole.

    ``--pool=solo`` holds one task at a time (prefetch multiplier 1, acks_late): the queue hands the next one to
    whichever worker is free, as in production. ``--pool=prefork`` gives two pool children."""
    pool_args = ["--pool=solo"] if pool == "solo" else ["--pool=prefork", "--concurrency=2"]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "lianhu", "worker", *pool_args, "--without-mingle",
         "--without-gossip", "-l", "WARNING", "-n", name, *more],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen, *, kill: bool = False) -> None:
    """End the worker and its pool children, whatever happened in the test (``kill``: no warm shutdown)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
