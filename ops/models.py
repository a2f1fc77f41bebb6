"""What the operators watch: beat's heartbeat and a record of every Celery task that ran or failed."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic task ran (one row per name, overwritten): beat → broker → worker → database."""

    name = models.CharField("名称", max_length=50, primary_key=True)
    at = models.DateTimeField("最近一次")

    class Meta:
        verbose_name = "心跳"
        verbose_name_plural = "心跳"

    def __str__(self) -> str:
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


class TaskState(models.TextChoices):
    STARTED = "started", "运行中"
    SUCCESS = "success", "成功"
    RETRY = "retry", "等待重试"
    FAILURE = "failure", "失败"


class TaskRecord(models.Model):
    """One Celery task, filled from Celery's signals (ops/signals.py); the sweep and import pages link here."""

    task_id = models.CharField("任务编号", max_length=64, unique=True)
    name = models.CharField("任务", max_length=200, db_index=True)
    state = models.CharField("状态", max_length=20, choices=TaskState.choices, default=TaskState.STARTED)
    # What the task worked on, so a sweep's or an upload's page can list its tasks: ("sweep", "12").
    subject_type = models.CharField("对象类型", max_length=20, blank=True)
    subject_id = models.CharField("对象编号", max_length=64, blank=True)
    retries = models.PositiveIntegerField("重试次数", default=0)
    error = models.TextField("错误", blank=True)
    traceback = models.TextField("错误详情", blank=True)
    worker = models.CharField("执行者", max_length=200, blank=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)

    class Meta:
        verbose_name = "后台任务记录"
        verbose_name_plural = "后台任务记录"
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="taskrecord_subject"),
            models.Index(fields=["state", "updated_at"], name="taskrecord_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=[s.value for s in TaskState]),
                                   name="taskrecord_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.task_id}（{self.get_state_display()}）"
