"""社区综合服务设施, 室外活动广场 and 嵌入式服务设施 (措施七、八、十六).

``Facility.clean()`` refuses data errors with stable codes; the constraints
repeat what SQL can state. Status changes go through the lifecycle table in
``facilities.lifecycle``, never through an edit form.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from communities.models import Community, _community_changed
from core.history import RecordHistory


class FacilityKind(models.TextChoices):
    CENTER = "center", "综合服务设施"
    PLAZA = "plaza", "室外活动广场"
    EMBEDDED = "embedded", "嵌入式服务设施"


class ServiceCategory(models.TextChoices):
    """The nine embedded-service categories of Xi'an; 措施十六 names the first four."""

    ELDERLY = "elderly", "养老服务"
    INFANT = "infant", "婴幼儿托育"
    CHILDCARE = "childcare", "儿童托管"
    MEALS = "meals", "社区助餐"
    HOUSEKEEPING = "housekeeping", "家政便民"
    HEALTH = "health", "健康服务"
    SPORTS = "sports", "体育健身"
    CULTURE = "culture", "文化休闲"
    PLAYGROUND = "playground", "儿童游憩"


# 措施十六's four: 养老服务、婴幼儿托育、儿童托管、社区助餐.
CORE_SERVICES = (ServiceCategory.ELDERLY, ServiceCategory.INFANT, ServiceCategory.CHILDCARE, ServiceCategory.MEALS)


class Acquisition(models.TextChoices):
    DEVELOPER = "developer", "开发配建"
    NEW = "new", "新建"
    EXPANSION = "expansion", "改扩建"
    PURCHASE = "purchase", "购买"
    LEASE = "lease", "租赁"
    TRANSFER = "transfer", "国资划拨"
    SHARED = "shared", "资源共享"


class FacilityStatus(models.TextChoices):
    PLANNED = "planned", "规划"
    BUILDING = "building", "在建"
    ACCEPTED = "accepted", "已验收"
    HANDED_OVER = "handed_over", "已移交"
    IN_USE = "in_use", "使用中"
    CLOSED = "closed", "停用"


# Clauses.md: only these statuses count toward M07.* and M16.*.
COUNTING_STATUSES = (FacilityStatus.HANDED_OVER.value, FacilityStatus.IN_USE.value)
_NO_ACCEPTANCE_YET = (FacilityStatus.PLANNED.value, FacilityStatus.BUILDING.value)
_NO_HANDOVER_YET = (*_NO_ACCEPTANCE_YET, FacilityStatus.ACCEPTED.value)


def _sqm(value) -> str:
    return format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)


def _area(label: str):
    return models.DecimalField(label, max_digits=12, decimal_places=2, null=True, blank=True)


