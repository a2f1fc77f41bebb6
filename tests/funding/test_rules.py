"""M19.work_funds and M19.salary_share."""

from datetime import date
from decimal import Decimal

import pytest

from compliance.rules import registry
from funding.services import allocation_upsert, salary_funding_upsert

AS_OF = date(2025, 6, 30)


def run(rule_id, as_of=AS_OF):
    rule = registry.get(rule_id)
    return {r.key: r for r in rule.evaluate(rule.target_queryset(as_of), as_of, dict(rule.params)) if not r.passed}


def fund(community, city, district, year=2025):
    if city is not None:
        allocation_upsert(community=community, year=year, level="city", planned=Decimal(city))
    if district is not None:
        allocation_upsert(community=community, year=year, level="district", planned=Decimal(district))


@pytest.mark.django_db
class TestWorkFunds:
    def test_full_funding_passes(self, community):
        fund(community, "130000", "120000")
        assert community.code not in run("M19.work_funds")

    def test_missing_row_violates(self, community):
        fund(community, "130000", None)
        found = run("M19.work_funds")[community.code]
        assert found.severity == "violation"
        assert found.message == "2025年社区工作经费：区级配套未登记（应不低于 120000元）"

    def test_no_rows_at_all_violates(self, community):
        assert community.code in run("M19.work_funds")

    def test_129999_violates(self, community):
        fund(community, "129999", "120000")
        found = run("M19.work_funds")[community.code]
        assert found.message == "2025年社区工作经费：市级配套 129999元，低于 130000元"

    def test_district_119999_99_violates(self, community):
        fund(community, "130000", "119999.99")
        assert community.code in run("M19.work_funds")

    def test_last_years_funding_does_not_cover_this_year(self, community):
        fund(community, "130000", "120000", year=2024)
        assert community.code in run("M19.work_funds")
        assert community.code not in run("M19.work_funds", as_of=date(2024, 12, 31))


@pytest.mark.django_db
class TestSalaryShare:
    def test_missing_level_violates(self, streets):
        salary_funding_upsert(year=2025, level="city", amount=Decimal("5000000"))
        assert run("M19.salary_share")["district"].severity == "violation"

    def test_one_to_one_within_one_percent(self, streets):
        salary_funding_upsert(year=2025, level="city", amount=Decimal("5000000"))
        salary_funding_upsert(year=2025, level="district", amount=Decimal("5050000"))
        assert "district" not in run("M19.salary_share")
        salary_funding_upsert(year=2025, level="district", amount=Decimal("5050001"))
        assert "市∶区 = 1∶1.01" in run("M19.salary_share")["district"].message
