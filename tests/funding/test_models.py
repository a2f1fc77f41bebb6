from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from funding.models import Allocation, SalaryFunding
from funding.services import allocation_upsert, salary_funding_upsert, task_fund_create


def _codes(excinfo, field):
    return [e.code for e in excinfo.value.error_dict[field]]


@pytest.mark.django_db
class TestAllocation:
    def test_negative_money_refused(self, community):
        with pytest.raises(ValidationError) as e:
            allocation_upsert(community=community, year=2025, level="city", planned=Decimal("-1"))
        assert _codes(e, "planned") == ["money_negative"]
        assert not Allocation.objects.exists()

    @pytest.mark.parametrize("year", [1999, 2101])
    def test_year_range(self, community, year):
        with pytest.raises(ValidationError) as e:
            allocation_upsert(community=community, year=year, level="city", planned=Decimal("130000"))
        assert _codes(e, "year") == ["year_range"]

    def test_upsert_keeps_one_row(self, community):
        allocation_upsert(community=community, year=2025, level="city", planned=Decimal("100000"))
        allocation_upsert(community=community, year=2025, level="city", planned=Decimal("130000"),
                          paid=Decimal("65000"), paid_on=date(2025, 5, 1))
        allocation_upsert(community=community, year=2025, level="city", planned=Decimal("130000"),
                          paid=Decimal("65000"), paid_on=date(2025, 9, 1))
        row = Allocation.objects.get()
        assert (row.planned, row.disbursed, row.disbursements.count()) == (Decimal("130000"), Decimal("130000"), 2)

    def test_duplicate_refused(self, community):
        allocation_upsert(community=community, year=2025, level="city", planned=Decimal("1"))
        duplicate = Allocation(community=community, year=2025, level="city", planned=Decimal("2"))
        with pytest.raises(ValidationError) as e:
            duplicate.full_clean()
        assert _codes(e, "level") == ["allocation_exists"]
        with pytest.raises(IntegrityError), transaction.atomic():
            duplicate.save()


@pytest.mark.django_db
def test_salary_negative_and_duplicate(streets):
    with pytest.raises(ValidationError) as e:
        salary_funding_upsert(year=2025, level="city", amount=Decimal("-5"))
    assert _codes(e, "amount") == ["money_negative"]
    salary_funding_upsert(year=2025, level="city", amount=Decimal("5000000"))
    salary_funding_upsert(year=2025, level="city", amount=Decimal("5100000"))
    assert SalaryFunding.objects.get().amount == Decimal("5100000")


@pytest.mark.django_db
def test_task_fund_needs_task_and_department(community):
    with pytest.raises(ValidationError) as e:
        task_fund_create(community=community, year=2025, task="", department="", amount=Decimal("-1"))
    assert set(e.value.error_dict) == {"task", "department", "amount"}
    task_fund_create(community=community, year=2025, task="人口普查入户登记", department="区统计局",
                     amount=Decimal("8000"))
