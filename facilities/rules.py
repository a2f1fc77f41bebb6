"""措施七、八、十六: facility area, plaza, activity share, handover, embedded services.

Facilities that count are those 已移交 or 使用中 whose handover (if dated) is
not after the as-of date; each rule reads them with one query per chunk of
communities (correlated Subquery/Exists), never one per community.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from communities.models import Community
from communities.rules import community_columns
from compliance.rules import Rule, register, same_pk, via, watching

from .models import CORE_SERVICES, COUNTING_STATUSES, Facility, FacilityKind, FacilityStatus

AREA: DecimalField = DecimalField(max_digits=14, decimal_places=2)
ZERO = Decimal("0")


def fmt(value: Decimal | int) -> str:
    """1050.00 → 1050, 599.70 → 599.7: the figure as a clerk writes it."""
    return format(Decimal(value).normalize(), "f")


def counting(as_of: dt.date) -> Q:
    # A handover dated after the as-of date has not happened yet.
    return Q(status__in=COUNTING_STATUSES) & (Q(handed_over_on__isnull=True) | Q(handed_over_on__lte=as_of))


def facility_sum(field: str, kind: str, as_of: dt.date) -> Coalesce:
    totals = (
        Facility.objects.filter(counting(as_of), community=OuterRef("pk"), kind=kind)
        .order_by()
        .values("community")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(totals, output_field=AREA), Value(ZERO), output_field=AREA)


# SQL narrows the rows to those that may fail, with this much slack (database
# arithmetic on decimals may be binary floating point); Python then decides exactly.
SLACK = Decimal("1")


def _dec(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)


def community_reads(*columns: str) -> dict:
    """The community (these columns of it) and its facilities."""
    return {Community: community_columns(*columns), Facility: via("community_id")}


class CommunityFacilitiesRule(Rule):
    """A rule on what a community's counted facilities add up to (措施七, 措施十六): judged per community,
    re-judged when the community or one of its facilities changes."""

    # The facility sums read only the community's facilities; a rule reading more of it (户数) says so.
    reads = community_reads()

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def short(self, row: dict, *, measured: Any, required: Any, message: str, **extra: Any):
        """A community row that falls short: the one failing result of these rules."""
        return self.fail(target_pk=row["pk"], key=row["code"], community_id=row["pk"], measured=measured,
                         required=required, message=message, **extra)


@register
class FacilityArea(CommunityFacilitiesRule):
    id = "M07.facility_area"
    reads = community_reads("households")
    reading = (
        "对每个未撤销社区，合计状态为“已移交”或“使用中”的综合服务设施建筑面积（以小数比较，1049.99㎡低于1050㎡），"
        "应配面积为户数×每百户30㎡÷100；成立日期在2024-02-29（含）以后且不足2000户的新建社区，应配不低于600㎡。"
    )

    def required(self, row: dict, params: dict) -> tuple[Decimal, str]:
        households = row["households"] or 0
        per_100 = Decimal(str(params["area_per_100_households"]))
        by_households = Decimal(households) * per_100 / 100
        basis = f"{households}户×{fmt(per_100)}㎡/百户"
        new_since = params["new_since"]
        if row["founded_on"] and row["founded_on"] >= new_since and households < params["small_new_households"]:
            floor = Decimal(str(params["small_new_min_area"]))
            if floor > by_households:
                return floor, (
                    f"{new_since:%Y-%m-%d}后新建且不足{params['small_new_households']}户的社区不低于{fmt(floor)}㎡"
                )
        return by_households, basis

    def evaluate(self, queryset, as_of, params):
        per_100 = Decimal(str(params["area_per_100_households"]))
        floor = Decimal(str(params["small_new_min_area"]))
        rows = (
            queryset.order_by()
            .annotate(
                area=facility_sum("building_area", FacilityKind.CENTER, as_of),
                by_households=ExpressionWrapper(F("households") * Value(per_100 / 100), output_field=AREA),
            )
            .filter(
                Q(area__lt=F("by_households") + SLACK)
                | Q(area__lt=floor + SLACK, founded_on__gte=params["new_since"],
                    households__lt=params["small_new_households"])
            )
            .values("pk", "code", "households", "founded_on", "area")
        )
        for row in rows:
            area = _dec(row["area"])
            required, basis = self.required(row, params)
            if area < required:
                yield self.short(
                    row, measured=area, required=required,
                    message=f"社区综合服务设施建筑面积 {fmt(area)}㎡，低于应配 {fmt(required)}㎡（{basis}）",
                )


@register
class OutdoorPlaza(CommunityFacilitiesRule):
    id = "M07.outdoor_plaza"
    reading = "对每个未撤销社区，合计状态为“已移交”或“使用中”的室外活动广场场地面积，不低于1000㎡（以小数比较）。"

    def evaluate(self, queryset, as_of, params):
        required = Decimal(str(params["min_plaza_area"]))
        rows = (
            queryset.order_by()
            .annotate(area=facility_sum("site_area", FacilityKind.PLAZA, as_of))
            .filter(area__lt=required + SLACK)
            .values("pk", "code", "area")
        )
        for row in rows:
            area = _dec(row["area"])
            if area < required:
                yield self.short(
                    row, measured=area, required=required,
                    message=f"室外活动广场面积 {fmt(area)}㎡，低于 {fmt(required)}㎡",
                )


@register
class ActivityShare(CommunityFacilitiesRule):
    id = "M07.activity_share"
    reading = (
        "居民活动区域面积占比 = 状态为“已移交”或“使用中”的综合服务设施的居民活动区域面积合计 ÷ 建筑面积合计，"
        "不低于60%；没有计入的设施（分母为0）视为不达标，实测记0。"
    )

    def evaluate(self, queryset, as_of, params):
        minimum = Decimal(str(params["min_activity_share"]))
        rows = (
            queryset.order_by()
            .annotate(
                building=facility_sum("building_area", FacilityKind.CENTER, as_of),
                activity=facility_sum("activity_area", FacilityKind.CENTER, as_of),
            )
            .filter(Q(building__lte=0) | Q(activity__lt=F("building") * Value(minimum / 100) + SLACK))
            .values("pk", "code", "building", "activity")
        )
        for row in rows:
            building, activity = _dec(row["building"]), _dec(row["activity"])
            # Compared as activity×100 ≥ building×share, exactly; the percentage is only for display.
            if building > 0 and activity * 100 >= building * minimum:
                continue
            share = (activity * 100 / building).quantize(Decimal("0.01"), ROUND_DOWN) if building > 0 else ZERO
            detail = (
                f"居民活动区域 {fmt(activity)}㎡ ÷ 建筑面积 {fmt(building)}㎡" if building > 0 else "没有计入的综合服务设施"
            )
            yield self.short(
                row, measured=share, required=minimum,
                message=f"居民活动区域面积占比 {fmt(share)}%（{detail}），低于 {fmt(minimum)}%",
            )


@watching("status")
def _facilities_of_revoked(objs) -> list[int]:
    """A community's facilities are judged again only when it is revoked or restored (its status), never on a
    户数 edit: the facility rules read nothing else of it."""
    return list(Facility.objects.filter(community_id__in=[o.pk for o in objs]).values_list("pk", flat=True))


@watching("households", "founded_on", "status")
def _planned_centers_of(objs) -> list[int]:
    return list(Facility.objects.filter(community_id__in=[o.pk for o in objs], kind=FacilityKind.CENTER,
                                        status=FacilityStatus.PLANNED).values_list("pk", flat=True))


# M08.planned_area reads of a facility: what makes it a counted or a planned center, its area and its names.
@watching("kind", "status", "community_id", "building_area", "handed_over_on", "code", "name", new_rows=True)
def _community_centers(objs) -> list[int]:
    """A facility's change re-judges the community's planned centers: the counted area is part of their test.
    A new facility too (``new_rows``): it adds to the counted area, or is itself a planned center."""
    return list(Facility.objects.filter(community_id__in={o.community_id for o in objs}, kind=FacilityKind.CENTER,
                                        status=FacilityStatus.PLANNED).values_list("pk", flat=True))


@register
class Handover(Rule):
    id = "M08.handover"
    reading = (
        "措施八说的是社区综合服务设施：有验收日期、没有移交日期、状态为“已验收”的综合服务设施（移交日期晚于评估日的"
        "视为尚未移交）：验收后第90天（含）以内为预警，第91天起为违规。室外活动广场和嵌入式服务设施不在此列。"
    )
    reads = {Facility: same_pk, Community: _facilities_of_revoked}

    def target_queryset(self, as_of):
        return Facility.objects.exclude(community__status="revoked").filter(kind=FacilityKind.CENTER)

    def evaluate(self, queryset, as_of, params):
        days_allowed = int(params["handover_days"])
        pending = queryset.filter(accepted_on__isnull=False, accepted_on__lte=as_of).filter(
            Q(status=FacilityStatus.ACCEPTED, handed_over_on__isnull=True)
            | Q(status__in=[FacilityStatus.HANDED_OVER, FacilityStatus.IN_USE], handed_over_on__gt=as_of)
        )
        for row in pending.order_by().values("pk", "code", "name", "community_id", "accepted_on"):
            days = (as_of - row["accepted_on"]).days
            late = days > days_allowed
            deadline = row["accepted_on"] + dt.timedelta(days=days_allowed)
            message = (
                f"设施“{row['name']}”于 {row['accepted_on']:%Y-%m-%d} 验收，至今第{days}天仍未移交街办"
                + (f"，已超过{days_allowed}天期限（{deadline:%Y-%m-%d}）" if late else f"，应在 {deadline:%Y-%m-%d} 前移交")
            )
            yield self.fail(
                target_pk=row["pk"], key=row["code"], community_id=row["community_id"], measured=days,
                required=days_allowed, severity="violation" if late else "warning", message=message,
            )


@register
class EmbeddedServices(CommunityFacilitiesRule):
    id = "M16.embedded_services"
    reading = "养老服务、婴幼儿托育、儿童托管、社区助餐四类嵌入式服务设施，各至少有一处状态为“已移交”或“使用中”。"

    def evaluate(self, queryset, as_of, params):
        # Two reads: which (community, category) pairs have a counted facility, then the communities. Four
        # OR-ed EXISTS in a WHERE made PostgreSQL scan the facilities eight times per chunk.
        categories = [c.value for c in CORE_SERVICES]
        present: set[tuple[int, str]] = set(
            Facility.objects.filter(counting(as_of), kind=FacilityKind.EMBEDDED, service_category__in=categories,
                                    community__in=queryset.values("pk"))
            .order_by().values_list("community_id", "service_category").distinct()
        )
        services = [(c.value, c.label) for c in CORE_SERVICES]  # not the enum's properties per row
        for row in queryset.order_by().values("pk", "code"):
            missing = [label for value, label in services if (row["pk"], value) not in present]
            if missing:
                yield self.short(
                    row, measured=len(CORE_SERVICES) - len(missing), required=len(CORE_SERVICES),
                    message=f"嵌入式服务设施缺少：{'、'.join(missing)}（已有 {len(CORE_SERVICES) - len(missing)}/4 类）",
                )


@register
class PlannedArea(Rule):
    id = "M08.planned_area"
    reading = (
        "措施八：资源规划莲湖分局严格按照标准审批社区综合服务设施规划。口径：状态为“规划”的综合服务设施，其建筑面积"
        "（规划面积，未登记按0计）加上所在社区已计入（已移交、使用中）的综合服务设施建筑面积，应不低于措施七按评估日户数"
        "计算的应配面积（与规则“社区综合服务设施建筑面积达标”共用参数）；低于即为违规。"
    )
    reads = {Facility: _community_centers, Community: _planned_centers_of}

    def target_queryset(self, as_of):
        return Facility.objects.filter(kind=FacilityKind.CENTER, status=FacilityStatus.PLANNED).exclude(
            community__status="revoked").exclude(community__isnull=True)

    def evaluate(self, queryset, as_of, params):
        counted = facility_sum("building_area", FacilityKind.CENTER, as_of)
        rows = (
            queryset.order_by()
            .annotate(counted=Subquery(Community.objects.filter(pk=OuterRef("community_id"))
                                       .annotate(area=counted).values("area")[:1], output_field=AREA))
            .values("pk", "code", "name", "community_id", "building_area", "counted", "community__households",
                    "community__founded_on")
        )
        area_rule = FacilityArea()
        for row in rows:
            planned, existing = _dec(row["building_area"]), _dec(row["counted"])
            required, basis = area_rule.required(
                {"households": row["community__households"], "founded_on": row["community__founded_on"]}, params)
            if planned + existing < required:
                yield self.fail(
                    target_pk=row["pk"], key=row["code"], community_id=row["community_id"],
                    measured=planned + existing, required=required,
                    message=(f"规划中的综合服务设施“{row['name']}”规划面积 {fmt(planned)}㎡，加上社区已有 {fmt(existing)}㎡，"
                             f"共 {fmt(planned + existing)}㎡，低于应配 {fmt(required)}㎡（{basis}），"
                             f"还差 {fmt(required - planned - existing)}㎡"),
                )


@register
class ResidentialUtilities(Rule):
    id = "M19.residential_utilities"
    reading = (
        "措施十九：社区综合服务设施水、电、气、暖价格执行居民生活类价格。口径：计入的（已移交、使用中）综合服务设施，"
        "“水电气暖执行居民价格”为否即违规，未登记为预警（待核实登记）。"
    )
    reads = {Facility: same_pk, Community: _facilities_of_revoked}

    def target_queryset(self, as_of):
        return Facility.objects.filter(kind=FacilityKind.CENTER).exclude(community__status="revoked")

    def evaluate(self, queryset, as_of, params):
        rows = (
            queryset.filter(counting(as_of)).filter(Q(residential_utilities=False) | Q(residential_utilities__isnull=True))
            .order_by().values("pk", "code", "name", "community_id", "residential_utilities")
        )
        for row in rows:
            if row["residential_utilities"] is False:
                yield self.fail(target_pk=row["pk"], key=row["code"], community_id=row["community_id"],
                                measured="否", required="是", severity="violation",
                                message=f"综合服务设施“{row['name']}”水、电、气、暖未执行居民生活类价格")
            else:
                yield self.fail(target_pk=row["pk"], key=row["code"], community_id=row["community_id"],
                                measured="未登记", required="是", severity="warning",
                                message=f"综合服务设施“{row['name']}”未登记水、电、气、暖是否执行居民生活类价格，请核实登记")


# M19.property_fee reads of a compound its 住宅物业服务收费标准 and, in the message, its name.
@watching("residential_property_fee", "name")
def _centers_in_compounds(objs) -> list[int]:
    return list(Facility.objects.filter(compound_id__in=[o.pk for o in objs]).values_list("pk", flat=True))


@register
class PropertyFee(Rule):
    id = "M19.property_fee"
    reading = (
        "措施十九：社区综合服务设施的物业服务收费标准不超过本小区住宅类物业服务收费标准。口径：计入的（已移交、使用中）"
        "综合服务设施，登记了所在小区和物业服务收费、且该小区登记了住宅物业服务收费标准的，设施收费高于小区标准即违规"
        "（以小数比较，相等不违规）；任一项未登记的不判断。"
    )
    reads = {Facility: same_pk, Community: _facilities_of_revoked, "communities.Compound": _centers_in_compounds}

    def target_queryset(self, as_of):
        return Facility.objects.filter(kind=FacilityKind.CENTER).exclude(community__status="revoked")

    def evaluate(self, queryset, as_of, params):
        rows = (
            queryset.filter(counting(as_of), property_fee__isnull=False,
                            compound__residential_property_fee__isnull=False,
                            property_fee__gt=F("compound__residential_property_fee"))
            .order_by().values("pk", "code", "name", "community_id", "property_fee", "compound__name",
                               "compound__residential_property_fee")
        )
        for row in rows:
            fee, cap = _dec(row["property_fee"]), _dec(row["compound__residential_property_fee"])
            if fee > cap:
                yield self.fail(
                    target_pk=row["pk"], key=row["code"], community_id=row["community_id"], measured=fee, required=cap,
                    message=(f"综合服务设施“{row['name']}”物业服务收费 {fmt(fee)}元/㎡·月，高于所在小区“{row['compound__name']}”"
                             f"住宅类收费标准 {fmt(cap)}元/㎡·月"),
                )
