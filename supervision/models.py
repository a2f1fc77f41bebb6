"""整改 of a finding, the numbered 督办单/约谈通知, the periodic 通报 (措施二十).

The flows themselves (which state follows which, who acts, what must hold)
are the tables in ``supervision.flow``; these models keep what happened.
Step rows and attachments are written once and never changed or removed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.append_only import AppendOnly as _AppendOnly
from core.history import RecordHistory


class AppendOnly(_AppendOnly):
    """A history row of this app: written once, never changed or removed."""

    append_only_label = "整改记录"

    class Meta:
        abstract = True


# ---------------------------------------------------------------- 整改


class RectState(models.TextChoices):
    PENDING = "pending", "待整改"
    IN_PROGRESS = "in_progress", "整改中"
    REQUESTED = "requested", "待复核（已申请销号）"
    RETURNED = "returned", "已退回"
    CLOSED = "closed", "已销号"


class Rectification(models.Model):
    """The responsible unit's work on one finding: its measures, its expected date, where the request stands."""

    finding = models.OneToOneField(
        "compliance.Finding", verbose_name="问题", on_delete=models.PROTECT, related_name="rectification"
    )
    state = models.CharField("整改状态", max_length=20, choices=RectState.choices, default=RectState.PENDING)
    unit = models.CharField("责任单位", max_length=200)
    measures = models.TextField("整改措施", blank=True)
    expected_on = models.DateField("预计完成日期", null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请销号人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "问题整改"
        verbose_name_plural = "问题整改"
        constraints = [
            models.CheckConstraint(condition=Q(state__in=[s.value for s in RectState]), name="rect_state_valid"),
            # A closure can only be asked for with measures on record.
            models.CheckConstraint(
                condition=~Q(state__in=["requested", "closed"]) | ~Q(measures=""), name="rect_requested_has_measures"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.get_state_display()}"


class RectAction(models.TextChoices):
    MEASURES = "measures", "登记整改措施"
    REQUEST = "request", "申请销号"
    RETURN = "return", "退回"
    CLOSE = "close", "复核销号"


class RectStep(AppendOnly):
    rectification = models.ForeignKey(Rectification, on_delete=models.PROTECT, related_name="steps")
    action = models.CharField("办理事项", max_length=20, choices=RectAction.choices)
    from_state = models.CharField("原状态", max_length=20, choices=RectState.choices)
    to_state = models.CharField("新状态", max_length=20, choices=RectState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT,
                              related_name="+")
    acted_at = models.DateTimeField("办理时间", auto_now_add=True)
    note = models.TextField("说明", blank=True)
    measures = models.TextField("整改措施", blank=True)
    expected_on = models.DateField("预计完成日期", null=True, blank=True)

    class Meta:
        verbose_name = "整改办理记录"
        verbose_name_plural = "整改办理记录"
        ordering = ["acted_at", "id"]

    def __str__(self) -> str:
        return self.get_action_display()


class RectAttachment(AppendOnly):
    step = models.ForeignKey(RectStep, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField("文件", upload_to="supervision/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta:
        verbose_name = "整改附件"
        verbose_name_plural = "整改附件"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


# ---------------------------------------------------------------- numbered documents


class DocKind(models.TextChoices):
    SUPERVISE = "supervise", "督办单"
    INTERVIEW = "interview", "约谈通知"
    BULLETIN = "bulletin", "通报"


# The word in a 文号: 莲民督〔2026〕3号.
DOC_PREFIX = {DocKind.SUPERVISE: "莲民督", DocKind.INTERVIEW: "莲民约", DocKind.BULLETIN: "莲民通"}


class DocCounter(models.Model):
    """The last number given per year and kind; locked (select_for_update) while the next one is taken."""

    year = models.PositiveSmallIntegerField("年度")
    kind = models.CharField("文种", max_length=20, choices=DocKind.choices)
    last_number = models.PositiveIntegerField("已用至", default=0)

    class Meta:
        verbose_name = "文号计数"
        verbose_name_plural = "文号计数"
        constraints = [models.UniqueConstraint(fields=["year", "kind"], name="doccounter_one_per_year_kind")]

    def __str__(self) -> str:
        return f"{self.year} {self.get_kind_display()} {self.last_number}"


class SupervisionDocument(models.Model):
    """A 督办单 or 约谈通知 to one unit, with the findings it names frozen as they were on the day."""

    kind = models.CharField("文种", max_length=20, choices=DocKind.choices)
    year = models.PositiveSmallIntegerField("年度")
    number = models.PositiveIntegerField("序号")
    unit = models.CharField("责任单位", max_length=200)
    issued_on = models.DateField("发文日期")
    reply_by = models.DateField("整改反馈期限")
    findings = models.JSONField("所列问题", default=list)
    note = models.TextField("督导要求", blank=True)
    action = models.OneToOneField(
        "compliance.SupervisionAction", verbose_name="督导记录", on_delete=models.PROTECT, related_name="document"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="拟稿人", on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = "督办单/约谈通知"
        verbose_name_plural = "督办单/约谈通知"
        ordering = ["-year", "kind", "-number"]
        constraints = [
            # A 文号 is never given twice in a year, whatever the counter says.
            models.UniqueConstraint(fields=["year", "kind", "number"], name="supdoc_number_unique_per_year"),
            models.CheckConstraint(condition=Q(kind__in=["supervise", "interview"]), name="supdoc_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.doc_no

    @property
    def doc_no(self) -> str:
        return f"{DOC_PREFIX[DocKind(self.kind)]}〔{self.year}〕{self.number}号"


# ---------------------------------------------------------------- 通报


class BulletinState(models.TextChoices):
    DRAFT = "draft", "草稿"
    REVIEWED = "reviewed", "已审核"
    ISSUED = "issued", "已印发"


class Bulletin(models.Model):
    """A periodic 通报. Its figures are computed while it is a draft and frozen once issued."""

    period_start = models.DateField("统计起始日")
    period_end = models.DateField("统计截止日")
    title = models.CharField("标题", max_length=200)
    state = models.CharField("状态", max_length=20, choices=BulletinState.choices, default=BulletinState.DRAFT)
    figures = models.JSONField("统计数据", default=dict)
    remarks = models.TextField("通报意见", blank=True)
    year = models.PositiveSmallIntegerField("文号年度", null=True, blank=True)
    number = models.PositiveIntegerField("文号序号", null=True, blank=True)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="拟稿人", on_delete=models.PROTECT,
                                   related_name="+")
    drafted_at = models.DateTimeField("拟稿时间")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签发人", on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    issued_at = models.DateTimeField("印发时间", null=True, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "通报"
        verbose_name_plural = "通报"
        ordering = ["-period_end", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(period_start__lte=models.F("period_end")), name="bulletin_period_order"),
            models.CheckConstraint(condition=Q(state__in=[s.value for s in BulletinState]), name="bulletin_state_valid"),
            # An issued 通报 carries its 文号; a draft has none yet.
            models.CheckConstraint(
                condition=~Q(state="issued") | (Q(number__isnull=False) & Q(year__isnull=False)),
                name="bulletin_issued_has_number",
            ),
            models.UniqueConstraint(fields=["year", "number"], condition=Q(number__isnull=False),
                                    name="bulletin_number_unique_per_year"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def doc_no(self) -> str:
        if self.number is None:
            return "（印发时编号）"
        return f"{DOC_PREFIX[DocKind.BULLETIN]}〔{self.year}〕{self.number}号"
