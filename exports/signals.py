"""A deleted export job (the retention purge, a deleted user) takes its file out of the media storage."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import ExportJob


@receiver(post_delete, sender=ExportJob, dispatch_uid="exports.delete_file")
def _delete_file(sender, instance: ExportJob, **kwargs) -> None:
    if instance.file:
        instance.file.delete(save=False)
