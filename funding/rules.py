"""措施十九: yearly 社区工作经费 per community, and the 1∶1 salary split."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, OuterRef, Q, Subquery

from communities.models import Community
from compliance.rules import DISTRICT_KEY, DISTRICT_PK, Rule, district, register, same_pk, via

from .models import Allocation, FundingLevel, SalaryFunding, SalaryLevel

MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)


def fmt(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def _yuan(value: Decimal | None) -> str:
    return "未登记" if value is None else f"{fmt(value)}元"


@register
class WorkFunds(Rule):
    id = "M19.work_funds"
    reading = (
        "评估日所在年度，每个未撤销社区的市级配套不低于130000元、区级配套不低于120000元（按登记的配套金额计）；"
        "任一层级没有记录即为违规。"
    )
    reads = {Community: same_pk, Allocation: via("community_id")}

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def evaluate(self, queryset, as_of, params):
        def planned(level: str) -> Subquery:
            return Subquery(
                Allocation.objects.filter(community=OuterRef("pk"), year=as_of.year, level=level).values("planned")[:1],
                output_field=MONEY,
            )

        city_min = Decimal(str(params["city_funds"]))
        district_min = Decimal(str(params["district_funds"]))
        rows = (
            queryset.order_by()
            .annotate(city=planned(FundingLevel.CITY), district=planned(FundingLevel.DISTRICT))
            # Narrowed with one yuan of slack; the comparison below is exact.
            .filter(
                Q(city__isnull=True) | Q(district__isnull=True)
                | Q(city__lt=city_min + 1) | Q(district__lt=district_min + 1)
            )
            .values("pk", "code", "city", "district")
        )
        for row in rows:
            city, district_ = row["city"], row["district"]
            short = []
            for label, value, minimum in (("市级配套", city, city_min), ("区级配套", district_, district_min)):
                if value is None:
                    short.append(f"{label}未登记（应不低于 {fmt(minimum)}元）")
                elif value < minimum:
                    short.append(f"{label} {fmt(value)}元，低于 {fmt(minimum)}元")
            if short:
                yield self.fail(
                    target_pk=row["pk"], key=row["code"], community_id=row["pk"],
                    measured=f"市级{_yuan(city)}；区级{_yuan(district_)}",
                    required=f"市级≥{fmt(city_min)}元；区级≥{fmt(district_min)}元",
                    message=f"{as_of.year}年社区工作经费：" + "；".join(short),
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
