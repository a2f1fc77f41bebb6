"""An export written in the background: a large ledger or workbook, kept in the media storage for its owner.

The file is found by the job's uuid and the requesting user together, never by a path the browser sends; the
ops retention purge deletes old jobs and their files (``export_days``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ExportState(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "出错"


RUNNING_STATES = (ExportState.QUEUED, ExportState.RUNNING)


class ExportJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed as the first column of exportjob_user_recent.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="导出人", on_delete=models.CASCADE, db_index=False,
                             related_name="export_jobs")
    kind = models.CharField("导出内容", max_length=40)  # a ledger key, or a workbook key (compliance)
    title = models.CharField("名称", max_length=100)
    # What was asked for: street (街办 code), format (xlsx/csv), reveal (full ID numbers), as_of (YYYY-MM-DD).
    options = models.JSONField("选项", default=dict, blank=True)
    filename = models.CharField("文件名", max_length=200)
    file = models.FileField("文件", upload_to="exports/", max_length=200, blank=True)
    size = models.PositiveBigIntegerField("大小（字节）", default=0)
    rows_total = models.PositiveIntegerField("预计行数", default=0)
    rows_done = models.PositiveIntegerField("已写行数", default=0)
    state = models.CharField("状态", max_length=20, choices=ExportState.choices, default=ExportState.QUEUED)
    error = models.TextField("错误", blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    created_at = models.DateTimeField("请求时间", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="exportjob_user_recent")]
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=[s.value for s in ExportState]),
                                   name="exportjob_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.filename}（{self.get_state_display()}）"

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    @property
    def percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_total))

    @property
    def percent_step(self) -> int:
        """The progress bar's width class (imports.css has one per 5 %): no inline style under the CSP."""
        return self.percent // 5 * 5
