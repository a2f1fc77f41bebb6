"""An uploaded workbook kept on the server between preview and confirmation.

The file lives under MEDIA_ROOT/imports/<uuid>; the confirmation form sends
only the uuid, and a lookup is always scoped to the uploading user, so no
client-sent path or someone else's upload is ever opened.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models


class UploadState(models.TextChoices):
    UPLOADED = "uploaded", "已上传"
    QUEUED = "queued", "排队中"
    CHECKING = "checking", "检查中"
    CHECKED = "checked", "已检查"
    IMPORTING = "importing", "导入中"
    IMPORTED = "imported", "已导入"
    REFUSED = "refused", "未导入"
    FAILED = "failed", "出错"


RUNNING_STATES = (UploadState.QUEUED, UploadState.CHECKING, UploadState.IMPORTING)


class StoredUpload(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.CASCADE,
                             related_name="workbook_uploads")
    filename = models.CharField("文件名", max_length=200)
    sheet = models.CharField("工作表", max_length=20, blank=True)
    size = models.PositiveBigIntegerField("大小（字节）", default=0)
    rows = models.PositiveIntegerField("估计行数", default=0)
    state = models.CharField("状态", max_length=20, choices=UploadState.choices, default=UploadState.UPLOADED)
    summary = models.JSONField("检查/导入结果", null=True, blank=True)
    error = models.TextField("错误", blank=True)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # Where the upload (or its confirmation) came from: a worker has no request, its security events use this.
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    # A worker checking or importing bumps this every few seconds; a redelivered task takes over only once it is
    # older than IMPORT_LEASE_SECONDS (the first worker died), and gives up after MAX_ATTEMPTS deliveries.
    heartbeat_at = models.DateTimeField("最近进展时间", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    # The state of every existing row the checked file would change, as the preview saw it (history ids per
    # model and pk): a confirmation finding any of them changed since refuses and asks for a new preview.
    fingerprint = models.JSONField("预览时的目标记录指纹", null=True, blank=True)

    class Meta:
        verbose_name = "上传的工作簿"
        verbose_name_plural = "上传的工作簿"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename}（{self.get_state_display()}）"

    @property
    def path(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "imports" / str(self.id)

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES
