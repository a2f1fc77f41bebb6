"""Findings, their history, dated rule parameters and sweep records.

Who answers for a finding (措施二十): ``responsible_kind`` is ``street`` (the
街办 the finding is filed under, ``sub_district``; ``responsible_unit`` is then
blank) or ``department`` (``responsible_unit`` is an ``accounts.models.Unit``
code, e.g. ``housing``). ``lead_unit`` (牵头单位) is blank or Unit codes joined
by ``,``. Both come from ``compliance.duties`` on every write of the engine.
``due_date`` is the 整改期限 (none for a notice).

A finding's life: 未整改 (open) → 数据已达标 (resolved: a judging found the data
passing) or 已销号 (closed: a reviewer's 复核 after 申请销号), or 已豁免 (waived,
still live). Resolved and closed findings are not live: if the rule fails again
later, a new finding opens (a recurrence is a new problem).

Time: only a sweep as of today (``Sweep.live``) and the re-judging of saves
write ``Finding``; a sweep as of any other date (a replay, or a look ahead)
keeps its own snapshot in ``SweepFinding`` and never touches a live finding.
``FindingDailyCount`` keeps the open findings per day, unit, rule and severity
(written by today's sweep and re-judging, never by a replay).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Unit

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
    RESOLVED = "resolved", "数据已达标"
    WAIVED = "waived", "已豁免"
    CLOSED = "closed", "已销号"


class ResponsibleKind(models.TextChoices):
    STREET = "street", "街办"
    DEPARTMENT = "department", "部门"


DEPARTMENT_UNITS = ["planning", "housing", "daxing", "civil_affairs", "finance"]  # accounts.models.Unit


LIVE_STATUSES = (FindingStatus.OPEN, FindingStatus.WAIVED)


class Finding(models.Model):
    # Not indexed alone: finding_status_rule and the live partial indexes lead with it where it is looked up.
    rule_id = models.CharField("规则编号", max_length=64)
    clause = models.PositiveSmallIntegerField("措施")
    target_type = models.CharField("对象类型", max_length=20, choices=Target.CHOICES)
    target_key = models.CharField("对象编号", max_length=64)
    target_pk = models.BigIntegerField("对象主键")
    # No database constraint on the community and the 街办: PostgreSQL checks each new finding at commit with a
    # FOR KEY SHARE lock on the community row (a dozen findings per community share it through a multixact), and a
    # first sweep or the re-judging of an import writes a million. Communities and 街办 are never deleted (撤销 is a
    # status; the admin refuses deletion), findings are written only by the engine from rows it has just read, and
    # Django's CASCADE and PROTECT still apply if one were.
    community = models.ForeignKey(
        "communities.Community", verbose_name="社区", on_delete=models.CASCADE, null=True, blank=True,
        related_name="findings", db_constraint=False,
    )
    sub_district = models.ForeignKey(
        "communities.SubDistrict", verbose_name="街道办事处", on_delete=models.PROTECT, null=True, blank=True,
        related_name="findings", to_field="code", db_column="sub_district_code",
        db_index=False,  # finding_street_status leads with it
        db_constraint=False,
    )
    severity = models.CharField("严重程度", max_length=20, choices=Severity.CHOICES)
    measured = models.JSONField("实测", null=True, blank=True)
    required = models.JSONField("应达", null=True, blank=True)
    message = models.TextField("说明")
    # db_default: raw SQL writers (bench/) that predate these columns still insert valid rows.
    responsible_kind = models.CharField("责任单位类别", max_length=20, choices=ResponsibleKind.choices,
                                        default=ResponsibleKind.STREET, db_default=ResponsibleKind.STREET)
    # A department's Unit code; blank when the 责任单位 is the finding's 街办 (sub_district).
    responsible_unit = models.CharField("责任单位", max_length=200, blank=True)
    lead_unit = models.CharField("牵头单位", max_length=100, blank=True, default="", db_default="")
    due_date = models.DateField("整改期限", null=True, blank=True)
    # A digest of the fields above as the engine last wrote them (compliance.engine.data_digest): a sweep reads
    # this, not the whole row, to tell that a live finding still says what the rule finds. Blank (rows from
    # before it, raw SQL) only costs a full comparison once.
    data_digest = models.CharField("数据摘要", max_length=16, blank=True, default="", db_default="", editable=False)
    status = models.CharField("状态", max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    first_seen = models.DateField("首次发现（评估日期）")
    last_seen = models.DateField("最近发现（评估日期）")
    opened_at = models.DateTimeField("发现时间")
    # When the data was found passing (数据已达标) or the reviewer closed it (已销号).
    resolved_at = models.DateTimeField("整改时间", null=True, blank=True)
    waived_reason = models.TextField("豁免理由", blank=True)
    waived_until = models.DateField("豁免截止", null=True, blank=True)
    # Indexed by finding_waived_by only where set (see there).
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="豁免人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", db_index=False,
    )
    # The sweep that last opened, changed or resolved the finding (an unchanged one is not rewritten).
    # Not indexed: nothing looks findings up by it, and an index would make every such write a non-HOT update.
    # No database constraint: PostgreSQL checks a foreign key row by row, and this one is bookkeeping that names
    # the sweep writing the row; sweeps are never deleted, and Django's SET_NULL still applies if one were. A
    # first sweep writes 100,000 findings a rule: the check cost a tenth of its time (make bench).
    last_sweep = models.ForeignKey(
        "Sweep", verbose_name="最近巡检", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        db_index=False, db_constraint=False,
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
                condition=Q(status__in=["open", "resolved", "waived", "closed"]), name="finding_status_valid"
            ),
            # A notice is advice: it has no 整改期限 and never escalates.
            models.CheckConstraint(condition=~Q(severity="notice") | Q(due_date__isnull=True),
                                   name="finding_notice_has_no_due_date"),
            # A department finding names its unit; a 街办 finding's unit is its sub_district.
            models.CheckConstraint(
                condition=(Q(responsible_kind="street", responsible_unit="")
                           | Q(responsible_kind="department", responsible_unit__in=DEPARTMENT_UNITS)),
                name="finding_responsible_unit_valid",
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
            # A department's 待我办理.
            models.Index(fields=["responsible_unit", "status"], condition=Q(responsible_kind="department"),
                         name="finding_department_status"),
            # For SET_NULL when a user is deleted. Only where set: a sweep writes a million findings nobody
            # waived, and a full index took an entry for each.
            models.Index(fields=["waived_by"], condition=Q(waived_by__isnull=False), name="finding_waived_by"),
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

    @property
    def responsible_name(self) -> str:
        """The 责任单位 as people read it: the 街办's name or the department's."""
        return responsible_name(self.responsible_kind, self.responsible_unit, self.sub_district)

    @property
    def lead_name(self) -> str:
        return lead_labels(self.lead_unit)


def unit_label(code: str) -> str:
    """A Unit code as people read it."""
    try:
        return str(Unit(code).label)
    except ValueError:
        return code


def lead_labels(lead: str) -> str:
    return "、".join(unit_label(c) for c in lead.split(",") if c)


def responsible_name(kind: str, unit: str, sub_district) -> str:
    if kind == ResponsibleKind.DEPARTMENT:
        return unit_label(unit)
    return sub_district.name if sub_district is not None else ""


class FindingEventKind(models.TextChoices):
    """Everything that happens to a finding, in one history table: the engine's and the 整改 workflow's
    (supervision app) steps. Extend here rather than keeping a second history."""

    OPENED = "opened", "发现"
    SEVERITY = "severity", "严重程度变化"
    RESOLVED = "resolved", "数据已达标"
    WAIVED = "waived", "豁免"
    REOPENED = "reopened", "重新打开"
    MEASURES = "measures", "整改措施"
    CLOSE_REQUESTED = "close_requested", "申请销号"
    RETURNED = "returned", "退回"
    CLOSED = "closed", "销号"


class FindingEvent(models.Model):
    # No database constraint, as Finding.community: a sweep writes its 发现 events in one INSERT … SELECT from the
    # findings it has just written, and findings are never deleted (CASCADE still applies in Django).
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events", db_constraint=False)
    kind = models.CharField("事件", max_length=20, choices=FindingEventKind.choices)
    as_of = models.DateField("评估日期", null=True, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)
    severity = models.CharField("严重程度", max_length=20, choices=Severity.CHOICES, blank=True)
    measured = models.JSONField("实测", null=True, blank=True)
    note = models.TextField("说明", blank=True)
    # Indexed by findingevent_user only where set, as Finding.waived_by: a sweep's events name no user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # No database constraint, as Finding.last_sweep: a first sweep writes an event per finding it opens.
    sweep = models.ForeignKey("Sweep", on_delete=models.SET_NULL, null=True, blank=True, related_name="events",
                              db_constraint=False)

    class Meta:
        verbose_name = "问题记录"
        verbose_name_plural = "问题记录"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["user"], condition=Q(user__isnull=False), name="findingevent_user")]

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
    # True for a sweep as of the day it ran (Asia/Shanghai): it reconciles the live findings. False: a replay of
    # the past or a look ahead, whose findings are its own snapshot (SweepFinding), never the live ones.
    live = models.BooleanField("实时巡检", default=True)
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

    @property
    def kind_label(self) -> str:
        return "实时" if self.live else "回放"


class SweepFinding(models.Model):
    """A finding of a replay (a sweep as of a date other than the day it ran): what the rules found on that
    date, kept apart from the live findings so a look at the past never rewrites today. Same columns as
    ``Finding`` where they mean the same, so exports read either."""

    sweep = models.ForeignKey(Sweep, verbose_name="巡检", on_delete=models.CASCADE, related_name="snapshot",
                              db_index=False)  # sweepfinding_sweep_rule leads with it
    rule_id = models.CharField("规则编号", max_length=64)
    clause = models.PositiveSmallIntegerField("措施")
    target_type = models.CharField("对象类型", max_length=20, choices=Target.CHOICES)
    target_key = models.CharField("对象编号", max_length=64)
    target_pk = models.BigIntegerField("对象主键")
    community = models.ForeignKey(
        "communities.Community", verbose_name="社区", on_delete=models.CASCADE, null=True, blank=True,
        related_name="+", db_index=False,
    )
    sub_district = models.ForeignKey(
        "communities.SubDistrict", verbose_name="街道办事处", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", to_field="code", db_column="sub_district_code", db_index=False,
    )
    severity = models.CharField("严重程度", max_length=20, choices=Severity.CHOICES)
    measured = models.JSONField("实测", null=True, blank=True)
    required = models.JSONField("应达", null=True, blank=True)
    message = models.TextField("说明")
    responsible_kind = models.CharField("责任单位类别", max_length=20, choices=ResponsibleKind.choices,
                                        default=ResponsibleKind.STREET)
    responsible_unit = models.CharField("责任单位", max_length=200, blank=True)
    lead_unit = models.CharField("牵头单位", max_length=100, blank=True)
    # Carried from the live finding open on that date or the previous replay's, else the sweep's date.
    first_seen = models.DateField("首次发现（评估日期）")
    due_date = models.DateField("整改期限", null=True, blank=True)

    class Meta:
        verbose_name = "回放巡检问题"
        verbose_name_plural = "回放巡检问题"
        ordering = ["rule_id", "target_key"]
        indexes = [models.Index(fields=["sweep", "rule_id"], name="sweepfinding_sweep_rule")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.target_key}（巡检 {self.sweep_id}）"

    status = FindingStatus.OPEN  # a snapshot holds what was open on its date

    @property
    def target_label(self) -> str:
        if self.target_type == Target.DISTRICT:
            return self.get_target_type_display()
        return f"{self.get_target_type_display()} {self.target_key}"

    @property
    def numeral(self) -> str:
        return CHINESE_NUMERALS.get(self.clause, str(self.clause))

    @property
    def responsible_name(self) -> str:
        return responsible_name(self.responsible_kind, self.responsible_unit, self.sub_district)

    @property
    def lead_name(self) -> str:
        return lead_labels(self.lead_unit)


class FindingDailyCount(models.Model):
    """Open live findings on a day, per 责任单位, rule and severity: the trend's points. Today's sweep and the
    re-judging of saves rewrite the day's rows; a replay never does."""

    day = models.DateField("日期")
    responsible_kind = models.CharField("责任单位类别", max_length=20, choices=ResponsibleKind.choices)
    responsible_unit = models.CharField("责任单位", max_length=200, blank=True)
    sub_district = models.ForeignKey(
        "communities.SubDistrict", verbose_name="街道办事处", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", to_field="code", db_column="sub_district_code", db_index=False,
    )
    rule_id = models.CharField("规则编号", max_length=64)
    severity = models.CharField("严重程度", max_length=20, choices=Severity.CHOICES)
    open_count = models.PositiveIntegerField("未整改数")

    class Meta:
        verbose_name = "每日问题数"
        verbose_name_plural = "每日问题数"
        ordering = ["day", "rule_id"]
        indexes = [models.Index(fields=["day", "rule_id"], name="dailycount_day_rule")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.rule_id} {self.open_count}"


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
