"""Write operations on funding records; the entry forms and the 经费 sheet come through here."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from communities.models import Community
from compliance.rejudge import changed_columns, rejudge_on_commit
from core.records import bulk_insert, bulk_update, save_clean

from .models import Allocation, Disbursement, SalaryFunding, TaskFund


def allocation_upsert(
    *,
    community: Community,
    year: int,
    level: str,
    planned: Decimal,
    note: str | None = None,
    paid: Decimal | None = None,
    paid_on: date | None = None,
    user=None,
    reason: str | None = None,
) -> Allocation:
    """Sets one community's allocation for a year and level (one row per community, year and level) and,
    when ``paid`` is given, records that payment on ``paid_on`` (today by default)."""
    with transaction.atomic():
        allocation = (
            Allocation.objects.select_for_update().filter(community=community, year=year, level=level).first()
            or Allocation(community=community, year=year, level=level)
        )
        wanted: dict[str, Decimal | str] = {"planned": planned}
        if note is not None:
            wanted["note"] = note
        changed = [name for name, value in wanted.items() if getattr(allocation, name) != value]
        if not allocation.pk or changed:
            old = copy.copy(allocation) if allocation.pk else None
            for name, value in wanted.items():
                setattr(allocation, name, value)
            allocation = save_clean(allocation, user, reason)
            if old is None:
                rejudge_on_commit(Allocation, [allocation], created=True)
            else:
                rejudge_on_commit(Allocation, [allocation, old], changed=changed_columns(old, allocation))
        if paid:
            disbursement_create(allocation=allocation, amount=paid, paid_on=paid_on or timezone.localdate(),
                                user=user, reason=reason)
            allocation.refresh_from_db()
        return allocation


def disbursement_create(*, allocation: Allocation, amount: Decimal, paid_on: date, note: str = "", user=None,
                        reason: str | None = None) -> Disbursement:
    """Records one dated payment and keeps the allocation's running total (已拨付合计) equal to their sum."""
    with transaction.atomic():
        allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
        payment = save_clean(Disbursement(allocation=allocation, amount=amount, paid_on=paid_on, note=note),
                             user, reason)
        rejudge_on_commit(Disbursement, [payment], created=True)
        # SQLite sums decimals as floats: back to cents before comparing and saving.
        total = Decimal(str(allocation.disbursements.aggregate(total=Sum("amount"))["total"] or 0)).quantize(
            Decimal("0.01"))
        if allocation.disbursed != total:
            old = copy.copy(allocation)
            allocation.disbursed = total
            save_clean(allocation, user, reason)
            rejudge_on_commit(Allocation, [allocation, old], changed=changed_columns(old, allocation))
        return payment


def allocations_create_bulk(*, allocations: list[Allocation], user=None, reason: str | None = None) -> None:
    """Write many new allocations the caller has already checked (core.records.clean_new), with their
    history: the demo district's years. The database's unique (community, year, level) stands behind the
    caller's check."""
    with transaction.atomic():
        bulk_insert(Allocation, allocations, user=user, reason=reason)
        rejudge_on_commit(Allocation, allocations, created=True)


def disbursements_create_bulk(*, disbursements: list[Disbursement], user=None, reason: str | None = None) -> None:
    """Write many payments the caller has already checked and bring each allocation's running total (已拨付合计)
    to their sum, as ``disbursement_create`` does one payment at a time."""
    with transaction.atomic():
        bulk_insert(Disbursement, disbursements, user=user, reason=reason)
        rejudge_on_commit(Disbursement, disbursements, created=True)
        ids = {d.allocation_id for d in disbursements}
        sums = dict(Disbursement.objects.filter(allocation_id__in=ids).order_by().values("allocation_id")
                    .annotate(total=Sum("amount")).values_list("allocation_id", "total"))
        changed = []
        for allocation in Allocation.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
            # SQLite sums decimals as floats: back to cents before comparing and saving.
            total = Decimal(str(sums.get(allocation.pk) or 0)).quantize(Decimal("0.01"))
            if allocation.disbursed != total:
                allocation.disbursed = total
                # As save_clean checks it (the allocation was read just now: its community needs no look-up).
                allocation.full_clean(exclude=["community"], validate_unique=False, validate_constraints=False)
                changed.append(allocation)
        bulk_update(Allocation, changed, ["disbursed"], user=user, reason=reason)
        rejudge_on_commit(Allocation, changed, changed=["disbursed"])


def salary_funding_upsert(
    *, year: int, level: str, amount: Decimal, note: str | None = None, user=None, reason: str | None = None
) -> SalaryFunding:
    with transaction.atomic():
        funding = SalaryFunding.objects.select_for_update().filter(year=year, level=level).first() or SalaryFunding(
            year=year, level=level
        )
        old = copy.copy(funding) if funding.pk else None
        funding.amount = amount
        if note is not None:
            funding.note = note
        save_clean(funding, user, reason)
        if old is None:
            rejudge_on_commit(SalaryFunding, [funding], created=True)
        else:
            rejudge_on_commit(SalaryFunding, [funding, old], changed=changed_columns(old, funding))
        return funding


def task_fund_create(*, user=None, reason: str | None = None, **fields: Any) -> TaskFund:
    with transaction.atomic():
        fund = save_clean(TaskFund(**fields), user, reason)
        rejudge_on_commit(TaskFund, [fund], created=True)
        return fund
