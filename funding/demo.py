"""Demo funding (措施十九): this year's and last year's 社区工作经费 and the salary split.

Most communities get the full 130000 元 (市级) and 120000 元 (区级); a few are
short or not yet entered this year, as happens before the budget is final.
Last year the 社区工作者薪酬 was shared 1∶1; this year the district's share
lags a little behind the city's. Writes go through the services and only
where something differs, so a second run writes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from communities.models import Community

from .models import FundingLevel, SalaryFunding, SalaryLevel
from .services import allocation_upsert, salary_funding_upsert

SEED = 20243
CITY = Decimal(130000)
DISTRICT = Decimal(120000)
DEMO_REASON = "演示数据"


@dataclass
class FundingPlan:
    allocations: list[tuple[str, int, FundingLevel, Decimal, Decimal]]  # community, year, level, planned, disbursed
    salaries: list[tuple[int, SalaryLevel, Decimal]]


def funding_plan(codes: list[str], today: date) -> FundingPlan:
    rng = random.Random(SEED)
    year, last = today.year, today.year - 1
    codes = sorted(codes)
    short_last = set(rng.sample(codes, 3))
    short_now = set(rng.sample(codes, 7))
    missing_now = set(rng.sample(codes, 4))
    # This year's money is half disbursed (a fixed share, so the demo does not change with the month).
    quarter_share = Decimal("0.5")
    allocations = []
    for code in codes:
        city, district = CITY, DISTRICT
        if code in short_last:
            district = Decimal(rng.choice((90000, 100000, 110000)))
        allocations.append((code, last, FundingLevel.CITY, city, city))
        allocations.append((code, last, FundingLevel.DISTRICT, district, district))
        if code in missing_now:
            allocations.append((code, year, FundingLevel.CITY, CITY, CITY * quarter_share))
            continue  # 区级配套 not yet entered
        city, district = CITY, DISTRICT
        if code in short_now:
            if rng.random() < 0.5:
                city = Decimal(rng.choice((100000, 110000, 120000)))
            else:
                district = Decimal(rng.choice((80000, 100000, 110000)))
        allocations.append((code, year, FundingLevel.CITY, city, city * quarter_share))
        allocations.append((code, year, FundingLevel.DISTRICT, district, district * quarter_share))
    salaries = [
        (last, SalaryLevel.CITY, Decimal(24_850_000)),
        (last, SalaryLevel.DISTRICT, Decimal(24_850_000)),
        (year, SalaryLevel.CITY, Decimal(26_300_000)),
        (year, SalaryLevel.DISTRICT, Decimal(25_640_000)),  # 1∶0.9749, more than 1% off
    ]
    return FundingPlan(allocations, salaries)


@dataclass
class FundingCounts:
    allocations: int = 0
    salaries: int = 0
    written: int = 0

    def lines(self) -> list[str]:
        return [f"社区工作经费：{self.allocations} 条，薪酬经费：{self.salaries} 条（本次写入 {self.written} 条）"]


def load_funding(*, plan: FundingPlan, communities: dict[str, Community], user=None) -> FundingCounts:
    from .models import Allocation

    counts = FundingCounts()
    ids = {c.pk for c in communities.values()}
    stored = {
        (a.community_id, a.year, a.level): (a.planned, a.disbursed)
        for a in Allocation.objects.filter(community_id__in=ids)
    }
    for code, year, level, planned, disbursed in plan.allocations:
        community = communities[code]
        disbursed = disbursed.quantize(Decimal("0.01"))
        if stored.get((community.pk, year, level)) != (planned, disbursed):
            allocation_upsert(community=community, year=year, level=level, planned=planned, disbursed=disbursed,
                              user=user, reason=DEMO_REASON)
            counts.written += 1
        counts.allocations += 1
    salaries = {(s.year, s.level): s.amount for s in SalaryFunding.objects.all()}
    for year, salary_level, amount in plan.salaries:
        # The service saves (and records history) even when nothing changed.
        if salaries.get((year, salary_level)) != amount:
            salary_funding_upsert(year=year, level=salary_level, amount=amount, user=user, reason=DEMO_REASON)
            counts.written += 1
        counts.salaries += 1
    return counts