class Facility(models.Model):
    code = models.CharField("设施编号", max_length=32, unique=True)
    # Indexed as the first column of facility_rule_scan.
    community = models.ForeignKey(
        Community, verbose_name="所属社区", on_delete=models.PROTECT, db_index=False, related_name="facilities"
    )
    name = models.CharField("设施名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=FacilityKind.choices)
    service_category = models.CharField(
        "服务类别", max_length=20, choices=ServiceCategory.choices, blank=True, help_text="仅嵌入式服务设施填写"
    )
    building_area = _area("建筑面积（㎡）")
    activity_area = _area("居民活动区域面积（㎡）")
    site_area = _area("场地面积（㎡）")
    acquisition = models.CharField("取得方式", max_length=20, choices=Acquisition.choices, blank=True)
    residential_utilities = models.BooleanField(
        "水电气暖执行居民价格", null=True, blank=True, help_text="措施十九：水、电、气、暖执行居民生活类价格"
    )
    # 措施十九: the 社区用房's 物业服务收费 is not above the residential fee of the compound it stands in.
    compound = models.ForeignKey(
        "communities.Compound", verbose_name="所在小区", on_delete=models.PROTECT, null=True, blank=True,
        related_name="facilities", help_text="设施位于某个小区内时选择，用于核对物业服务收费",
    )
    property_fee = models.DecimalField(
        "物业服务收费（元/㎡·月）", max_digits=6, decimal_places=2, null=True, blank=True,
        help_text="措施十九：不超过所在小区住宅类物业服务收费标准",
    )
    status = models.CharField("状态", max_length=20, choices=FacilityStatus.choices, default=FacilityStatus.PLANNED)
    accepted_on = models.DateField("验收日期", null=True, blank=True)
    handed_over_on = models.DateField("移交日期", null=True, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "社区服务设施"
        verbose_name_plural = "社区服务设施"
        ordering = ["community_id", "code"]
        indexes = [models.Index(fields=["community", "kind", "status"], name="facility_rule_scan")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(building_area__isnull=True) | Q(building_area__gte=0))
                & (Q(activity_area__isnull=True) | Q(activity_area__gte=0))
                & (Q(site_area__isnull=True) | Q(site_area__gte=0)),
                name="facility_areas_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(activity_area__isnull=True) | Q(activity_area__lte=F("building_area")),
                name="facility_activity_within_building",
            ),
            models.CheckConstraint(
                condition=Q(handed_over_on__isnull=True)
                | Q(accepted_on__isnull=False, handed_over_on__gte=F("accepted_on")),
                name="facility_handover_after_acceptance",
            ),
            models.CheckConstraint(
                condition=Q(kind="embedded", service_category__gt="") | (~Q(kind="embedded") & Q(service_category="")),
                name="facility_category_iff_embedded",
            ),
            models.CheckConstraint(
                condition=~Q(kind="plaza") | Q(building_area__isnull=True) | Q(building_area=0),
                name="facility_plaza_no_building",
            ),
            models.CheckConstraint(condition=Q(kind__in=FacilityKind.values), name="facility_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=FacilityStatus.values), name="facility_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}

        def add(field: str, message: str, code: str) -> None:
            errors.setdefault(field, []).append(ValidationError(message, code=code))

        if not (self.code or "").strip():
            add("code", "设施编号不能为空。", "required")
        for field in ("building_area", "activity_area", "site_area"):
            value = getattr(self, field)
            if value is not None and value < 0:
                label = self._meta.get_field(field).verbose_name  # type: ignore[union-attr]  # a concrete field
                add(field, f"{label}不能为负数（填写了 {value}）。", "area_negative")
        if self.property_fee is not None and self.property_fee < 0:
            add("property_fee", f"物业服务收费不能为负数（填写了 {self.property_fee}）。", "fee_negative")
        if (self.compound is not None and self.community_id
                and self.compound.community_id not in (None, self.community_id)):
            add("compound", f"小区“{self.compound}”不属于设施所属社区。", "compound_other_community")
        if self.activity_area is not None and self.activity_area > 0:
            if self.building_area is None:
                add("activity_area", "填写居民活动区域面积时必须填写建筑面积。", "activity_exceeds_building")
            elif self.activity_area > self.building_area:
                add(
                    "activity_area",
                    f"居民活动区域面积 {_sqm(self.activity_area)}㎡ 不能大于建筑面积 {_sqm(self.building_area)}㎡。",
                    "activity_exceeds_building",
                )
        if self.kind == FacilityKind.EMBEDDED and not self.service_category:
            add("service_category", "嵌入式服务设施必须选择服务类别。", "service_category_required")
        if self.kind and self.kind != FacilityKind.EMBEDDED and self.service_category:
            add("service_category", "只有嵌入式服务设施填写服务类别。", "service_category_not_embedded")
        if self.kind == FacilityKind.PLAZA and self.building_area:
            add("building_area", "室外活动广场没有建筑面积，请把面积填在“场地面积”。", "plaza_building_area")
        today = timezone.localdate()
        for field, label in (("accepted_on", "验收日期"), ("handed_over_on", "移交日期")):
            value = getattr(self, field)
            if value and value > today:
                add(field, f"{label}不能晚于今天（{today:%Y-%m-%d}）。", "date_in_future")
        if self.handed_over_on and not self.accepted_on:
            add("handed_over_on", "填写移交日期前须先有验收日期：未经验收不得移交。", "handover_before_acceptance")
        elif self.handed_over_on and self.accepted_on and self.handed_over_on < self.accepted_on:
            add(
                "handed_over_on",
                f"移交日期 {self.handed_over_on:%Y-%m-%d} 早于验收日期 {self.accepted_on:%Y-%m-%d}。",
                "handover_before_acceptance",
            )
        if self.accepted_on and self.status in _NO_ACCEPTANCE_YET:
            add("accepted_on", f"状态为“{self.get_status_display()}”的设施不应有验收日期。", "date_status_mismatch")
        if self.handed_over_on and self.status in _NO_HANDOVER_YET:
            add("handed_over_on", f"状态为“{self.get_status_display()}”的设施不应有移交日期。", "date_status_mismatch")
        # Facilities that stayed with a community when it was revoked keep their place; a new one may not go there.
        if self.community_id and self.community.is_revoked and _community_changed(self):
            add("community", "不能为已撤销的社区登记设施。", "community_revoked")
        if errors:
            raise ValidationError(errors)

    @property
    def counts(self) -> bool:
        return self.status in COUNTING_STATUSES


class FacilityStep(models.Model):
    """One lifecycle step as it happened: never edited, never deleted."""

    facility = models.ForeignKey(Facility, verbose_name="设施", on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField("原状态", max_length=20, choices=FacilityStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=20, choices=FacilityStatus.choices)
    step = models.CharField("环节", max_length=30)
    unit = models.CharField("办理单位", max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="办理人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    on = models.DateField("办理日期")
    at = models.DateTimeField("记录时间", default=timezone.now)
    note = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = "设施流程记录"
        verbose_name_plural = "设施流程记录"
        ordering = ["facility_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.facility.code} {self.step}"
