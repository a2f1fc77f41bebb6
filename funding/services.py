"""Write operations on funding records; the entry forms and the 经费 sheet come through here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from communities.models import Community
from lianhu.records import save_clean

from .models import Allocation, SalaryFunding, TaskFund


def allocation_upsert(
    *,
    community: Community,
    year: int,
    level: str,
    planned: Decimal,
    disbursed: Decimal | None = None,
    note: str | None = None,
    user=None,
    reason: str | None = None,
) -> Allocation:
    """Sets one community's allocation for a year and level; one row per (community, year, level)."""
    with transaction.atomic():
        allocation = (
            Allocation.objects.select_for_update().filter(community=community, year=year, level=level).first()
            or Allocation(community=community, year=year, level=level)
        )
        wanted: dict[str, Decimal | str] = {"planned": planned}
        if disbursed is not None:
            wanted["disbursed"] = disbursed
        if note is not None:
            wanted["note"] = note
        changed = [name for name, value in wanted.items() if getattr(allocation, name) != value]
        if allocation.pk and not changed:
            return allocation
        for name, value in wanted.items():
            setattr(allocation, name, value)
        return save_clean(allocation, user, reason)


def salary_funding_upsert(
    *, year: int, level: str, amount: Decimal, note: str | None = None, user=None, reason: str | None = None
) -> SalaryFunding:
    with transaction.atomic():
        funding = SalaryFunding.objects.select_for_update().filter(year=year, level=level).first() or SalaryFunding(
            year=year, level=level
        )
        funding.amount = amount
        if note is not None:
            funding.note = note
        return save_clean(funding, user, reason)


def task_fund_create(*, user=None, reason: str | None = None, **fields: Any) -> TaskFund:
    with transaction.atomic():
        return save_clean(TaskFund(**fields), user, reason)
