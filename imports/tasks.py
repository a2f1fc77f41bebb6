"""Celery tasks: take the stored upload's id, call imports.services."""

from __future__ import annotations

from celery import shared_task


# acks_late and reject_on_worker_lost (settings): a worker killed mid-import leaves the message unacknowledged and
# another worker gets it (at once for a lost pool process, after the visibility timeout for a lost machine);
# services.upload_claim lets one delivery run at a time and gives up after MAX_ATTEMPTS. ignore_result: nobody
# waits for it, so queueing it never touches the result backend.
@shared_task(name="imports.run_upload", bind=True, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_upload(self, upload_id: str, dry_run: bool) -> bool | None:
    from .services import upload_run_in_worker

    return upload_run_in_worker(upload_id=upload_id, dry_run=dry_run, eager=bool(self.request.is_eager))
