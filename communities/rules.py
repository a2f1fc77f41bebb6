"""措施 rules that read only communities and compounds (see compliance.rules for how to write one)."""

from __future__ import annotations

from django.db.models import Q

from compliance.rules import Result, Rule, register, same_pk

from .models import Community, CommunityStatus, Compound


def compounds_of_communities(objs) -> list[int]:
    """A community's change (e.g. 撤销) re-judges its compounds."""
    ids = [o.pk for o in objs if o.pk is not None]
    return list(Compound.objects.filter(community_id__in=ids).values_list("pk", flat=True)) if ids else []


def judged_compounds():
    """Compounds in the district, except those of a 撤销 community."""
    return Compound.objects.filter(Q(community__isnull=True) | ~Q(community__status=CommunityStatus.REVOKED))


@register
class Households(Rule):
    id = "M04.households"
    reading = (
        "措施四：社区一般按照1000户~5000户规模设立。户数少于下限为微型社区，多于上限为超大型社区，"
        "两端都含在范围内（1000户、5000户达标）。户数与人口是两条规则，社区可以只符合其中一条；"
        "超大型、微型的划分以户数为准。"
    )
    reads = {Community: same_pk}

    def target_queryset(self, as_of):
        return Community.objects.judged()

    def evaluate(self, queryset, as_of, params):
        low, high = params["min_households"], params["max_households"]
        rows = queryset.filter(Q(households__lt=low) | Q(households__gt=high)).values(
            "pk", "code", "households", "sub_district_id"
        )
        for row in rows:
            n = row["households"]
            if n < low:
                message = f"户数 {n} 户，低于下限 {low} 户（微型社区）"
            else:
                message = f"户数 {n} 户，超过上限 {high} 户（超大型社区）"
            yield Result(target_pk=row["pk"], key=row["code"], community_id=row["pk"], passed=False,
                         severity=self.severity, measured=n, required=f"{low}~{high}", message=message,
                         sub_district_id=row["sub_district_id"])


@register
class FacilityDebt(Rule):
    id = "M09.facility_debt"
    reading = (
        "措施九：2011年2月以后规划建成、应配建社区用房而未提供的居住小区为历史欠账，"
        "一直列出直到追索到位。口径：建成日期不早于 2011-02-01（参数），应配建社区用房=是，"
        "已提供社区用房=否；建成日期晚于评估日期的小区尚未建成，不判断。"
    )
    reads = {Compound: same_pk, Community: compounds_of_communities}

    def target_queryset(self, as_of):
        return judged_compounds()

    def evaluate(self, queryset, as_of, params):
        since = params["debt_since"]
        rows = queryset.filter(
            built_on__gte=since, built_on__lte=as_of, must_provide_facility=True, facility_provided=False
        ).values("pk", "code", "name", "built_on", "community_id", "sub_district__code")
        for row in rows:
            yield Result(
                target_pk=row["pk"], key=row["code"], community_id=row["community_id"], passed=False,
                severity=self.severity, measured="未提供社区用房", required="应配建社区用房",
                message=(f"小区“{row['name']}”建成于 {row['built_on']:%Y-%m-%d}（{since:%Y-%m-%d} 以后），"
                         "应配建社区用房但未提供，属历史欠账"),
                sub_district_id=row["sub_district__code"],
            )
