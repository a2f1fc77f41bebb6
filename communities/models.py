"""街道办事处, 社区 and 小区/院落: the district's structure.

Validation lives in each model's ``clean()`` so that forms, services and the
workbook import refuse the same bad data with the same error codes; the
constraints below repeat what SQL can state, so a bug elsewhere cannot write
it either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from core.constraints import exactly
from core.history import RecordHistory

# 措施四's defaults, used only when no bounds are given; the dated, editable values are M04.households'
# parameters (compliance.parameters.scale_bounds), shared by 措施六's rules and the 规模 label.
MIN_HOUSEHOLDS = 1000
MAX_HOUSEHOLDS = 5000


def current_scale_bounds(day=None) -> tuple[int, int]:
    """The 户数 bounds in force on ``day`` (today by default), read from the rules engine's parameters."""
    from compliance.parameters import scale_bounds  # the engine stands on this app; read it late

    return scale_bounds(day or _today())


def _today():
    return timezone.localdate()


def _no_future(errors: dict, field: str, value, label: str) -> None:
    if value and value > _today():
        errors.setdefault(field, []).append(
            ValidationError(f"{label}不能晚于今天（{_today():%Y-%m-%d}）。", code="date_in_future")
        )


class SubDistrict(models.Model):
    """街道办事处, keyed by its 9-digit NBS code."""

    code = models.CharField("街道代码", max_length=9, unique=True)
    name = models.CharField("街道办事处", max_length=50, unique=True)
    clerk_group = models.OneToOneField(
        Group, verbose_name="街办办事员组", on_delete=models.PROTECT, null=True, blank=True, related_name="sub_district"
    )
    history = RecordHistory()

    class Meta:
        verbose_name = "街道办事处"
        verbose_name_plural = "街道办事处"
        ordering = ["code"]
        constraints = [
            # An NBS 街道 code is the county's 6 digits plus 3.
            models.CheckConstraint(condition=exactly("code", "0-9", 9), name="subdistrict_code_9_digits"),
        ]

    def __str__(self) -> str:
        return self.name


class CommunityStatus(models.TextChoices):
    PREPARING = "preparing", "筹建"
    ACTIVE = "active", "正常"
    REVOKED = "revoked", "撤销"


class PartyOrgType(models.TextChoices):
    BRANCH = "branch", "党支部"
    GENERAL_BRANCH = "general_branch", "党总支"
    COMMITTEE = "committee", "党委"


class Scale(models.TextChoices):
    MICRO = "micro", "微型"
    MODERATE = "moderate", "适度"
    OVERSIZED = "oversized", "超大型"


def scale_for(households: int, bounds: tuple[int, int] = (MIN_HOUSEHOLDS, MAX_HOUSEHOLDS)) -> str:
    low, high = bounds
    if households < low:
        return Scale.MICRO
    if households > high:
        return Scale.OVERSIZED
    return Scale.MODERATE


class CommunityQuerySet(models.QuerySet):
    def judged(self, as_of: dt.date | None = None) -> CommunityQuerySet:
        """Communities the rules judge: every one not 撤销 (``as_of`` None: as the record stands now).

        On a date D (docs/clauses.md, "Which communities are judged on D"): founded or approved on or before
        D (a community with neither date is taken as always there) and not revoked on or before D, so a
        replay of the past judges a community revoked since and not one founded since."""
        if as_of is None:
            return self.exclude(status=CommunityStatus.REVOKED)
        started = (Q(founded_on__isnull=True, approved_on__isnull=True) | Q(founded_on__lte=as_of)
                   | Q(approved_on__lte=as_of))
        return self.filter(started, Q(revoked_on__isnull=True) | Q(revoked_on__gt=as_of))

    def with_scale(self, bounds: tuple[int, int] | None = None) -> CommunityQuerySet:
        """Annotates ``scale_class`` by the bounds given, or those in force today."""
        low, high = bounds or current_scale_bounds()
        return self.annotate(
            scale_class=Case(
                When(households__lt=low, then=Value(Scale.MICRO)),
                When(households__gt=high, then=Value(Scale.OVERSIZED)),
                default=Value(Scale.MODERATE),
                output_field=models.CharField(),
            )
        )


