"""A real Celery worker killed (SIGKILL, the whole process group) in the middle of an import and of a sweep;
another worker started afterwards finishes both within the documented time (docs/deployment.md「故障与恢复」:
the visibility timeout, then the run itself). Short timeouts for the test: visibility 5 s, import lease 3 s.

Runs like tests/compliance/test_celery_worker.py: where ``LIANHU_CI_REDIS_URL`` is set and the suite is on
PostgreSQL; under CI a missing Redis fails instead of skipping.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time

import pytest
from django.conf import settings

from communities.models import Community
from compliance.models import Sweep, SweepStatus
from imports import services as import_services
from imports.models import StoredUpload, UploadState
from tests.celery_world import ready_producer, start_worker, stop_worker, worker_env
from tests.imports.test_import_workbook import COMMUNITY_HEADERS, community_row, xlsx

pytestmark = [pytest.mark.celery_worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VISIBILITY = 5
IMPORT_LEASE = 3
# What docs/deployment.md promises, in test time: redelivery after the visibility timeout, then the work itself.
WITHIN = VISIBILITY + 60


@pytest.fixture
def workers(transactional_db, tmp_path):
    producer = ready_producer()
    started: list[subprocess.Popen] = []
    marks = tmp_path / "marks"

    def start(name: str, slow: bool = False) -> subprocess.Popen:
        env = worker_env(
            DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT),
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY),
            IMPORT_LEASE_SECONDS=str(IMPORT_LEASE),
            COMPLIANCE_SWEEP_LEASE_SECONDS="120",
            LIANHU_FAULT_MARKS=str(marks),
        )
        more = ("--include", "tests.compliance.slow_worker") if slow else ()
        proc = start_worker(f"{name}-{os.getpid()}@%h", env, pool="prefork", more=more)
        started.append(proc)
        return proc

    try:
        yield producer, start, marks
    finally:
        for proc in started:
            stop_worker(proc, kill=True)
        producer.control.purge()
        producer.close()


def _wait(what: str, done, proc, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = done()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"Celery worker 已退出（状态 {proc.returncode}），{what}未完成")
        time.sleep(0.5)
    pytest.fail(f"{seconds:.0f} 秒内{what}未完成")


def _checked_upload(user, rows) -> StoredUpload:
    """A preview made in this process, as the web request makes it; the confirmation goes to the worker."""
    file = io.BytesIO(xlsx({"社区": [COMMUNITY_HEADERS, *rows]}).getvalue())
    file.name = "killed.xlsx"
    upload = import_services.upload_store(user=user, file=file)
    import_services.upload_run(upload=upload, dry_run=True)
    upload.refresh_from_db()
    assert upload.state == UploadState.CHECKED, upload.summary
    StoredUpload.objects.filter(pk=upload.pk).update(state=UploadState.QUEUED)
    return upload


def test_a_worker_killed_mid_import_and_mid_sweep_is_taken_over_by_the_next(workers, admin_user, make_community):
    producer, start, marks = workers
    for households in (500, 3000, 6000, 2000):
        make_community(households=households)
    rows = [community_row(f"6101040017{i:02d}", name=f"中断导入社区{i}") for i in range(6)]
    upload = _checked_upload(admin_user, rows)

    first = start("doomed", slow=True)
    producer.send_task("imports.run_upload", args=[str(upload.pk), False])
    producer.send_task("compliance.nightly_sweep", kwargs={"as_of": "2025-06-30", "chunks": 2})
    _wait("导入和巡检分块开始", lambda: {p.name.split("-")[0] for p in marks.glob("*")} >= {"import", "chunk"},
          first, 90)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = time.monotonic()
    sweep = Sweep.objects.get()
    assert sweep.status == SweepStatus.RUNNING and sweep.chunks_done < sweep.chunks_total
    upload.refresh_from_db()
    assert upload.state == UploadState.IMPORTING and not Community.objects.filter(name__startswith="中断导入").exists()

    second = start("rescuer")
    finished = _wait("巡检", lambda: Sweep.objects.filter(pk=sweep.pk, status=SweepStatus.FINISHED).first(),
                     second, WITHIN)
    assert finished.errors == [] and finished.chunks_done >= finished.chunks_total
    done = _wait("导入", lambda: StoredUpload.objects.filter(
        pk=upload.pk, state__in=[UploadState.IMPORTED, UploadState.REFUSED]).first(), second, WITHIN)
    assert time.monotonic() - killed_at < WITHIN
    if done.state == UploadState.IMPORTED:
        # Once, whatever the first worker had begun: its transaction died with it.
        assert Community.objects.filter(name__startswith="中断导入").count() == len(rows)
        assert done.attempts == 2
    else:
        assert [i["code"] for i in done.summary["file_issues"]] == ["stale_preview"]
