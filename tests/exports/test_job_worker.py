"""A real Celery worker, in its own process, writes a queued export job through Redis: the file lands in the
shared media root and the web side offers it to its owner (the path production takes; the other job tests run
the task in the test process). Needs ``LIANHU_CI_REDIS_URL`` and PostgreSQL, like the sweep's worker tests."""

from __future__ import annotations

import io
import os
import time

import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse

from exports import services
from exports.models import ExportJob, ExportState
from ops.models import TaskRecord
from tests.celery_world import ready_producer, start_worker, stop_worker, worker_env

pytestmark = [pytest.mark.celery_worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 120


@pytest.fixture
def export_worker(transactional_db):
    producer = ready_producer()
    # The web side and the worker share one media root, as on two machines with NFS (deployment.md).
    env = worker_env(DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT))
    proc = start_worker(f"exports-{os.getpid()}@lianhu", env)
    try:
        yield producer, proc
    finally:
        stop_worker(proc)
        producer.control.purge()
        producer.close()


def test_a_worker_writes_the_job_and_its_owner_downloads_it(export_worker, client, district, admin_user,
                                                            clerk_qingnian):
    producer, proc = export_worker
    plan = services.export_plan(user=clerk_qingnian, kind="people", reveal=True)
    job = services.export_create(user=clerk_qingnian, plan=plan)
    assert job.state == ExportState.QUEUED and job.options["reveal"] is False  # a clerk never gets full numbers
    producer.send_task("exports.run_export", args=[str(job.pk)])

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if not job.running:
            break
        if proc.poll() is not None:
            pytest.fail(f"Celery worker 已退出（状态 {proc.returncode}）")
        time.sleep(0.5)
    assert job.state == ExportState.DONE, (job.state, job.error)
    record = TaskRecord.objects.get(name="exports.run_export")
    assert (record.subject_type, record.subject_id, record.state) == ("export", str(job.pk), "success")
    assert record.worker.startswith("exports-")

    client.force_login(clerk_qingnian)
    response = client.get(reverse("exports:job_download", args=[job.pk]))
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    header, people = rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert "身份证号" in header and [p["姓名"] for p in people] == ["青年路街道张三"]
    assert people[0]["身份证号"] != district["qingnian"]["person"].id_number  # masked, as the clerk sees it
    client.force_login(admin_user)
    assert client.get(reverse("exports:job_download", args=[job.pk])).status_code == 404
    assert ExportJob.objects.count() == 1