class Community(models.Model):
    """社区 (社区居委会), keyed by its 12-digit NBS code."""

    # Unique by the constraint in Meta, not unique=True, and the 街办 column indexed by Meta.indexes, not db_index:
    # the field options add a LIKE index (varchar_pattern_ops) each, and their copies on the history table two
    # more, that no query uses; a 社区 import wrote all six for every row.
    code = models.CharField("社区代码", max_length=12, help_text="12位统计用区划代码，前9位为所属街道代码")
    name = models.CharField("社区名称", max_length=60)
    sub_district = models.ForeignKey(
        SubDistrict,
        verbose_name="街道办事处",
        on_delete=models.PROTECT,
        related_name="communities",
        to_field="code",
        db_column="sub_district_code",
        db_index=False,
    )
    households = models.PositiveIntegerField("户数", default=0)
    population = models.PositiveIntegerField("常住人口", default=0)
    founded_on = models.DateField("成立日期", null=True, blank=True)
    approved_on = models.DateField("批复日期", null=True, blank=True, help_text="经八步审批设立的社区的区政府批复日期")
    election_on = models.DateField("两委选举日期", null=True, blank=True)
    party_org_type = models.CharField(
        "党组织类型", max_length=20, choices=PartyOrgType.choices, default=PartyOrgType.BRANCH
    )
    east = models.CharField("东至", max_length=200, blank=True)
    south = models.CharField("南至", max_length=200, blank=True)
    west = models.CharField("西至", max_length=200, blank=True)
    north = models.CharField("北至", max_length=200, blank=True)
    social_org_count = models.PositiveIntegerField("社会组织数", default=0)
    has_property_committee = models.BooleanField("环境和物业管理委员会", default=False)
    status = models.CharField("状态", max_length=20, choices=CommunityStatus.choices, default=CommunityStatus.ACTIVE)
    revoked_on = models.DateField("撤销日期", null=True, blank=True)
    # Two marks, not one: a clerk who corrects 户数 has not vouched for 人口 (issue 13).
    figures_are_sample = models.BooleanField(
        "户数为示例值", default=False, help_text="演示数据：户数不是公开发布的数字"
    )
    population_is_sample = models.BooleanField(
        "常住人口为示例值", default=False, help_text="演示数据：常住人口不是公开发布的数字"
    )
    history = RecordHistory()

    objects = CommunityQuerySet.as_manager()

    class Meta:
        verbose_name = "社区"
        verbose_name_plural = "社区"
        ordering = ["code"]
        constraints = [
            # The code is the national statistical code: exactly 12 digits.
            models.CheckConstraint(condition=exactly("code", "0-9", 12), name="community_code_12_digits"),
            # Its first 9 digits are the code of the 街办 it belongs to.
            # Its first 9 digits are the code of the 街办 it belongs to (the FK holds that code).
            models.CheckConstraint(condition=Q(code__startswith=F("sub_district_id")), name="community_code_prefix"),
            # A community cannot have fewer residents than households.
            models.CheckConstraint(
                condition=Q(population__gte=F("households")), name="community_population_gte_households"
            ),
            # A 撤销 community keeps its date; a live one has none.
            models.CheckConstraint(
                condition=Q(status="revoked", revoked_on__isnull=False) | (~Q(status="revoked") & Q(revoked_on__isnull=True)),
                name="community_revoked_has_date",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in CommunityStatus]), name="community_status_valid"
            ),
            models.UniqueConstraint(fields=["code"], name="community_code_unique"),
        ]
        indexes = [models.Index(fields=["sub_district"], name="community_sub_district")]

    def __str__(self) -> str:
        return self.name

    @property
    def scale(self) -> str:
        # A list annotated by with_scale() already knows it; a single page reads today's bounds once.
        annotated = getattr(self, "scale_class", None)
        return annotated or scale_for(self.households, current_scale_bounds())

    def get_scale_display(self) -> str:
        return Scale(self.scale).label

    @property
    def is_revoked(self) -> bool:
        return self.status == CommunityStatus.REVOKED

    def validate_unique(self, exclude=None) -> None:
        # clean() reports a taken or retired code with its own error code.
        super().validate_unique(exclude={*(exclude or ()), "code"})

    # The constraints clean() and the field checks report themselves, with a coded Chinese message each: the
    # error code that stands for each. full_clean() does not check them again: Django asks the database once per
    # check constraint (five queries with every field as a parameter, twice a form save: the form, then the
    # service), and its message would only repeat clean()'s. The database keeps them all as the backstop
    # (tests/communities/test_models.py feeds each a row that breaks it alone).
    CONSTRAINTS_CLEAN_REPORTS = {
        "community_code_unique": "code_taken",
        "community_code_12_digits": "code_format",
        "community_code_prefix": "code_prefix",
        "community_population_gte_households": "population_below_households",
        "community_revoked_has_date": "revoked_on_required",
        "community_status_valid": "invalid_choice",
    }

    def get_constraints(self):
        return [(model, [c for c in constraints if c.name not in self.CONSTRAINTS_CLEAN_REPORTS])
                for model, constraints in super().get_constraints()]

    def clean(self, codes: KnownCodes | None = None) -> None:
        """The checks of ``community_problems``; ``codes``: the codes in use and retired, read once by a writer of
        many rows (the workbook import), or None to read this row's code from the database (a form)."""
        errors = community_problems(vars(self), codes=codes, today=_today())
        if errors:
            raise ValidationError(errors)


