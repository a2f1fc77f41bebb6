"""Exports above EXPORT_STREAM_MAX_ROWS are background jobs: queued with a progress bar, written to the media
storage, offered on the job's page and in 我的导出 to the user who asked and nobody else, purged after N days."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import SecurityEvent
from exports import services
from exports.models import ExportJob, ExportState
from lianhu.queue import QueueUnavailable
from ops import retention
from staffing.idnumbers import mask

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_limit(settings):
    # Two communities, two people: any row at all is "large" here, as more than 20,000 are in production.
    settings.EXPORT_STREAM_MAX_ROWS = 0
    return settings


@pytest.fixture
def held(monkeypatch):
    """A broker that takes the task and keeps it (as Redis would until a worker is free)."""
    queued: list[tuple] = []

    def enqueue(task, *args, what="任务", **kwargs):
        queued.append((task.name, args))

    monkeypatch.setattr("lianhu.queue.enqueue", enqueue)
    return queued


@pytest.fixture
def start(client, django_capture_on_commit_callbacks):
    """POST to 导出 as the page's buttons do; the test's transaction never commits, so the queueing that waits
    for the commit is run when the view returns, as in a request (autocommit)."""

    def post(data: dict, follow: bool = False):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("exports:start"), data)
        return client.get(response["Location"]) if follow and response.status_code == 302 else response

    return post


def _book(content: bytes) -> list[dict]:
    ws = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _download(client, job) -> bytes:
    response = client.get(reverse("exports:job_download", args=[job.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_a_large_export_is_queued_with_progress_and_offered_when_done(client, start, district, admin_user, small_limit,
                                                                        held, monkeypatch):
    client.force_login(admin_user)
    response = start({"kind": "people", "format": "xlsx"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exports:job_detail", args=[job.pk])
    # Queued, not written in the request: the task carries only the job's id.
    assert held == [("exports.run_export", (str(job.pk),))]
    assert (job.state, job.user, job.kind, job.rows_total, job.file.name) == (
        ExportState.QUEUED, admin_user, "people", 2, "")
    page = client.get(response["Location"]).content.decode()
    assert 'id="import-progress"' in page and "js/import_progress.js" in page and "export-download" not in page
    assert client.get(reverse("exports:job_progress", args=[job.pk])).json() == {
        "state": "queued", "label": "排队中", "running": True, "percent": 0, "rows_done": 0, "rows_total": 2}
    assert job.title in client.get(reverse("exports:job_list")).content.decode()

    # The worker: its progress reaches the job's row while it writes.
    seen: list[tuple[str, int]] = []
    original = services._Progress.__call__

    def spy(self, done, force=False):
        original(self, done, force=True)
        row = ExportJob.objects.get(pk=self.job_id)
        seen.append((row.state, row.rows_done))

    monkeypatch.setattr(services._Progress, "__call__", spy)
    monkeypatch.setattr(services, "_counted", lambda rows, report, every=1000: _each(rows, report))
    assert services.export_run_in_worker(job_id=str(job.pk)) == ExportState.DONE
    assert seen[:2] == [("running", 1), ("running", 2)]

    job.refresh_from_db()
    assert (job.state, job.rows_done, job.attempts) == (ExportState.DONE, 2, 1)
    assert job.file.name == f"exports/{job.pk}.xlsx" and job.size > 0
    assert client.get(reverse("exports:job_progress", args=[job.pk])).json()["percent"] == 100
    page = client.get(reverse("exports:job_detail", args=[job.pk])).content.decode()
    assert reverse("exports:job_download", args=[job.pk]) in page and 'id="import-progress"' not in page
    listing = client.get(reverse("exports:job_list")).content.decode()
    assert reverse("exports:job_download", args=[job.pk]) in listing

    response = client.get(reverse("exports:job_download", args=[job.pk]))
    assert response["Content-Disposition"].endswith(f"filename*=UTF-8''{quote(job.filename)}")
    assert job.filename.startswith("人员台账-全区-") and job.filename.endswith(".xlsx")
    names = sorted(r["姓名"] for r in _book(b"".join(response.streaming_content)))
    assert names == ["枣园街道张三", "青年路街道张三"]


def _each(rows, report):
    for done, row in enumerate(rows, start=1):
        yield row
        report(done)


def test_eager_mode_writes_the_file_before_the_page_is_shown(client, start, district, clerk_qingnian, small_limit):
    """make run has no broker: the job runs inside the request that asked, and its page offers the file."""
    client.force_login(clerk_qingnian)
    response = start({"kind": "communities"}, follow=True)
    job = ExportJob.objects.get()
    assert job.state == ExportState.DONE and job.rows_done == 1  # the clerk's own 街办 only
    assert 'id="export-download"' in response.content.decode()
    rows = _book(_download(client, job))
    assert [r["街道办事处"] for r in rows] == ["青年路街道"]


def test_a_clerk_job_keeps_masked_numbers_and_an_admin_reveal_is_recorded(client, start, district, clerk_qingnian,
                                                                          admin_user, small_limit):
    number = district["qingnian"]["person"].id_number
    client.force_login(clerk_qingnian)
    start({"kind": "people", "reveal": "1", "format": "csv"})
    job = ExportJob.objects.get(user=clerk_qingnian)
    # Asked for, refused: a clerk's file never holds a full number.
    assert job.options["reveal"] is False
    text = _download(client, job).decode("utf-8-sig")
    ids = [r["身份证号"] for r in csv.DictReader(io.StringIO(text))]
    assert ids and number not in ids and mask(number) in ids

    client.force_login(admin_user)
    before = SecurityEvent.objects.filter(kind="id_reveal").count()
    start({"kind": "people", "reveal": "1"})
    job = ExportJob.objects.get(user=admin_user)
    assert job.options["reveal"] is True
    assert number in [r["身份证号"] for r in _book(_download(client, job))]
    assert SecurityEvent.objects.filter(kind="id_reveal").count() == before + 1


def test_only_the_user_who_asked_may_see_or_download_the_file(client, start, district, clerk_qingnian, admin_user,
                                                               small_limit):
    client.force_login(admin_user)
    start({"kind": "people", "reveal": "1"})
    job = ExportJob.objects.get()
    client.force_login(clerk_qingnian)
    for name in ("exports:job_detail", "exports:job_progress", "exports:job_download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert job.title not in client.get(reverse("exports:job_list")).content.decode()


def test_a_get_link_to_a_large_export_offers_the_job_and_queues_nothing(client, district, admin_user, small_limit):
    client.force_login(admin_user)
    response = client.get(reverse("exports:ledger", args=["people"]) + "?format=csv&reveal=1")
    page = response.content.decode()
    assert response.status_code == 200 and 'id="export-start-form"' in page
    assert 'name="reveal" value="1"' in page and 'name="format" value="csv"' in page
    assert not ExportJob.objects.exists()
    # The compliance workbook too, with its date (no finding that day: any count is large here).
    small_limit.EXPORT_STREAM_MAX_ROWS = -1
    page = client.get(reverse("exports:compliance") + "?as_of=2099-01-01").content.decode()
    assert 'name="kind" value="compliance"' in page and 'name="as_of" value="2099-01-01"' in page


def test_small_exports_still_stream_from_the_start_button(client, start, district, admin_user):
    client.force_login(admin_user)
    response = start({"kind": "facilities", "format": "xlsx"})
    assert response.status_code == 200 and response.streaming
    assert not ExportJob.objects.exists()


def test_the_compliance_workbook_as_a_job(client, start, district, admin_user, small_limit):
    small_limit.EXPORT_STREAM_MAX_ROWS = -1  # the fixtures' communities may pass every rule: 0 rows is large here
    client.force_login(admin_user)
    start({"kind": "compliance", "as_of": ""})
    job = ExportJob.objects.get()
    assert job.state == ExportState.DONE and job.kind == "compliance"
    assert job.filename == f"合规情况-{timezone.localdate():%Y%m%d}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(_download(client, job)))
    assert book.sheetnames[0] == "汇总"


@pytest.mark.django_db(transaction=True)  # a request commits at once: the view hears the queue is down
def test_a_queue_that_is_down_fails_the_job_with_its_message(client, district, admin_user, small_limit,
                                                             monkeypatch):
    def down(task, *args, what="任务", **kwargs):
        raise QueueUnavailable(what)

    monkeypatch.setattr("lianhu.queue.enqueue", down)
    client.force_login(admin_user)
    response = client.post(reverse("exports:start"), {"kind": "people"}, follow=True)
    job = ExportJob.objects.get()
    assert job.state == ExportState.FAILED and "导出未能启动" in job.error
    assert "任务队列暂时不可用" in response.content.decode()


def test_a_redelivered_job_is_given_up_after_three_attempts(client, start, district, admin_user, small_limit, held):
    client.force_login(admin_user)
    start({"kind": "people"})
    job = ExportJob.objects.get()
    ExportJob.objects.filter(pk=job.pk).update(state=ExportState.RUNNING, attempts=services.MAX_ATTEMPTS)
    assert services.export_run_in_worker(job_id=str(job.pk)) is None
    job.refresh_from_db()
    assert job.state == ExportState.FAILED and job.error == services.WORKER_LOST_MESSAGE


def test_the_retention_purge_deletes_old_jobs_and_their_files(client, start, district, admin_user, small_limit):
    client.force_login(admin_user)
    start({"kind": "people"})
    start({"kind": "facilities"})
    old, young = ExportJob.objects.order_by("created_at")
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    old_path, young_path = Path(old.file.path), Path(young.file.path)
    assert old_path.exists() and young_path.exists()
    results = {r.kind: r for r in retention.purge()}
    assert results["exports"].deleted == 1 and results["exports"].days == 7
    assert not old_path.exists() and young_path.exists()
    assert list(ExportJob.objects.all()) == [young]
