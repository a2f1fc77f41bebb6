"""Exports as jobs: what is small streams inside the request; what is large is written by a Celery worker to the
media storage and offered on its page and in 我的导出.

The size decision is one ``COUNT`` over the rows the user may see (``Ledger.count``, ``WorkbookSpec.count``)
against ``EXPORT_STREAM_MAX_ROWS``: a 1.1 M-row 人员台账 takes minutes, longer than gunicorn's and nginx's
request timeouts, while a 街办's ledger of a few thousand rows is faster to stream than to queue. The task takes
the job's id and calls ``export_run_in_worker``; eager mode (no broker, ``make run``) runs it inside the
request that asked, so the page it redirects to already offers the file.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from core.ledgers import Ledger, LedgerSpec, WorkbookSpec, registry, workbooks
from core.writer import XlsxBook, write_csv

from .models import ExportJob, ExportState

logger = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv")
MAX_ATTEMPTS = 3  # deliveries of one job's task; past this a job that kills its worker is given up
PROGRESS_SECONDS = 1.0  # the job's row is told the rows written at most this often
WORKER_LOST_MESSAGE = "后台生成多次中断（可能服务器重启），请重新导出；如持续出现，请联系系统管理员。"


def stream_max_rows() -> int:
    """Above this many rows an export is a background job (settings.EXPORT_STREAM_MAX_ROWS)."""
    return int(getattr(settings, "EXPORT_STREAM_MAX_ROWS", 20_000))


@dataclass
class ExportPlan:
    """One export as asked: which, for whom, with which options, and how many rows it will write."""

    user: Any
    kind: str
    title: str
    options: dict[str, Any]
    rows: int
    ledger: Ledger | None = None  # built (its rows not yet read) for a ledger
    spec: LedgerSpec | None = None
    workbook: WorkbookSpec | None = None

    @property
    def large(self) -> bool:
        return self.rows > stream_max_rows()

    @property
    def as_of(self) -> dt.date | None:
        return _as_of(self.options)

    @property
    def filename(self) -> str:
        if self.workbook is not None:
            return self.workbook.filename(_as_of(self.options))
        assert self.ledger is not None
        return self.ledger.filename(self.options.get("format", "xlsx"), self.options.get("street"))


def _as_of(options: dict[str, Any]) -> dt.date | None:
    return dt.date.fromisoformat(options["as_of"]) if options.get("as_of") else None


def export_plan(*, user, kind: str, street: str | None = None, fmt: str = "xlsx", reveal: bool = False,
                as_of: dt.date | None = None) -> ExportPlan:
    """Build (without reading) the export ``user`` asks for; KeyError for a kind nobody registered.

    ``reveal`` holds only where the ledger offers it and the user may see full ID numbers; the worker checks
    again with the same user when it writes (a role taken away meanwhile writes masked numbers)."""
    if kind in workbooks:
        spec = workbooks[kind]
        options: dict[str, Any] = {"format": "xlsx", "as_of": as_of.isoformat() if as_of else None}
        return ExportPlan(user, kind, spec.title, options, spec.count(user, as_of), workbook=spec)
    ledger_spec = registry[kind]
    reveal = reveal and ledger_spec.reveal_allowed(user)
    extra = {"reveal": True} if reveal else {}
    ledger = ledger_spec.build(user, street, **extra)
    options = {"street": street, "format": fmt if fmt in FORMATS else "xlsx", "reveal": reveal}
    return ExportPlan(user, kind, ledger_spec.title, options, ledger.count(), ledger=ledger, spec=ledger_spec)


def export_create(*, user, plan: ExportPlan) -> ExportJob:
    """The job row for a large export, queued; ``export_start`` hands it to a worker."""
    return ExportJob.objects.create(user=user, kind=plan.kind, title=plan.title, options=plan.options,
                                    filename=plan.filename[:200], rows_total=plan.rows)


def export_start(*, job: ExportJob) -> None:
    """Queue the job's task (eager: run it here). Raises QueueUnavailable when the broker is down; the job is
    then 出错 with the queue's message, never left 排队中 with nobody to run it."""
    from lianhu.queue import QueueUnavailable, enqueue

    from .tasks import run_export

    def queue() -> None:
        try:
            enqueue(run_export, str(job.pk), what="导出")
        except QueueUnavailable as unavailable:
            ExportJob.objects.filter(pk=job.pk).update(state=ExportState.FAILED, error=unavailable.message,
                                                       finished_at=timezone.now())
            job.state, job.error = ExportState.FAILED, unavailable.message
            raise

    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(queue, robust=False)  # the worker must find the committed job
    else:
        queue()


