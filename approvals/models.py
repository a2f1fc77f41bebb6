"""Establishment requests (新设 / 拆分 / 合并) and their append-only step history.

The flow itself (which state follows which, who may act, what must hold) is
the table in ``approvals.flow``; these models only keep what happened.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from communities.models import Community, Compound, PartyOrgType, SubDistrict
from core.append_only import AppendOnly as _AppendOnly


class RequestKind(models.TextChoices):
    NEW = "new", "新设"
    SPLIT = "split", "拆分"
    MERGE = "merge", "合并"


class State(models.TextChoices):
    """Where a request waits: the step whose action is due next."""

    DRAFT = "draft", "第1步 街办申报"
    DISTRICT_REVIEW = "district_review", "第2步 区民政局审核"
    CITY_CONSULT = "city_consult", "第3步 征求市民政局意见"
    CITY_OPINION = "city_opinion", "第4步 市民政局反馈意见"
    REPORT = "report", "第5步 报区政府"
    GOV_APPROVAL = "gov_approval", "第6步 区政府常务会审批"
    INSPECTION = "inspection", "第7步 选举与验收"
    CERTIFICATION = "certification", "第8步 年终报送与赋码"
    COMPLETED = "completed", "已完成"


class EstablishmentRequest(models.Model):
    kind = models.CharField("申请类型", max_length=10, choices=RequestKind.choices)
    sub_district = models.ForeignKey(
        SubDistrict, verbose_name="街道办事处", on_delete=models.PROTECT, related_name="establishment_requests",
        to_field="code", db_column="sub_district_code",
    )
    title = models.CharField("申请名称", max_length=120)
    reason = models.TextField("申请理由", blank=True)
    state = models.CharField("当前环节", max_length=20, choices=State.choices, default=State.DRAFT)
    state_since = models.DateTimeField("进入当前环节时间", default=timezone.now)
    sources = models.ManyToManyField(
        Community, verbose_name="原社区", blank=True, related_name="establishment_requests_as_source"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申报人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "社区设立审批"
        verbose_name_plural = "社区设立审批"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=[c.value for c in RequestKind]), name="request_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=[c.value for c in State]), name="request_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.title}"


class ProposedCommunity(models.Model):
    """A community the request would bring into being (the new one, a split part, the merged result)."""

    request = models.ForeignKey(EstablishmentRequest, on_delete=models.CASCADE, related_name="parts")
    code = models.CharField("社区代码", max_length=12)
    name = models.CharField("社区名称", max_length=60)
    households = models.PositiveIntegerField("户数")
    population = models.PositiveIntegerField("常住人口")
    party_org_type = models.CharField(
        "党组织类型", max_length=20, choices=PartyOrgType.choices, default=PartyOrgType.BRANCH
    )
    east = models.CharField("东至", max_length=200, blank=True)
    south = models.CharField("南至", max_length=200, blank=True)
    west = models.CharField("西至", max_length=200, blank=True)
    north = models.CharField("北至", max_length=200, blank=True)
    compounds = models.ManyToManyField(Compound, verbose_name="小区/院落", blank=True, related_name="+")
    community = models.ForeignKey(
        Community, verbose_name="设立的社区", on_delete=models.PROTECT, null=True, blank=True,
        related_name="establishment_parts",
    )
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)

    class Meta:
        verbose_name = "拟设社区"
        verbose_name_plural = "拟设社区"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["credit_code"], condition=~Q(credit_code=""), name="part_credit_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class AppendOnly(_AppendOnly):
    """A history row of this app: written once, never changed or removed."""

    append_only_label = "审批记录"

    class Meta:
        abstract = True


class Action(models.TextChoices):
    ADVANCE = "advance", "通过"
    SEND_BACK = "send_back", "退回"


class StepRecord(AppendOnly):
    request = models.ForeignKey(EstablishmentRequest, on_delete=models.PROTECT, related_name="records")
    step = models.PositiveSmallIntegerField("步骤")
    action = models.CharField("办理结果", max_length=10, choices=Action.choices)
    from_state = models.CharField("原环节", max_length=20, choices=State.choices)
    to_state = models.CharField("新环节", max_length=20, choices=State.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT, related_name="+")
    acted_at = models.DateTimeField("办理时间", default=timezone.now)
    opinion = models.TextField("意见", blank=True)
    document_no = models.CharField("文号", max_length=100, blank=True)
    decided_on = models.DateField("决定日期", null=True, blank=True)
    data = models.JSONField("登记事项", default=dict, blank=True)

    class Meta:
        verbose_name = "审批记录"
        verbose_name_plural = "审批记录"
        ordering = ["acted_at", "id"]

    def __str__(self) -> str:
        return f"第{self.step}步 {self.get_action_display()}"


class Attachment(AppendOnly):
    record = models.ForeignKey(StepRecord, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField("文件", upload_to="approvals/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta:
        verbose_name = "审批附件"
        verbose_name_plural = "审批附件"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class StepDeadline(models.Model):
    """Days a request may wait at a step before it is overdue (defaults in ``approvals.flow``)."""

    state = models.CharField("环节", max_length=20, choices=State.choices, unique=True)
    days = models.PositiveSmallIntegerField("办理时限（天）")

    class Meta:
        verbose_name = "环节办理时限"
        verbose_name_plural = "环节办理时限"
        ordering = ["state"]

    def __str__(self) -> str:
        return f"{self.get_state_display()}：{self.days}天"
