"""User-scoped reads of funding records, and the yearly table."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Case, DecimalField, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import Unit, units_of
from accounts.roles import is_admin
from communities.selectors import communities_for_user

from .models import Allocation, FundingLevel, SalaryFunding, TaskFund

MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)
ENTRY_UNITS = {Unit.FINANCE.value, Unit.CIVIL_AFFAIRS.value}


def may_enter_funding(user) -> bool:
    """措施十九's leads, 区财政局 and 区民政局, enter the money."""
    return is_admin(user) or bool(units_of(user) & ENTRY_UNITS)


def allocations_for_user(user) -> QuerySet[Allocation]:
    return Allocation.objects.filter(community__in=communities_for_user(user))


def task_funds_for_user(user) -> QuerySet[TaskFund]:
    return TaskFund.objects.filter(community__in=communities_for_user(user))


def _level(field: str, level: str, year: int) -> Subquery:
    sub = Allocation.objects.filter(community=OuterRef("pk"), year=year, level=level).values(field)[:1]
    return Subquery(sub, output_field=MONEY)


def _gap(planned: str, standard: Decimal):
    """The shortfall as SQL, the same as the figure shown (未登记 counts as the whole standard): a column to sort by."""
    return Greatest(Value(standard, output_field=MONEY) - Coalesce(planned, Value(Decimal("0")), output_field=MONEY),
                    Value(Decimal("0")), output_field=MONEY)


def funding_table(user, year: int, standards: dict[str, Decimal], order: Sequence = ("code",)) -> dict[str, Any]:
    """One row per visible community (not 撤销), grouped by 街办, with shortfalls against the standard.

    ``order``: how rows sit inside each 街办 (ORDER BY terms over the row's columns and the annotations
    below, from the view's sort headers); the 街办 stay in code order."""
    tasks = (
        TaskFund.objects.filter(community=OuterRef("pk"), year=year).order_by().values("community")
        .annotate(total=Sum("amount")).values("total")
    )
    rows = (
        communities_for_user(user).judged().select_related("sub_district")
        .annotate(
            city_planned=_level("planned", FundingLevel.CITY, year),
            city_disbursed=_level("disbursed", FundingLevel.CITY, year),
            district_planned=_level("planned", FundingLevel.DISTRICT, year),
            district_disbursed=_level("disbursed", FundingLevel.DISTRICT, year),
            task_total=Coalesce(Subquery(tasks, output_field=MONEY), Value(Decimal("0")), output_field=MONEY),
        )
        .annotate(city_gap=_gap("city_planned", standards["city"]),
                  district_gap=_gap("district_planned", standards["district"]))
        .annotate(short_flag=Case(
            When(Q(city_planned__isnull=True) | Q(district_planned__isnull=True) | Q(city_gap__gt=0)
                 | Q(district_gap__gt=0), then=Value(1)),
            default=Value(0), output_field=IntegerField()))
        .order_by("sub_district__code", *order)
    )
    groups: dict[str, dict[str, Any]] = {}
    zero = Decimal("0")
    for c in rows:
        c.city_short = max(standards["city"] - (c.city_planned or zero), zero)
        c.district_short = max(standards["district"] - (c.district_planned or zero), zero)
        c.undisbursed = (c.city_planned or zero) - (c.city_disbursed or zero) + (
            (c.district_planned or zero) - (c.district_disbursed or zero)
        )
        c.missing = c.city_planned is None or c.district_planned is None
        c.short = c.missing or c.city_short > 0 or c.district_short > 0
        group = groups.setdefault(c.sub_district_id, {"street": c.sub_district, "rows": [], "totals": {}})
        group["rows"].append(c)
    for group in groups.values():
        group["totals"] = {
            name: sum((getattr(c, name) or zero for c in group["rows"]), zero)
            for name in ("city_planned", "city_disbursed", "district_planned", "district_disbursed", "city_short",
                         "district_short", "task_total")
        }
        group["short_count"] = sum(1 for c in group["rows"] if c.short)
    salary = dict(SalaryFunding.objects.filter(year=year).values_list("level", "amount"))
    return {"groups": list(groups.values()), "salary": salary}


def default_year() -> int:
    return timezone.localdate().year