def export_claim(*, job_id) -> ExportJob | None:
    """The job for this delivery to write, or None (gone, finished, or given up).

    A queued job is claimed; a running one is a redelivery after its worker was lost (acks_late: the message
    comes back only once that worker's connection is gone), so it starts again from the first row. Past
    MAX_ATTEMPTS deliveries the job fails with a message instead of looping."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("user").filter(pk=job_id).first()
        if job is None or job.state not in (ExportState.QUEUED, ExportState.RUNNING):
            return None
        now = timezone.now()
        if job.attempts >= MAX_ATTEMPTS:
            job.state, job.error, job.finished_at = ExportState.FAILED, WORKER_LOST_MESSAGE, now
            job.save(update_fields=["state", "error", "finished_at"])
            return None
        job.attempts += 1
        job.state, job.started_at, job.rows_done, job.error = ExportState.RUNNING, now, 0, ""
        job.save(update_fields=["attempts", "state", "started_at", "rows_done", "error"])
        return job


class _Progress:
    """Writes the rows done to the job's row, at most once a PROGRESS_SECONDS (one short UPDATE)."""

    def __init__(self, job_id):
        self.job_id = job_id
        self.last = time.monotonic()

    def __call__(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_SECONDS:
            self.last = now
            ExportJob.objects.filter(pk=self.job_id).update(rows_done=done)


def _counted(rows: Iterable[Any], report: Callable[[int], None], every: int = 1000) -> Iterator[Any]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % every == 0:
            report(done)
    report(done)


def export_write(*, plan: ExportPlan, path: str, progress: Callable[[int], None] | None = None) -> int:
    """Write ``plan``'s file to ``path`` (xlsx or CSV); returns the data rows written."""
    report = progress or (lambda _n: None)
    if plan.workbook is not None:
        book = XlsxBook(path)
        written = plan.workbook.write(book, user=plan.user, as_of=_as_of(plan.options), progress=report)
        book.close()
        return sum(written.values())
    assert plan.ledger is not None
    ledger = plan.ledger
    done = [0]

    def note(n: int) -> None:
        done[0] = n
        report(n)

    rows = _counted(ledger.rows, note)
    if plan.options.get("format") == "csv":
        write_csv(path, ledger.columns, rows)
    else:
        book = XlsxBook(path)
        sheet = book.sheet(ledger.title, ledger.columns)
        sheet.extend(rows)
        book.close()
    return done[0]


def export_run(*, job: ExportJob) -> ExportJob:
    """Write a claimed job's file to the media storage under exports/<uuid>.<format>; 已完成 or 出错."""
    progress = _Progress(job.pk)
    options = job.options or {}
    suffix = ".csv" if options.get("format") == "csv" else ".xlsx"
    fd, tmp = tempfile.mkstemp(suffix=suffix, prefix="lianhu-export-job-")
    os.close(fd)
    try:
        plan = export_plan(user=job.user, kind=job.kind, street=options.get("street"),
                           fmt=options.get("format", "xlsx"), reveal=bool(options.get("reveal")),
                           as_of=_as_of(options))
        rows = export_write(plan=plan, path=tmp, progress=progress)
        with open(tmp, "rb") as fh:
            job.file.save(f"{job.pk}{suffix}", File(fh), save=False)
        job.size = os.path.getsize(tmp)
    except Exception as error:
        logger.exception("导出 %s 失败", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(state=ExportState.FAILED, error=error.__class__.__name__,
                                                    finished_at=timezone.now())
        job.state = ExportState.FAILED
        raise
    finally:
        os.unlink(tmp)
    job.state, job.rows_done, job.finished_at = ExportState.DONE, rows, timezone.now()
    job.save(update_fields=["file", "size", "state", "rows_done", "finished_at"])
    return job


def export_run_in_worker(*, job_id) -> str | None:
    """What the Celery task does: claim the job and write it. None when there was nothing to write."""
    job = export_claim(job_id=job_id)
    if job is None:
        return None
    return export_run(job=job).state


def retention_days() -> int:
    """Days a finished export's file is kept (the ops retention parameter ``export_days``)."""
    from ops.retention import params

    return params(timezone.localdate())["export_days"]


def exports_for_user(user):
    """The user's own export jobs, newest first: nobody else's file is ever listed or served."""
    if not user.is_authenticated:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(user=user)
