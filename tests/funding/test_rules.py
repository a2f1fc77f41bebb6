"""M19.work_funds (planned, then paid), M19.task_funds and M19.salary_share."""

from datetime import date
from decimal import Decimal

import pytest

from compliance.parameters import params_for
from compliance.rules import registry
from funding.services import allocation_upsert, salary_funding_upsert

# After the 03-31 planning date and before the 06-30 payment date: the planned amounts are judged.
AS_OF = date(2025, 6, 29)


def run(rule_id, as_of=AS_OF):
    rule = registry.get(rule_id)
    return {r.key: r for r in rule.evaluate(rule.target_queryset(as_of), as_of, params_for(rule, as_of))
            if not r.passed}


def fund(community, city, district, year=2025, paid_on=None):
    """Planned amounts; with ``paid_on``, each paid in full that day."""
    if city is not None:
        allocation_upsert(community=community, year=year, level="city", planned=Decimal(city),
                          paid=Decimal(city) if paid_on else None, paid_on=paid_on)
    if district is not None:
        allocation_upsert(community=community, year=year, level="district", planned=Decimal(district),
                          paid=Decimal(district) if paid_on else None, paid_on=paid_on)


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
        fund(community, "130000", "120000", year=2024, paid_on=date(2024, 5, 20))
        assert community.code in run("M19.work_funds")
        assert community.code not in run("M19.work_funds", as_of=date(2024, 12, 31))


@pytest.mark.django_db
class TestWorkFundsPaid:
    """Issue 15: judged on what was paid by the as-of date, from the 06-30 payment date."""

    def test_planned_in_full_nothing_paid_fails_from_the_payment_date(self, community):
        fund(community, "130000", "120000")
        assert community.code not in run("M19.work_funds", as_of=date(2025, 6, 29))
        found = run("M19.work_funds", as_of=date(2025, 6, 30))[community.code]
        assert found.severity == "violation"
        assert "市级配套已拨付 0元，未足额拨付 130000元" in found.message
        assert "已拨付市级0元、区级0元" in found.measured

    @pytest.mark.parametrize(("paid_on", "fails"), [(date(2025, 6, 30), False), (date(2025, 7, 1), True)])
    def test_a_payment_counts_from_its_date(self, community, paid_on, fails):
        fund(community, "130000", "120000", paid_on=paid_on)
        assert (community.code in run("M19.work_funds", as_of=date(2025, 6, 30))) is fails
        assert community.code not in run("M19.work_funds", as_of=date(2025, 7, 1))

    def test_paid_one_cent_short_fails(self, community):
        fund(community, "130000", "120000")
        allocation_upsert(community=community, year=2025, level="city", planned=Decimal("130000"),
                          paid=Decimal("130000"), paid_on=date(2025, 5, 1))
        allocation_upsert(community=community, year=2025, level="district", planned=Decimal("120000"),
                          paid=Decimal("119999.99"), paid_on=date(2025, 5, 1))
        found = run("M19.work_funds", as_of=date(2025, 12, 31))[community.code]
        assert "区级配套全年已拨付 119999.99元" in found.message and "市级配套" not in found.message

    def test_early_in_the_year_the_last_year_is_judged_whole(self, community):
        fund(community, "130000", "120000", year=2025, paid_on=date(2025, 5, 20))
        # 2026 has nothing yet: not a finding before 03-31, the planned amounts are due from 03-31.
        assert community.code not in run("M19.work_funds", as_of=date(2026, 1, 1))
        assert community.code not in run("M19.work_funds", as_of=date(2026, 3, 30))
        assert "2026年社区工作经费" in run("M19.work_funds", as_of=date(2026, 3, 31))[community.code].message

    def test_early_in_the_year_an_unpaid_last_year_still_fails(self, community):
        fund(community, "130000", "120000", year=2025)
        found = run("M19.work_funds", as_of=date(2026, 1, 1))[community.code]
        assert "2025年社区工作经费" in found.message and "市级配套全年已拨付 0元" in found.message

    def test_the_running_year_reads_the_same_from_one_day_to_the_next(self, community):
        # Nothing was paid on either day: the finding says the same, so a nightly sweep leaves it unwritten.
        fund(community, "130000", "120000")
        before, after = (run("M19.work_funds", as_of=day)[community.code] for day in (date(2025, 7, 1),
                                                                                       date(2025, 7, 2)))
        assert (before.message, before.measured) == (after.message, after.measured)

    def test_payment_dates_follow_their_parameters(self, community):
        from compliance.services import rule_parameter_set

        fund(community, "130000", "120000")
        rule_parameter_set(rule_id="M19.work_funds", name="payment_due", value="09-30",
                           effective_from=date(2025, 1, 1), reason="年中拨付改为三季度")
        assert community.code not in run("M19.work_funds", as_of=date(2025, 9, 29))
        assert community.code in run("M19.work_funds", as_of=date(2025, 9, 30))


@pytest.mark.django_db
class TestTaskFunds:
    def _task(self, community, **kw):
        from funding.services import task_fund_create

        values = {"community": community, "year": 2025, "task": "人口普查入户", "department": "区统计局",
                  "amount": Decimal("5000"), "received_on": date(2025, 3, 1), **kw}
        return task_fund_create(**values)

    def test_funded_task_passes(self, community):
        self._task(community)
        assert community.code not in run("M19.task_funds")

    @pytest.mark.parametrize("kw", [{"amount": Decimal("0")}, {"received_on": None},
                                    {"received_on": date(2025, 6, 30)}])
    def test_unfunded_or_not_yet_received_task_fails(self, community, kw):
        self._task(community, **kw)
        found = run("M19.task_funds")[community.code]
        assert (found.severity, found.measured) == ("violation", 1)
        assert "人口普查入户" in found.message and "区统计局" in found.message

    def test_received_on_the_as_of_day_passes_and_other_years_are_not_judged(self, community):
        self._task(community, received_on=AS_OF)
        self._task(community, year=2024, amount=Decimal("0"), received_on=None)
        assert community.code not in run("M19.task_funds")


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
