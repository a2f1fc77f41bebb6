"""History rows written once and never changed or removed, not even by a service (approval steps, 整改 steps,
their attachments). A concrete model names what it records in ``append_only_label`` for the refusals."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


def _refuse(model, what: str) -> ValidationError:
    label = getattr(model, "append_only_label", "记录")
    return ValidationError(f"{label}{what}。", code="history_immutable")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise _refuse(self.model, "一经写入不得修改")

    def delete(self):
        raise _refuse(self.model, "不得删除")


class AppendOnly(models.Model):
    append_only_label = "记录"
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise _refuse(self, "一经写入不得修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise _refuse(self, "不得删除")
