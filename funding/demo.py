"""Demo funding (措施十九): this year's and last year's 社区工作经费 and the salary split.

Most communities get the full 130000 元 (市级) and 120000 元 (区级), paid in one
payment each in May (市级) and June (区级); a few are short or not yet entered this
year, as happens before the budget is final, and a few have this year's 区级 money
not yet paid. Payments dated after the day the demo is loaded are not made.
Last year the 社区工作者薪酬 was shared 1∶1; this year the district's share
lags a little behind the city's. Writes go through the services and only
where something differs, so a second run writes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from communities.demo import DemoWorld, register_demo_part
from communities.models import Community
from core.records import clean_new

from .models import Allocation, Disbursement, FundingLevel, SalaryFunding, SalaryLevel, TaskFund
from .services import (
    allocation_upsert,
    allocations_create_bulk,
    disbursement_create,
    disbursements_create_bulk,
    salary_funding_upsert,
    task_fund_create,
)

SEED = 20243
CITY = Decimal(130000)
DISTRICT = Decimal(120000)
DEMO_REASON = "演示数据"


@dataclass
class FundingPlan:
    # community, year, level, planned, the payments (date, amount) made by the day of loading
    allocations: list[tuple[str, int, FundingLevel, Decimal, tuple[tuple[date, Decimal], ...]]]
    salaries: list[tuple[int, SalaryLevel, Decimal]]
    # 费随事转 (措施十九): community, year, task, department, amount, received on (None: not yet)
    tasks: list[tuple[str, int, str, str, Decimal, date | None]]


def funding_plan(codes: list[str], today: date) -> FundingPlan:
    rng = random.Random(SEED)
    year, last = today.year, today.year - 1
    codes = sorted(codes)
    short_last = set(rng.sample(codes, 3))
    short_now = set(rng.sample(codes, 7))
    missing_now = set(rng.sample(codes, 4))
    unpaid_now = set(rng.sample(sorted(set(codes) - short_now - missing_now), 5))
    pay_day = {FundingLevel.CITY: (5, 20), FundingLevel.DISTRICT: (6, 10)}

    def paid(y: int, level: FundingLevel, amount: Decimal) -> tuple[tuple[date, Decimal], ...]:
        on = date(y, *pay_day[level])
        return ((on, amount),) if on <= today and amount > 0 else ()

    allocations = []
    for code in codes:
        city, district = CITY, DISTRICT
        if code in short_last:
            district = Decimal(rng.choice((90000, 100000, 110000)))
        allocations.append((code, last, FundingLevel.CITY, city, paid(last, FundingLevel.CITY, city)))
        allocations.append((code, last, FundingLevel.DISTRICT, district, paid(last, FundingLevel.DISTRICT, district)))
        if code in missing_now:
            allocations.append((code, year, FundingLevel.CITY, CITY, paid(year, FundingLevel.CITY, CITY)))
            continue  # 区级配套 not yet entered
        city, district = CITY, DISTRICT
        if code in short_now:
            if rng.random() < 0.5:
                city = Decimal(rng.choice((100000, 110000, 120000)))
            else:
                district = Decimal(rng.choice((80000, 100000, 110000)))
        allocations.append((code, year, FundingLevel.CITY, city, paid(year, FundingLevel.CITY, city)))
        district_paid = () if code in unpaid_now else paid(year, FundingLevel.DISTRICT, district)
        allocations.append((code, year, FundingLevel.DISTRICT, district, district_paid))
    salaries = [
        (last, SalaryLevel.CITY, Decimal(24_850_000)),
        (last, SalaryLevel.DISTRICT, Decimal(24_850_000)),
        (year, SalaryLevel.CITY, Decimal(26_300_000)),
        (year, SalaryLevel.DISTRICT, Decimal(25_640_000)),  # 1∶0.9749, more than 1% off
    ]
    return FundingPlan(allocations, salaries, _task_plan(codes, today))


TASKS = [("第七次全国人口普查入户登记", "区统计局"), ("城乡居民医保参保宣传", "区医保局"),
         ("老旧小区改造意见征集", "区住建局"), ("燃气安全入户排查", "区城管局"),
         ("退役军人信息采集", "区退役军人事务局"), ("防汛应急物资清点", "区应急管理局")]


def _task_plan(codes: list[str], today: date) -> list[tuple[str, int, str, str, Decimal, date | None]]:
    """Tasks handed to communities this year with their money; two came without it (措施十九's 费随事转)."""
    rng = random.Random(SEED + 1)
    year = today.year
    plan: list[tuple[str, int, str, str, Decimal, date | None]] = []
    for i, code in enumerate(rng.sample(codes, 10)):
        task, department = TASKS[i % len(TASKS)]
        received = min(today, date(year, 1 + i % 6, 15))
        if i == 3:
            plan.append((code, year, task, department, Decimal(0), None))  # handed over without funds
        elif i == 7:
            plan.append((code, year, task, department, Decimal(8000), None))  # promised, not yet received
        else:
            plan.append((code, year, task, department, Decimal(rng.choice((3000, 5000, 8000, 12000))), received))
    return plan


@dataclass
class FundingCounts:
    allocations: int = 0
    salaries: int = 0
    written: int = 0

    def lines(self) -> list[str]:
        return [f"社区工作经费：{self.allocations} 条，薪酬经费：{self.salaries} 条（本次写入 {self.written} 条）"]


@register_demo_part(name="funding", order=20)
def load_demo_part(world: DemoWorld) -> list[str]:
    plan = funding_plan(list(world.figures), world.today)
    return load_funding(plan=plan, communities=world.communities, user=world.user).lines()


def load_funding(*, plan: FundingPlan, communities: dict[str, Community], user=None) -> FundingCounts:

    counts = FundingCounts()
    ids = {c.pk for c in communities.values()}
    stored = {
        (a.community_id, a.year, a.level): a.planned
        for a in Allocation.objects.filter(community_id__in=ids)
    }
    made = {
        (d.allocation.community_id, d.allocation.year, d.allocation.level, d.paid_on, d.amount)
        for d in Disbursement.objects.filter(allocation__community_id__in=ids).select_related("allocation")
    }
    # New allocations and their payments are written in two batches, each row checked as the services check it;
    # an allocation already recorded (a second run, or edited since) still goes through the services.
    new: dict[tuple[int, int, FundingLevel], Allocation] = {}
    owed: list[tuple[tuple[int, int, FundingLevel], date, Decimal]] = []
    for code, year, level, planned, payments in plan.allocations:
        community = communities[code]
        key = (community.pk, year, level)
        if key not in stored:
            new[key] = clean_new(Allocation(community=community, year=year, level=level, planned=planned),
                                 given=("community",))
            counts.written += 1
        elif stored[key] != planned:
            allocation_upsert(community=community, year=year, level=level, planned=planned, user=user,
                              reason=DEMO_REASON)
            counts.written += 1
        for paid_on, amount in payments:
            if (*key, paid_on, amount.quantize(Decimal("0.01"))) not in made:
                owed.append((key, paid_on, amount))
                counts.written += 1
        counts.allocations += 1
    allocations_create_bulk(allocations=list(new.values()), user=user, reason=DEMO_REASON)
    batch: list[Disbursement] = []
    for key, paid_on, amount in owed:
        if key in new:
            batch.append(clean_new(Disbursement(allocation=new[key], amount=amount, paid_on=paid_on),
                                   given=("allocation",)))
        else:
            community_id, year, level = key
            allocation = Allocation.objects.get(community_id=community_id, year=year, level=level)
            disbursement_create(allocation=allocation, amount=amount, paid_on=paid_on, user=user,
                                reason=DEMO_REASON)
    disbursements_create_bulk(disbursements=batch, user=user, reason=DEMO_REASON)
    salaries = {(s.year, s.level): s.amount for s in SalaryFunding.objects.all()}
    for year, salary_level, amount in plan.salaries:
        # The service saves (and records history) even when nothing changed.
        if salaries.get((year, salary_level)) != amount:
            salary_funding_upsert(year=year, level=salary_level, amount=amount, user=user, reason=DEMO_REASON)
            counts.written += 1
        counts.salaries += 1
    recorded = set(TaskFund.objects.filter(community_id__in=ids).values_list("community__code", "year", "task"))
    for code, year, task, department, amount, received_on in plan.tasks:
        if (code, year, task) not in recorded:
            task_fund_create(community=communities[code], year=year, task=task, department=department, amount=amount,
                             received_on=received_on, user=user, reason=DEMO_REASON)
            counts.written += 1
    return counts