def community_problems(values: Mapping[str, Any], *, codes: KnownCodes | None,
                       today: dt.date) -> dict[str, list[ValidationError]]:
    """What Community.clean() refuses, read from a row's values by attname (``vars(community)`` or a parsed
    import row): one function for the form and the import, so both refuse the same rows with the same codes."""
    errors: dict[str, list[ValidationError]] = {}
    code = values.get("code") or ""
    pk = values.get("id")
    sub_district_id = values.get("sub_district_id")
    if not (len(code) == 12 and code.isdigit()):
        errors["code"] = [ValidationError("社区代码必须是12位数字。", code="code_format")]
    else:
        if codes is None:
            codes = KnownCodes.read([code], exclude_pk=pk)
        other = codes.taken.get(code)
        if other is not None and (pk is None or other.pk != pk):
            if other.is_revoked:
                message = f"社区代码 {code} 属于已撤销的“{other.name}”，撤销的代码不得再用。"
                errors["code"] = [ValidationError(message, code="code_reused")]
            else:
                errors["code"] = [ValidationError(f"社区代码 {code} 已被“{other.name}”使用。", code="code_taken")]
        elif (holder := codes.retired.get(code)) is not None and holder != pk:
            errors["code"] = [ValidationError(f"社区代码 {code} 曾经使用过，不得再用。", code="code_reused")]
        elif sub_district_id and not code.startswith(sub_district_id):
            errors["code"] = [ValidationError(f"社区代码前9位应为所属街道代码 {sub_district_id}。", code="code_prefix")]
    revoked, revoked_on = values.get("status") == CommunityStatus.REVOKED, values.get("revoked_on")
    if revoked and not revoked_on:
        errors["revoked_on"] = [ValidationError("状态为撤销时须填写撤销日期。", code="revoked_on_required")]
    elif revoked_on and not revoked:
        errors["revoked_on"] = [ValidationError("未撤销的社区不应有撤销日期。", code="revoked_on_unexpected")]
    population, households = values.get("population"), values.get("households")
    if population is not None and households is not None and population < households:
        errors["population"] = [ValidationError(f"常住人口（{population}）不能少于户数（{households}）。",
                                                code="population_below_households")]
    for field, label in (("founded_on", "成立日期"), ("approved_on", "批复日期"), ("election_on", "两委选举日期"),
                         ("revoked_on", "撤销日期")):
        day = values.get(field)
        if day and day > today:
            errors[field] = [ValidationError(f"{label}不能晚于今天（{today:%Y-%m-%d}）。", code="date_in_future")]
    return errors


