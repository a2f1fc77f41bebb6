"""Findings, their history, dated rule parameters and sweep records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .catalogue import CHINESE_NUMERALS, Severity, Target


class RuleParameter(models.Model):
    """One value of one rule parameter, in force from a date. Never edited:
    a new value is a new row, so a past sweep replays with the values of its day."""

    rule_id = models.CharField("规则编号", max_length=64)
    name = models.CharField("参数", max_length=64)
    value = models.JSONField("取值")
    effective_from = models.DateField("生效日期")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="设置人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    reason = models.TextField("理由")
    created_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = "规则参数"
        verbose_name_plural = "规则参数"
        ordering = ["rule_id", "name", "effective_from", "created_at"]
        indexes = [models.Index(fields=["rule_id", "name", "effective_from"], name="ruleparam_lookup")]

    def __str__(self) -> str:
        return f"{self.rule_id}.{self.name}={self.value}（{self.effective_from:%Y-%m-%d}起）"


class FindingStatus(models.TextChoices):
    OPEN = "open", "未整改"
    RESOLVED = "resolved", "已整改"
    WAIVED = "waived", "已豁免"


LIVE_STATUSES = (FindingStatus.OPEN, FindingStatus.WAIVED)


class Finding(models.Model):
    # Not indexed alone: finding_status_rule and the live partial indexes lead with it where it is looked up.
    rule_id = models.CharField("规则编号", max_length=64)
    clause = models.PositiveSmallIntegerField("措施")
    target_type = models.CharField("对象类型", max_length=20, choices=Target.CHOICES)
    target_key = models.CharField("对象编号", max_length=64)
    target_pk = models.BigIntegerField("对象主键")
    community = models.ForeignKey(
        "communities.Community", verbose_name="社区", on_delete=models.CASCADE, null=True, blank=True,
        related_name="findings",
    )
    sub_district = models.ForeignKey(
        "communities.SubDistrict", verbose_name="街道办事处", on_delete=models.PROTECT, null=True, blank=True,
        related_name="findings", to_field="code", db_column="sub_district_code",
        db_index=False,  # finding_street_status leads with it
    )
    severity = models.CharField("严重程度", max_length=20, choices=Severity.CHOICES)
    measured = models.JSONField("实测", null=True, blank=True)
    required = models.JSONField("应达", null=True, blank=True)
    message = models.TextField("说明")
    responsible_unit = models.CharField("责任单位", max_length=200, blank=True)
    status = models.CharField("状态", max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    first_seen = models.DateField("首次发现（评估日期）")
    last_seen = models.DateField("最近发现（评估日期）")
    opened_at = models.DateTimeField("发现时间")
    resolved_at = models.DateTimeField("整改时间", null=True, blank=True)
    waived_reason = models.TextField("豁免理由", blank=True)
    waived_until = models.DateField("豁免截止", null=True, blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="豁免人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    # The sweep that last opened, changed or resolved the finding (an unchanged one is not rewritten).
    # Not indexed: nothing looks findings up by it, and an index would make every such write a non-HOT update.
    last_sweep = models.ForeignKey(
        "Sweep", verbose_name="最近巡检", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = "问题"
        verbose_name_plural = "问题"
        ordering = ["rule_id", "target_key"]
        constraints = [
            # At most one live (open or waived) finding per rule and target:
            # re-evaluating updates it and never duplicates it.
            models.UniqueConstraint(
                fields=["rule_id", "target_type", "target_pk"],
                condition=Q(status__in=["open", "waived"]),
                name="finding_one_live_per_rule_target",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "resolved", "waived"]), name="finding_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="waived") | (Q(waived_until__isnull=False) & ~Q(waived_reason="")),
                name="finding_waiver_has_reason_and_end",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "rule_id"], name="finding_status_rule"),
            models.Index(fields=["sub_district", "status"], name="finding_street_status"),
            # A sweep chunk reads one rule's live findings in a range of communities.
            models.Index(fields=["rule_id", "community"], condition=Q(status__in=["open", "waived"]),
                         name="finding_live_rule_community"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.target_key}"

    @property
    def target_label(self) -> str:
        """The target as a clerk reads it: "社区 610104001001"; the district's key is internal."""
        if self.target_type == Target.DISTRICT:
            return self.get_target_type_display()
        return f"{self.get_target_type_display()} {self.target_key}"

    @property
    def numeral(self) -> str:
        return CHINESE_NUMERALS.get(self.clause, str(self.clause))

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


class FindingEventKind(models.TextChoices):
    OPENED = "opened", "发现"
    SEVERITY = "severity", "严重程度变化"
    RESOLVED = "resolved", "已整改"
    WAIVED = "waived", "豁免"
    REOPENED = "reopened", "重新打开"


class FindingEvent(models.Model):
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事件", max_length=20, choices=FindingEventKind.choices)
    as_of = models.DateField("评估日期", null=True, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)
    severity = models.CharField("严重程度", max_length=20, choices=Severity.CHOICES, blank=True)
    measured = models.JSONField("实测", null=True, blank=True)
    note = models.TextField("说明", blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sweep = models.ForeignKey("Sweep", on_delete=models.SET_NULL, null=True, blank=True, related_name="events")

    class Meta:
        verbose_name = "问题记录"
        verbose_name_plural = "问题记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.get_kind_display()}"


class SweepStatus(models.TextChoices):
    RUNNING = "running", "进行中"
    FINISHED = "finished", "已完成"
    FAILED = "failed", "失败"


class Sweep(models.Model):
    as_of = models.DateField("评估日期")
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    status = models.CharField("状态", max_length=20, choices=SweepStatus.choices, default=SweepStatus.RUNNING)
    rule_ids = models.JSONField("规则", default=list)
    rule_timings = models.JSONField("各规则耗时（秒）", default=dict)
    chunks_total = models.PositiveIntegerField("分块数", default=0)
    chunks_done = models.PositiveIntegerField("已完成分块", default=0)
    opened = models.PositiveIntegerField("新发现", default=0)
    resolved = models.PositiveIntegerField("已整改", default=0)
    still_open = models.PositiveIntegerField("仍未整改", default=0)
    errors = models.JSONField("错误", default=list)
    triggered_by = models.CharField("触发方式", max_length=100, blank=True)
    # Set once the clerks' digest went out, so a redelivered task does not mail twice.
    digest_sent_at = models.DateTimeField("摘要邮件发送时间", null=True, blank=True)
    # Bumped by every chunk that starts or ends: a running sweep without one for COMPLIANCE_SWEEP_LEASE_SECONDS
    # lost its worker, and the next sweep takes over (services.sweep_start).
    heartbeat_at = models.DateTimeField("最近进展时间", null=True, blank=True)

    class Meta:
        verbose_name = "巡检"
        verbose_name_plural = "巡检"
        ordering = ["-started_at", "-id"]
        constraints = [
            # One sweep at a time, across every process and machine.
            models.UniqueConstraint(fields=["status"], condition=Q(status="running"), name="sweep_one_running"),
        ]

    def __str__(self) -> str:
        return f"巡检 {self.as_of:%Y-%m-%d}（{self.get_status_display()}）"

    @property
    def duration(self):
        if self.finished_at and self.started_at:
            return self.finished_at - self.started_at
        return None


class SupervisionLevel(models.TextChoices):
    """措施二十: 提醒、督办、约谈, in rising order."""

    REMIND = "remind", "提醒"
    SUPERVISE = "supervise", "督办"
    INTERVIEW = "interview", "约谈"


class SupervisionAction(models.Model):
    """What a reviewer did about a finding, or about a unit as a whole (措施二十)."""

    finding = models.ForeignKey(
        Finding, verbose_name="问题", on_delete=models.CASCADE, null=True, blank=True, related_name="actions"
    )
    unit = models.CharField("责任单位", max_length=200)
    sub_district = models.ForeignKey(
        "communities.SubDistrict", verbose_name="街道办事处", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", to_field="code", db_column="sub_district_code",
    )
    level = models.CharField("督导方式", max_length=20, choices=SupervisionLevel.choices)
    taken_on = models.DateField("督导日期")
    note = models.TextField("情况说明")
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "督导记录"
        verbose_name_plural = "督导记录"
        ordering = ["-taken_on", "-id"]
        indexes = [models.Index(fields=["unit", "level"], name="supervision_unit_level")]

    def __str__(self) -> str:
        return f"{self.unit} {self.get_level_display()} {self.taken_on:%Y-%m-%d}"
