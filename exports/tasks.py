"""Celery tasks: take the export job's id, call exports.jobs."""

from __future__ import annotations

from celery import shared_task


# acks_late and reject_on_worker_lost (settings): a worker lost mid-file leaves the message to another worker,
# which writes the file again from the start (export_claim gives up after MAX_ATTEMPTS). ignore_result: the page
# reads the job's row, never the result backend.
@shared_task(name="exports.run_export", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_export(job_id: str) -> str | None:
    from .services import export_run_in_worker

    return export_run_in_worker(job_id=job_id)