@dataclass(frozen=True)
class KnownCodes:
    """Codes in use (code → its 社区) and retired codes (code → the 社区 that gave it up): what
    ``community_problems`` checks a code against. A writer of many rows reads them all once and passes them."""

    taken: Mapping[str, Community]
    retired: Mapping[str, int]

    @classmethod
    def read(cls, codes: Iterable[str] | None = None, *, exclude_pk: Any = None) -> KnownCodes:
        """The given codes as the database holds them now (None: every code)."""
        taken = Community.objects.all()
        retired = RetiredCommunityCode.objects.all()
        if codes is not None:
            codes = list(codes)
            taken, retired = taken.filter(code__in=codes), retired.filter(code__in=codes)
        if exclude_pk is not None:
            taken, retired = taken.exclude(pk=exclude_pk), retired.exclude(community_id=exclude_pk)
        return cls(taken={c.code: c for c in taken}, retired=dict(retired.values_list("code", "community_id")))


class RetiredCommunityCode(models.Model):
    """A code a community gave up when it moved to another 街办: never issued again."""

    code = models.CharField("原社区代码", max_length=12, unique=True)
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="retired_codes")
    retired_at = models.DateTimeField("停用时间", default=timezone.now)

    class Meta:
        verbose_name = "停用的社区代码"
        verbose_name_plural = "停用的社区代码"

    def __str__(self) -> str:
        return self.code


class PropertyService(models.TextChoices):
    MARKET = "market", "市场化物业"
    SELF = "self", "居民自管"
    STATE = "state", "国企兜底"
    EMPLOYER = "employer", "单位自管"
    NONE = "none", "无"


class RulingAuthority(models.TextChoices):
    DISTRICT = "district", "区民政局"
    CITY = "city", "市民政局"


def _community_changed(obj: Any, stored: Mapping[Any, Any] | None = None) -> bool:
    """True when ``obj`` (a Compound or Facility: any model with a ``community`` FK) is new or its community differs
    from the stored one. ``stored``: pk → stored community id, read once by a writer of many rows."""
    if obj._state.adding or obj.pk is None:
        return True
    if stored is not None:
        return stored.get(obj.pk) != obj.community_id
    stored_id = type(obj).objects.filter(pk=obj.pk).values_list("community_id", flat=True).first()
    return stored_id != obj.community_id


