"""措施十九's money: yearly 社区工作经费 per community and level, the district's
worker-salary funding (市 : 区 = 1 : 1), and 费随事转 items. Amounts in 元."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from communities.models import Community
from core.history import RecordHistory

MIN_YEAR = 2000
MAX_YEAR = 2100


class FundingLevel(models.TextChoices):
    CITY = "city", "市级配套"
    DISTRICT = "district", "区级配套"


class SalaryLevel(models.TextChoices):
    CITY = "city", "市级财政"
    DISTRICT = "district", "区级财政"


def _money(label: str, **kwargs):
    return models.DecimalField(label, max_digits=14, decimal_places=2, **kwargs)


def _check_year(errors: dict, year) -> None:
    if year is not None and not (MIN_YEAR <= year <= MAX_YEAR):
        errors.setdefault("year", []).append(
            ValidationError(f"年度应在 {MIN_YEAR}–{MAX_YEAR} 之间（填写了 {year}）。", code="year_range")
        )


def _check_money(errors: dict, obj, fields: tuple[str, ...]) -> None:
    for name in fields:
        value = getattr(obj, name)
        if value is not None and value < 0:
            label = obj._meta.get_field(name).verbose_name
            errors.setdefault(name, []).append(ValidationError(f"{label}不能为负数（填写了 {value}）。", code="money_negative"))


class Allocation(models.Model):
    """社区工作经费 of one community, one year, one level: planned (配套) and disbursed (已拨付)."""

    # Indexed as the first column of allocation_one_per_level_year.
    community = models.ForeignKey(
        Community, verbose_name="社区", on_delete=models.PROTECT, db_index=False, related_name="allocations"
    )
    year = models.PositiveSmallIntegerField("年度")
    level = models.CharField("层级", max_length=20, choices=FundingLevel.choices)
    planned = _money("配套金额（元）")
    disbursed = _money("已拨付（元）", default=0)
    note = models.CharField("备注", max_length=200, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "社区工作经费"
        verbose_name_plural = "社区工作经费"
        ordering = ["-year", "community_id", "level"]
        constraints = [
            models.UniqueConstraint(fields=["community", "year", "level"], name="allocation_one_per_level_year"),
            models.CheckConstraint(condition=Q(planned__gte=0) & Q(disbursed__gte=0), name="allocation_money_not_negative"),
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR, year__lte=MAX_YEAR), name="allocation_year_range"),
            models.CheckConstraint(condition=Q(level__in=FundingLevel.values), name="allocation_level_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.year}年{self.get_level_display()}"

    def validate_unique(self, exclude=None) -> None:
        super().validate_unique(exclude={*(exclude or ()), "community", "year", "level"})

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        _check_year(errors, self.year)
        _check_money(errors, self, ("planned", "disbursed"))
        if (
            self.community_id and self.year and self.level
            and Allocation.objects.filter(community_id=self.community_id, year=self.year, level=self.level)
            .exclude(pk=self.pk).exists()
        ):
            errors.setdefault("level", []).append(ValidationError(
                f"{self.community} {self.year}年的{self.get_level_display()}已有记录，请修改原记录。",
                code="allocation_exists",
            ))
        if errors:
            raise ValidationError(errors)


class Disbursement(models.Model):
    """One dated payment of an allocation. 措施十九's 足额保障 is judged on what was paid by a date, so each
    payment keeps its day; ``Allocation.disbursed`` is their running total, kept by the service."""

    # Indexed as the first column of disbursement_by_date.
    allocation = models.ForeignKey(Allocation, verbose_name="经费", on_delete=models.PROTECT, db_index=False,
                                   related_name="disbursements")
    paid_on = models.DateField("拨付日期")
    amount = _money("拨付金额（元）")
    note = models.CharField("备注", max_length=200, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "经费拨付"
        verbose_name_plural = "经费拨付"
        ordering = ["paid_on", "id"]
        constraints = [
            # A payment of nothing is no payment; a correction is a note on the allocation, not a negative row.
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount_positive"),
        ]
        indexes = [models.Index(fields=["allocation", "paid_on"], name="disbursement_by_date")]

    def __str__(self) -> str:
        return f"{self.allocation} {self.paid_on:%Y-%m-%d} 拨付 {self.amount} 元"

    def clean(self) -> None:
        from django.utils import timezone

        errors: dict[str, list[ValidationError]] = {}
        if self.amount is not None and self.amount <= 0:
            errors.setdefault("amount", []).append(
                ValidationError(f"拨付金额应大于 0（填写了 {self.amount}）。", code="amount_not_positive"))
        if self.paid_on and self.paid_on > timezone.localdate():
            errors.setdefault("paid_on", []).append(
                ValidationError(f"拨付日期不能晚于今天（{timezone.localdate():%Y-%m-%d}）。", code="date_in_future"))
        if self.paid_on and self.allocation_id and self.paid_on.year < self.allocation.year - 1:
            errors.setdefault("paid_on", []).append(ValidationError(
                f"拨付日期 {self.paid_on:%Y-%m-%d} 早于 {self.allocation.year} 年度经费的上一年。", code="paid_too_early"))
        if errors:
            raise ValidationError(errors)


class SalaryFunding(models.Model):
    """The district's yearly 社区工作者薪酬 funding from one level of finance."""

    year = models.PositiveSmallIntegerField("年度")
    level = models.CharField("承担层级", max_length=20, choices=SalaryLevel.choices)
    amount = _money("金额（元）")
    note = models.CharField("备注", max_length=200, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "社区工作者薪酬经费"
        verbose_name_plural = "社区工作者薪酬经费"
        ordering = ["-year", "level"]
        constraints = [
            models.UniqueConstraint(fields=["year", "level"], name="salary_one_per_level_year"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="salary_money_not_negative"),
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR, year__lte=MAX_YEAR), name="salary_year_range"),
            models.CheckConstraint(condition=Q(level__in=SalaryLevel.values), name="salary_level_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.get_level_display()}"

    def validate_unique(self, exclude=None) -> None:
        super().validate_unique(exclude={*(exclude or ()), "year", "level"})

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        _check_year(errors, self.year)
        _check_money(errors, self, ("amount",))
        if self.year and self.level and SalaryFunding.objects.filter(year=self.year, level=self.level).exclude(pk=self.pk).exists():
            errors.setdefault("level", []).append(ValidationError(
                f"{self.year}年{self.get_level_display()}的薪酬经费已有记录，请修改原记录。", code="salary_exists"
            ))
        if errors:
            raise ValidationError(errors)


class TaskFund(models.Model):
    """费随事转: a task outside the community's 工作事项清单, who asked, and the money that came with it."""

    community = models.ForeignKey(Community, verbose_name="社区", on_delete=models.PROTECT, related_name="task_funds")
    year = models.PositiveSmallIntegerField("年度")
    task = models.CharField("事项", max_length=200)
    department = models.CharField("交办部门", max_length=100)
    amount = _money("随转经费（元）")
    received_on = models.DateField("到账日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "费随事转事项"
        verbose_name_plural = "费随事转事项"
        ordering = ["-year", "community_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="taskfund_money_not_negative"),
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR, year__lte=MAX_YEAR), name="taskfund_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.task}"

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        _check_year(errors, self.year)
        _check_money(errors, self, ("amount",))
        if not (self.task or "").strip():
            errors.setdefault("task", []).append(ValidationError("请填写事项名称。", code="required"))
        if not (self.department or "").strip():
            errors.setdefault("department", []).append(ValidationError("请填写交办部门。", code="required"))
        if errors:
            raise ValidationError(errors)
