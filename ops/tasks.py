"""Celery tasks: thin, each calls one function."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="ops.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Scheduled every minute: the status check reads its time as beat's last tick."""
    from .models import Heartbeat

    Heartbeat.objects.update_or_create(name="beat", defaults={"at": timezone.now()})


@shared_task(name="ops.purge")
def purge() -> dict[str, int]:
    from .retention import purge as run

    return {r.kind: r.deleted for r in run()}