class Compound(models.Model):
    """小区/院落. A compound not yet assigned to a community still lies in a 街办."""

    code = models.CharField("小区编号", max_length=32, unique=True)
    name = models.CharField("小区名称", max_length=100)
    community = models.ForeignKey(
        Community, verbose_name="所属社区", on_delete=models.PROTECT, null=True, blank=True, related_name="compounds"
    )
    sub_district = models.ForeignKey(
        SubDistrict,
        verbose_name="所在街道",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="compounds",
        help_text="已划入社区的小区随社区所属街道",
    )
    households = models.PositiveIntegerField("户数", default=0)
    built_on = models.DateField("建成日期", null=True, blank=True)
    must_provide_facility = models.BooleanField("应配建社区用房", default=False)
    facility_provided = models.BooleanField("已提供社区用房", default=False)
    property_service = models.CharField(
        "物业服务方式", max_length=20, choices=PropertyService.choices, default=PropertyService.NONE
    )
    jurisdiction_unclear = models.BooleanField("管理主体未明确", default=False)
    unclear_since = models.DateField("未明确登记日期", null=True, blank=True)
    ruling = models.CharField("裁定结果", max_length=200, blank=True)
    ruling_authority = models.CharField(
        "裁定机关", max_length=20, choices=RulingAuthority.choices, blank=True
    )
    ruling_on = models.DateField("裁定日期", null=True, blank=True)
    # 措施十八: a 单位自管 compound signs a 共建共管协议 with the community.
    co_management_signed_on = models.DateField("共建共管协议签订日期", null=True, blank=True)
    # 措施十九: the residential 物业服务收费标准 that caps the fee of a 社区用房 in the compound.
    residential_property_fee = models.DecimalField(
        "住宅物业服务收费标准（元/㎡·月）", max_digits=6, decimal_places=2, null=True, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "小区/院落"
        verbose_name_plural = "小区/院落"
        ordering = ["code"]
        constraints = [
            # A recorded ruling names who ruled and when.
            models.CheckConstraint(
                condition=Q(ruling_on__isnull=True) | ~Q(ruling_authority=""),
                name="compound_ruling_has_authority",
            ),
            models.CheckConstraint(
                condition=Q(property_service__in=[c.value for c in PropertyService]),
                name="compound_property_service_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self, stored: Mapping[Any, Any] | None = None, today: dt.date | None = None) -> None:
        """``stored``: pk → stored community id of the compounds being changed, read once by a writer of many rows
        (the workbook import); None: this row's is read from the database when it matters (a form)."""
        errors = compound_problems(self, today=today or _today(), stored=stored)
        if errors:
            raise ValidationError(errors)


def compound_problems(compound: Compound, *, today: dt.date,
                      stored: Mapping[Any, Any] | None) -> dict[str, list[ValidationError]]:
    """What Compound.clean() refuses: the form and the import call this one function."""
    errors: dict[str, list[ValidationError]] = {}
    if not (compound.code or "").strip():
        errors.setdefault("code", []).append(ValidationError("小区编号不能为空。", code="required"))
    for field, label in (("built_on", "建成日期"), ("ruling_on", "裁定日期"), ("unclear_since", "未明确登记日期"),
                         ("co_management_signed_on", "共建共管协议签订日期")):
        day = getattr(compound, field)
        if day and day > today:
            errors.setdefault(field, []).append(
                ValidationError(f"{label}不能晚于今天（{today:%Y-%m-%d}）。", code="date_in_future"))
    fee = compound.residential_property_fee
    if fee is not None and fee < 0:
        errors.setdefault("residential_property_fee", []).append(ValidationError(
            f"物业服务收费标准不能为负数（填写了 {fee}）。", code="fee_negative"))
    if compound.ruling_on and not compound.ruling_authority:
        errors.setdefault("ruling_authority", []).append(
            ValidationError("已填写裁定日期，请选择裁定机关（区民政局或市民政局）。", code="ruling_authority_required")
        )
    # Only a new assignment is refused: compounds that stayed with a community when it was revoked
    # keep their (historical) place and may still be edited.
    community = compound.community
    if community is not None and community.is_revoked and _community_changed(compound, stored):
        errors.setdefault("community", []).append(
            ValidationError("不能把小区划入已撤销的社区。", code="community_revoked")
        )
    return errors


class AdjustmentKind(models.TextChoices):
    SPLIT = "split", "拆分"
    MERGE = "merge", "合并"
    DEFER = "defer", "暂不调整"


class CommunityAdjustment(models.Model):
    """措施六: the plan for an 超大型 or 微型 community."""

    community = models.ForeignKey(
        Community, verbose_name="社区", on_delete=models.PROTECT, related_name="adjustments"
    )
    kind = models.CharField("调整方式", max_length=20, choices=AdjustmentKind.choices)
    reason = models.TextField("理由", blank=True)
    planned_on = models.DateField("计划日期", null=True, blank=True)
    recorded_on = models.DateField("登记日期", default=_today)
    # 措施六 names a plan: 7 超大型 to split and 8 微型 to merge. M06.district_adjustment counts these only.
    in_district_plan = models.BooleanField("列入全区调整计划（7个超大型、8个微型）", default=False)
    history = RecordHistory()

    class Meta:
        verbose_name = "社区调整记录"
        verbose_name_plural = "社区调整记录"
        ordering = ["-recorded_on", "-id"]
        constraints = [
            # 暂不调整 must say why (措施六: 不搞一刀切, but with a reason).
            models.CheckConstraint(condition=~Q(kind="defer") | ~Q(reason=""), name="adjustment_defer_has_reason"),
            # The plan splits or merges: a 暂不调整 is no part of it.
            models.CheckConstraint(condition=~Q(kind="defer") | Q(in_district_plan=False),
                                   name="adjustment_plan_not_deferred"),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.get_kind_display()}"

    def clean(self) -> None:
        if self.kind == AdjustmentKind.DEFER and not (self.reason or "").strip():
            raise ValidationError({"reason": ValidationError("选择“暂不调整”时必须填写理由。", code="defer_reason_required")})
        if self.kind == AdjustmentKind.DEFER and self.in_district_plan:
            raise ValidationError({"in_district_plan": ValidationError(
                "“暂不调整”的社区不能列入全区调整计划（计划只含拆分和合并）。", code="plan_deferred")})


class MonitoringPoint(models.Model):
    """措施十七: a 减负增效监测点 the district designated (12 across the district)."""

    community = models.OneToOneField(
        Community, verbose_name="社区", on_delete=models.PROTECT, related_name="monitoring_point"
    )
    designated_on = models.DateField("确定日期")
    note = models.CharField("备注", max_length=200, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "减负增效监测点"
        verbose_name_plural = "减负增效监测点"
        ordering = ["designated_on", "id"]

    def __str__(self) -> str:
        return f"{self.community}（减负增效监测点）"

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        _no_future(errors, "designated_on", self.designated_on, "确定日期")
        if self.community_id and self.community.is_revoked:
            errors.setdefault("community", []).append(
                ValidationError("已撤销的社区不能确定为监测点。", code="community_revoked")
            )
        if errors:
            raise ValidationError(errors)


class TypicalCaseKind(models.TextChoices):
    SOCIAL_ORG = "social_org", "社会组织参与治理"
    CONSULTATION = "consultation", "议事协商"


# A floor that catches a mistyped year (202, 1925) at save time.
MIN_CASE_YEAR = 2000


class TypicalCase(models.Model):
    """措施十七: a selected 典型案例 (社会组织参与社区治理, or 议事协商 chosen each year)."""

    kind = models.CharField("类别", max_length=20, choices=TypicalCaseKind.choices)
    title = models.CharField("案例名称", max_length=200)
    community = models.ForeignKey(
        Community, verbose_name="社区", on_delete=models.PROTECT, related_name="typical_cases"
    )
    year = models.PositiveSmallIntegerField("评选年度")
    history = RecordHistory()

    class Meta:
        verbose_name = "典型案例"
        verbose_name_plural = "典型案例"
        ordering = ["-year", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[c.value for c in TypicalCaseKind]), name="typicalcase_kind_valid"
            ),
            models.CheckConstraint(condition=Q(year__gte=MIN_CASE_YEAR), name="typicalcase_year_min"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.get_kind_display()}：{self.title}"

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        if not (self.title or "").strip():
            errors.setdefault("title", []).append(ValidationError("案例名称不能为空。", code="required"))
        if self.year is not None and not (MIN_CASE_YEAR <= self.year <= _today().year):
            errors.setdefault("year", []).append(
                ValidationError(f"评选年度应在 {MIN_CASE_YEAR}–{_today().year} 之间。", code="year_out_of_range")
            )
        if errors:
            raise ValidationError(errors)
