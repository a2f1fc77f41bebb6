"""措施十九: yearly 社区工作经费 per community (planned and paid), 费随事转, and the 1∶1 salary split."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from communities.models import Community
from communities.rules import community_columns
from compliance.rules import DISTRICT_KEY, DISTRICT_PK, Rule, district, one_to_one, register, via

from .models import Allocation, Disbursement, FundingLevel, SalaryFunding, SalaryLevel, TaskFund

MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)


def fmt(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def _yuan(value: Decimal | None) -> str:
    return "未登记" if value is None else f"{fmt(value)}元"


def month_day(year: int, text: str) -> dt.date:
    month, day = (int(part) for part in str(text).split("-"))
    return dt.date(year, month, day)


@one_to_one
def _allocations_of(objs) -> list[int]:
    """A disbursement re-judges the community of its allocation."""
    return list(Allocation.objects.filter(pk__in={o.allocation_id for o in objs}).values_list("community_id", flat=True))


@register
class WorkFunds(Rule):
    id = "M19.work_funds"
    reading = (
        "措施十九：社区工作经费每年每个社区市级以上配套13万元、区级配套12万元足额保障。口径：评估日在当年03-31"
        "（参数）以前，判断上一年度全年（配套金额和上一年内的拨付）；自03-31起判断当年配套金额：任一层级没有记录或"
        "低于标准即违规；自06-30（参数）起再看实际拨付：当年拨付记录中日期不晚于评估日的合计低于标准即违规。"
        "以小数比较。"
    )
    reads = {Community: community_columns(), Allocation: via("community_id"), Disbursement: _allocations_of}

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def evaluate(self, queryset, as_of, params):
        plan_due = month_day(as_of.year, params["plan_due"])
        payment_due = month_day(as_of.year, params["payment_due"])
        if as_of < plan_due:
            year, paid_by, check_paid = as_of.year - 1, dt.date(as_of.year - 1, 12, 31), True
        else:
            year, paid_by, check_paid = as_of.year, as_of, as_of >= payment_due

        def planned(level: str) -> Subquery:
            return Subquery(
                Allocation.objects.filter(community=OuterRef("pk"), year=year, level=level).values("planned")[:1],
                output_field=MONEY,
            )

        def paid(level: str) -> Coalesce:
            total = (Disbursement.objects.filter(allocation__community=OuterRef("pk"), allocation__year=year,
                                                 allocation__level=level, paid_on__lte=paid_by)
                     .order_by().values("allocation__community").annotate(t=Sum("amount")).values("t"))
            return Coalesce(Subquery(total, output_field=MONEY), Value(Decimal(0)), output_field=MONEY)

        city_min = Decimal(str(params["city_funds"]))
        district_min = Decimal(str(params["district_funds"]))
        # Narrowed with one yuan of slack; the comparison below is exact.
        short = (Q(city__isnull=True) | Q(district__isnull=True)
                 | Q(city__lt=city_min + 1) | Q(district__lt=district_min + 1))
        rows = queryset.order_by().annotate(city=planned(FundingLevel.CITY), district=planned(FundingLevel.DISTRICT))
        if check_paid:
            rows = rows.annotate(city_paid=paid(FundingLevel.CITY), district_paid=paid(FundingLevel.DISTRICT))
            short |= Q(city_paid__lt=city_min + 1) | Q(district_paid__lt=district_min + 1)
        fields = ["pk", "code", "city", "district"] + (["city_paid", "district_paid"] if check_paid else [])
        # The standards in words once, not per row (a first sweep finds a hundred thousand communities short).
        levels = (("市级配套", "city", city_min, fmt(city_min)), ("区级配套", "district", district_min, fmt(district_min)))
        required = f"市级≥{fmt(city_min)}元；区级≥{fmt(district_min)}元" + ("（足额拨付）" if check_paid else "")
        # A closed year is judged whole; the running year as paid so far, without the as-of date in the words: a
        # message that named the day changed every night and rewrote every finding of the rule on every sweep
        # (the finding's 最近发现 says which day it was judged on).
        paid_words = "全年" if paid_by.month == 12 and paid_by.day == 31 else ""
        for row in rows.filter(short).values(*fields):
            problems = []
            for label, key, minimum, minimum_text in levels:
                value = row[key]
                if value is None:
                    problems.append(f"{label}未登记（应不低于 {minimum_text}元）")
                elif value < minimum:
                    problems.append(f"{label} {fmt(value)}元，低于 {minimum_text}元")
                if check_paid and row[f"{key}_paid"] < minimum:
                    problems.append(f"{label}{paid_words}已拨付 {fmt(row[f'{key}_paid'])}元，未足额拨付 {minimum_text}元")
            if not problems:
                continue
            measured = f"市级{_yuan(row['city'])}；区级{_yuan(row['district'])}"
            if check_paid:
                measured += f"；已拨付市级{fmt(row['city_paid'])}元、区级{fmt(row['district_paid'])}元"
            yield self.fail(
                target_pk=row["pk"], key=row["code"], community_id=row["pk"], measured=measured,
                required=required,
                message=f"{year}年社区工作经费：" + "；".join(problems),
            )


@register
class TaskFunds(Rule):
    id = "M19.task_funds"
    reading = (
        "措施十九：对未纳入社区工作事项清单但需要社区协助的事项，按照“费随事转”落实经费。口径：评估日所在年度"
        "交办给社区的费随事转事项，随转经费为0、或到账日期为空或晚于评估日的，该社区违规；其他年度的事项不判断。"
    )
    reads = {Community: community_columns(), TaskFund: via("community_id")}

    def target_queryset(self, as_of):
        return Community.objects.judged()

    def evaluate(self, queryset, as_of, params):
        unfunded = TaskFund.objects.filter(year=as_of.year).filter(
            Q(amount__lte=0) | Q(received_on__isnull=True) | Q(received_on__gt=as_of))
        rows = (unfunded.filter(community__in=queryset).order_by("community_id", "id")
                .values("community_id", "community__code", "task", "department"))
        by_community: dict[int, list[dict]] = {}
        for row in rows:
            by_community.setdefault(row["community_id"], []).append(row)
        for community_id, tasks in by_community.items():
            named = "、".join(f"“{t['task']}”（{t['department']}交办）" for t in tasks[:5])
            more = f"等 {len(tasks)} 项" if len(tasks) > 5 else f"共 {len(tasks)} 项"
            yield self.fail(
                target_pk=community_id, key=tasks[0]["community__code"], community_id=community_id,
                measured=len(tasks), required=0,
                message=f"{as_of.year}年交办社区的事项{named}{more}，经费未随事转到位",
            )


@register
class SalaryShare(Rule):
    id = "M19.salary_share"
    reading = (
        "评估日所在年度，社区工作者薪酬经费市级与区级金额之比为1∶1（参数），允许偏差1%（区级÷市级在0.99–1.01之间）；"
        "任一层级没有记录或为0即为违规。"
    )
    reads = {SalaryFunding: district}

    def target_queryset(self, as_of):
        return None

    def evaluate(self, queryset, as_of, params):
        amounts = dict(SalaryFunding.objects.filter(year=as_of.year).values_list("level", "amount"))
        city, district_ = amounts.get(SalaryLevel.CITY), amounts.get(SalaryLevel.DISTRICT)
        tolerance = Decimal(str(params["tolerance"])) / 100
        target = Decimal(str(params["district_per_city"]))
        wanted = f"1∶{fmt(target)}"
        if not city or not district_:
            yield self.fail(
                target_pk=DISTRICT_PK, key=DISTRICT_KEY, community_id=None,
                measured=f"市级{_yuan(city)}；区级{_yuan(district_)}", required=wanted,
                message=f"{as_of.year}年社区工作者薪酬经费：市级 {_yuan(city)}、区级 {_yuan(district_)}，未按市区{wanted}分担",
            )
            return
        ratio = Decimal(district_) / Decimal(city)
        if abs(ratio - target) > tolerance:
            shown = ratio.quantize(Decimal("0.0001"), ROUND_HALF_UP)
            yield self.fail(
                target_pk=DISTRICT_PK, key=DISTRICT_KEY, community_id=None, measured=f"1∶{fmt(shown)}",
                required=wanted,
                message=(
                    f"{as_of.year}年社区工作者薪酬经费：市级 {fmt(city)}元、区级 {fmt(district_)}元，"
                    f"市∶区 = 1∶{fmt(shown)}，偏离{wanted}超过{fmt(tolerance * 100)}%"
                ),
            )
