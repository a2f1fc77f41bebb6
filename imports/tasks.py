"""Celery tasks: take the stored upload's id, call imports.services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="imports.run_upload")
def run_upload(upload_id: str, dry_run: bool) -> bool:
    from .models import StoredUpload
    from .services import upload_run

    upload = StoredUpload.objects.select_related("user").filter(pk=upload_id).first()
    if upload is None:  # deleted meanwhile
        return False
    return upload_run(upload=upload, dry_run=dry_run).ok
