"""措施 rules that read only communities and compounds (see compliance.rules for how to write one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from django.db import models
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Trim
from django.utils import timezone

from compliance.rules import (
    DISTRICT_KEY,
    DISTRICT_PK,
    Mapper,
    Result,
    Rule,
    district,
    one_to_one,
    register,
    same_pk,
    same_pk_watching,
    via,
    watching,
)

from .models import (
    AdjustmentKind,
    Community,
    CommunityAdjustment,
    CommunityStatus,
    Compound,
    MonitoringPoint,
    PropertyService,
    TypicalCase,
    TypicalCaseKind,
)


def fmt_pct(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


# What every rule judging a community reads of it, whatever else it reads: whether it is judged at all on the
# day (Community.objects.judged: 撤销 status and date, 成立/批复 dates; the engine's election window: 批复日期),
# the finding's key (社区代码) and the 街办 the finding is filed under.
JUDGED_COLUMNS = ("status", "revoked_on", "founded_on", "approved_on", "sub_district_id", "code")


def community_columns(*columns: str) -> Mapper:
    """The mapper of a rule judging communities that reads these columns of them (and ``JUDGED_COLUMNS``): an
    edit of any other column (户数 for 四至) does not re-judge it. tests/compliance/test_watched_columns.py
    changes every column a rule does not name and checks that its findings stay the same."""
    return same_pk_watching(*sorted({*JUDGED_COLUMNS, *columns}))


# The compound rules read a community only through judged_compounds() (its 撤销 status); a compound's findings
# carry its own 街办. Included anyway: the 街办, should a rule ever file under the community's.
@watching("status", "sub_district_id")
def compounds_of_communities(objs) -> list[int]:
    """A community's change (e.g. 撤销) re-judges its compounds."""
    ids = [o.pk for o in objs if o.pk is not None]
    return list(Compound.objects.filter(community_id__in=ids).values_list("pk", flat=True)) if ids else []


def judged_compounds():
    """Compounds in the district, except those of a 撤销 community."""
    return Compound.objects.filter(Q(community__isnull=True) | ~Q(community__status=CommunityStatus.REVOKED))


def built_by(as_of) -> Q:
    """A compound built after the as-of date did not exist yet; one without a date is taken as existing."""
    return Q(built_on__isnull=True) | Q(built_on__lte=as_of)


BOUNDARY_FIELDS = (("east", "东至"), ("south", "南至"), ("west", "西至"), ("north", "北至"))


@register
class Households(Rule):
    id = "M04.households"
    reading = (
        "措施四：社区一般按照1000户~5000户规模设立。户数少于下限为微型社区，多于上限为超大型社区，"
        "两端都含在范围内（1000户、5000户达标）。户数与人口是两条规则，社区可以只符合其中一条；"
        "超大型、微型的划分以户数为准。"
    )
    reads = {Community: community_columns("households")}

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

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
        "已提供社区用房=否；建成日期晚于评估日期的小区尚未建成，不判断。应配建而未提供、却没有登记建成日期的小区"
        "无法判断是否属于历史欠账，列为预警（数据缺口），登记建成日期后按日期判断。"
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
        gaps = queryset.filter(built_on__isnull=True, must_provide_facility=True, facility_provided=False).values(
            "pk", "code", "name", "community_id", "sub_district__code")
        for row in gaps:
            yield Result(
                target_pk=row["pk"], key=row["code"], community_id=row["community_id"], passed=False,
                severity="warning", measured="建成日期未登记", required="登记建成日期",
                message=(f"小区“{row['name']}”应配建社区用房但未提供，未登记建成日期，无法判断是否属于"
                         f"{since:%Y-%m-%d}以后的历史欠账，请登记建成日期"),
                sub_district_id=row["sub_district__code"],
            )


@register
class CompoundRegister(Rule):
    id = "M03.compound_register"
    reading = (
        "措施三：社区管理无死角、无盲区。口径：划入社区的小区/院落户数之和与社区户数相差超过社区户数的10%（参数，"
        "含两端不算超过），说明小区登记不全或划错，给出预警；没有登记小区的社区合计为0。"
    )
    reads = {Community: community_columns("households"), Compound: via("community_id")}

    def target_queryset(self, as_of):
        return Community.objects.judged()

    def evaluate(self, queryset, as_of, params):
        tolerance = Decimal(str(params["tolerance"]))
        total = Subquery(
            Compound.objects.filter(community=OuterRef("pk")).order_by().values("community")
            .annotate(n=Sum("households")).values("n"), output_field=IntegerField())
        rows = queryset.order_by().annotate(listed=Coalesce(total, 0)).values(
            "pk", "code", "households", "listed", "sub_district_id")
        for row in rows:
            households, listed = row["households"] or 0, row["listed"] or 0
            # |listed − 户数| × 100 > 户数 × tolerance, in integers and decimals: no float at the edge.
            if abs(listed - households) * 100 <= households * tolerance:
                continue
            gap = listed - households
            yield self.fail(
                target_pk=row["pk"], key=row["code"], community_id=row["pk"], measured=listed, required=households,
                message=(f"已登记小区/院落合计 {listed} 户，与社区户数 {households} 户相差 {abs(gap)} 户"
                         f"（{'多' if gap > 0 else '少'}于社区户数，允许相差 {fmt_pct(tolerance)}%），请核对小区登记是否齐全、划分是否正确"),
                sub_district_id=row["sub_district_id"],
            )


@register
class SubDistrictRule(Rule):
    id = "M01.sub_district"
    reading = (
        "措施一：各街办具体承担社区综合管理职责，每个社区有且只有一个管理主体街办。口径：社区登记了所属街道，"
        "且其下所有小区/院落登记在同一街道；社区的小区登记在其他街道即为多头管理（管理主体不唯一）。"
        "不评估已撤销的社区。"
    )
    reads = {Community: community_columns(), Compound: via("community_id")}

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def evaluate(self, queryset, as_of, params):
        # Compound.sub_district points at the 街办's pk, Community.sub_district at its code.
        elsewhere = Q(compounds__sub_district__isnull=False) & ~Q(compounds__sub_district__code=F("sub_district"))
        rows = (
            queryset.annotate(
                other_streets=Count("compounds__sub_district", filter=elsewhere, distinct=True),
                stray=Count("compounds", filter=elsewhere, distinct=True),
            )
            .filter(Q(sub_district__isnull=True) | Q(other_streets__gt=0))
            .values("pk", "code", "sub_district_id", "sub_district__name", "other_streets", "stray")
        )
        for row in rows:
            if row["sub_district_id"] is None:
                measured, message = 0, "社区未登记所属街道办事处，没有管理主体（应有且只有1个）"
            else:
                measured = 1 + row["other_streets"]
                message = (
                    f"社区属{row['sub_district__name']}，但有 {row['stray']} 个小区登记在其他 {row['other_streets']} 个街道，"
                    f"管理主体 {measured} 个，应有且只有 1 个"
                )
            yield self.fail(target_pk=row["pk"], key=row["code"], community_id=row["pk"], measured=measured,
                            required=1, message=message, sub_district_id=row["sub_district_id"])


@register
class CompoundUnassigned(Rule):
    id = "M03.compound_unassigned"
    reading = (
        "措施三：社区管理全覆盖，无死角、无盲区。口径：区内每个居住小区（院落）都划入一个社区；"
        "没有所属社区的小区即为盲区，按其所在街道列出（没有所在街道的由区民政局认领）。"
        "建成日期晚于评估日期的小区尚未建成，不判断；已撤销社区的小区随社区不再评估。"
    )
    reads = {Compound: same_pk, Community: compounds_of_communities}

    def target_queryset(self, as_of):
        return judged_compounds()

    def evaluate(self, queryset, as_of, params):
        rows = queryset.filter(built_by(as_of), community__isnull=True).values(
            "pk", "code", "name", "households", "sub_district__code", "sub_district__name"
        )
        for row in rows:
            where = f"位于{row['sub_district__name']}" if row["sub_district__code"] else "所在街道也未登记"
            yield self.fail(
                target_pk=row["pk"], key=row["code"], community_id=None, measured="未划入社区",
                required="划入一个社区",
                message=f"小区“{row['name']}”（{row['households']} 户）{where}，尚未划入任何社区，属管理盲区",
                sub_district_id=row["sub_district__code"],
            )


@register
class JurisdictionDispute(Rule):
    id = "M03.jurisdiction_dispute"
    reading = (
        "措施三：管理尚未明确或难以明确的区域，由区民政局裁定管理主体（与其他行政区或开发区之间的，由区民政局报"
        "市民政局裁定）。口径：标记“管理主体未明确”的小区，自登记未明确之日起 90 天（参数）内应有裁定；"
        "第 1–90 天为预警，第 91 天起为违规。裁定日期不晚于评估日期的裁定即告解决；评估日期以后的裁定、"
        "以及登记日期晚于评估日期的争议尚未发生。没有登记日期的按预警列出，请补录。"
    )
    reads = {Compound: same_pk, Community: compounds_of_communities}

    def target_queryset(self, as_of):
        return judged_compounds()

    def evaluate(self, queryset, as_of, params):
        limit = params["ruling_days"]
        rows = queryset.filter(
            Q(unclear_since__isnull=True) | Q(unclear_since__lte=as_of),
            jurisdiction_unclear=True,
        ).exclude(ruling_on__lte=as_of).values(
            "pk", "code", "name", "community_id", "sub_district__code", "unclear_since"
        )
        for row in rows:
            since = row["unclear_since"]
            base = dict(target_pk=row["pk"], key=row["code"], community_id=row["community_id"],
                        sub_district_id=row["sub_district__code"], required=limit)
            if since is None:
                yield self.fail(**base, severity="warning", measured="未登记日期",
                                message=(f"小区“{row['name']}”管理主体未明确，未登记未明确日期，无法计算 {limit} 天"
                                         "裁定期限，请补录并报区民政局裁定"))
                continue
            days = (as_of - since).days
            deadline = since + timedelta(days=limit)
            if days <= limit:
                severity = "warning"
                tail = f"应于 {deadline:%Y-%m-%d} 前（{limit} 天内）由区民政局裁定管理主体"
            else:
                severity = "violation"
                tail = f"已超过 {limit} 天裁定期限（{deadline:%Y-%m-%d}）"
            yield self.fail(
                **base, severity=severity, measured=days,
                message=(f"小区“{row['name']}”管理主体未明确，自 {since:%Y-%m-%d} 登记起已 {days} 天未裁定，{tail}"
                         "（涉及外区或开发区的由市民政局裁定）"),
            )


@register
class Boundaries(Rule):
    id = "M04.boundaries"
    reading = (
        "措施四：合理划分社区管辖范围，确保四至清晰。口径：东至、南至、西至、北至四项都已填写"
        "（只含空格视为未填）；缺任一项即违规。"
    )
    reads = {Community: community_columns("east", "south", "west", "north")}

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def evaluate(self, queryset, as_of, params):
        trimmed = {f"{name}_t": Trim(name) for name, _label in BOUNDARY_FIELDS}
        missing = Q()
        for name, _label in BOUNDARY_FIELDS:
            missing |= Q(**{f"{name}_t": ""})
        rows = queryset.annotate(**trimmed).filter(missing).values(
            "pk", "code", "sub_district_id", *trimmed
        )
        for row in rows:
            absent = [label for name, label in BOUNDARY_FIELDS if not row[f"{name}_t"]]
            recorded = len(BOUNDARY_FIELDS) - len(absent)
            yield self.fail(
                target_pk=row["pk"], key=row["code"], community_id=row["pk"], measured=recorded, required=4,
                message=f"四至已填 {recorded} 项，缺{'、'.join(absent)}；东至、南至、西至、北至应全部填写",
                sub_district_id=row["sub_district_id"],
            )


@register
class Population(Rule):
    id = "M04.population"
    reading = (
        "措施四：社区一般按照5000人~15000人规模设立（以常住人口计，两端含在范围内）。"
        "与户数是两条规则，社区可以只符合其中一条；超大型、微型的划分以户数为准。"
    )
    reads = {Community: community_columns("population", "households")}

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def evaluate(self, queryset, as_of, params):
        low, high = params["min_population"], params["max_population"]
        rows = queryset.filter(Q(population__lt=low) | Q(population__gt=high)).values(
            "pk", "code", "households", "population", "sub_district_id"
        )
        for row in rows:
            n = row["population"]
            bound = f"低于下限 {low} 人" if n < low else f"高于上限 {high} 人"
            yield self.fail(
                target_pk=row["pk"], key=row["code"], community_id=row["pk"], measured=n, required=f"{low}~{high}",
                message=f"户数 {row['households']} 户，常住人口 {n} 人，{bound}（应在 {low}~{high} 人之间）",
                sub_district_id=row["sub_district_id"],
            )


def _plan_exists(as_of):
    """An adjustment record dated on or before the as-of date; 暂不调整 counts only with a reason."""
    return Exists(
        CommunityAdjustment.objects.filter(community=OuterRef("pk"), recorded_on__lte=as_of)
        .annotate(reason_t=Trim("reason"))
        .exclude(kind=AdjustmentKind.DEFER, reason_t="")
    )


@register
class AdjustmentPlan(Rule):
    id = "M06.adjustment_plan"
    reading = (
        "措施六：合理制定超大型社区拆分和微型社区整合工作计划，不搞“一刀切”。口径：户数高于上限（超大型）"
        "或低于下限（微型）的社区，须有一条登记日期不晚于评估日期的调整记录：拆分或合并计划，"
        "或写明理由的“暂不调整”。"
    )
    reads = {Community: community_columns("households"), CommunityAdjustment: via("community_id")}

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def evaluate(self, queryset, as_of, params):
        low, high = params["min_households"], params["max_households"]
        rows = (
            queryset.filter(Q(households__lt=low) | Q(households__gt=high))
            .filter(~_plan_exists(as_of))
            .values("pk", "code", "households", "sub_district_id")
        )
        for row in rows:
            n = row["households"]
            if n > high:
                scale, plan = f"超大型社区（户数 {n} 户，高于 {high} 户）", "拆分计划"
            else:
                scale, plan = f"微型社区（户数 {n} 户，低于 {low} 户）", "合并计划"
            yield self.fail(
                target_pk=row["pk"], key=row["code"], community_id=row["pk"], measured="无调整记录",
                required=f"{plan}或暂不调整（附理由）",
                message=f"{scale}尚无调整记录，应制定{plan}，或登记“暂不调整”并写明理由",
                sub_district_id=row["sub_district_id"],
            )


@watching("households", "revoked_on")
@one_to_one
def in_district_plan(objs: Sequence[models.Model]) -> list[int]:
    """The district's progress counts only communities with an adjustment in the district plan, by their 户数 and
    撤销: a clerk's 户数 edit of any other community (most saves) leaves it as it was, and the worker need not
    judge the district again (about a quarter of a save's re-judging). A new community has no adjustment yet."""
    pks = [o.pk for o in objs if o.pk is not None]
    planned = CommunityAdjustment.objects.filter(community_id__in=pks, in_district_plan=True)
    return [DISTRICT_PK] if pks and planned.exists() else []


@register
class DistrictAdjustment(Rule):
    id = "M06.district_adjustment"
    reading = (
        "措施六：推进全区符合条件的7个超大型社区、8个微型社区逐步优化调整（参数）。口径：只计列入全区调整计划的"
        "社区（调整记录勾选“列入全区调整计划”）。列入“拆分”计划的社区，已撤销（拆分后原社区撤销）或评估日的户数"
        "（按社区历史记录）已不高于户数上限（与措施四共用，默认5000户），计为已拆分；列入“合并”计划的社区，已撤销"
        "或评估日户数已不低于户数下限（默认1000户），计为已合并。记录和撤销日期都不晚于评估日期；"
        "列入计划但尚未完成的计为“已列入计划”。进度未达目标时提示。"
    )
    reads = {Community: in_district_plan, CommunityAdjustment: district}

    def target_queryset(self, as_of):
        return None

    def progress(self, as_of, params) -> dict[str, int]:
        """Split and merged communities on ``as_of``, and those with a plan not yet carried out."""
        low, high = params["min_households"], params["max_households"]

        def has(kind):
            return Exists(CommunityAdjustment.objects.filter(community=OuterRef("pk"), kind=kind, recorded_on__lte=as_of,
                                                             in_district_plan=True))

        # 户数 as the community's history said at the end of as_of (its earliest record if none is that old).
        history = Community.history.model.objects.filter(id=OuterRef("pk")).order_by()
        end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())
        then = Coalesce(
            Subquery(history.filter(history_date__lt=end).order_by("-history_date", "-history_id")
                     .values("households")[:1]),
            Subquery(history.order_by("history_date", "history_id").values("households")[:1]),
            F("households"),
        )
        live = ~Q(revoked_on__lte=as_of)
        gone = Q(revoked_on__lte=as_of)
        counts = (
            Community.objects.annotate(split_rec=has(AdjustmentKind.SPLIT), merge_rec=has(AdjustmentKind.MERGE))
            .filter(Q(split_rec=True) | Q(merge_rec=True))
            .annotate(households_then=then)
            .aggregate(
                split_all=Count("pk", filter=Q(split_rec=True)),
                split_done=Count("pk", filter=Q(split_rec=True) & (gone | (live & Q(households_then__lte=high)))),
                merge_all=Count("pk", filter=Q(merge_rec=True)),
                merge_done=Count("pk", filter=Q(merge_rec=True) & (gone | (live & Q(households_then__gte=low)))),
            )
        )
        return {"split_done": counts["split_done"], "merge_done": counts["merge_done"],
                "split_planned": counts["split_all"] - counts["split_done"],
                "merge_planned": counts["merge_all"] - counts["merge_done"]}

    def evaluate(self, queryset, as_of, params):
        split_goal, merge_goal = params["oversized_to_split"], params["micro_to_merge"]
        counts = self.progress(as_of, params)
        split_done, merge_done = counts["split_done"], counts["merge_done"]
        if split_done >= split_goal and merge_done >= merge_goal:
            return
        split_planned, merge_planned = counts["split_planned"], counts["merge_planned"]
        measured = f"已拆分 {split_done}/{split_goal}，已合并 {merge_done}/{merge_goal}"
        yield self.fail(
            target_pk=DISTRICT_PK, key=DISTRICT_KEY, community_id=None, measured=measured,
            required=f"拆分超大型社区 {split_goal} 个，合并微型社区 {merge_goal} 个",
            message=(f"全区超大型社区已拆分 {split_done}/{split_goal} 个（另有 {split_planned} 个已列入拆分计划），"
                     f"微型社区已合并 {merge_done}/{merge_goal} 个（另有 {merge_planned} 个已列入合并计划）"),
        )


@register
class SocialOrgs(Rule):
    id = "M17.social_orgs"
    reading = (
        "措施十七：加大社区社会组织培育力度，力争2025年达到每个社区拥有不少于10个社区社会组织（参数）。"
        "口径：社区登记的社会组织数不少于下限即达标，10个达标、9个预警；“力争”之目标按预警处理。"
    )
    reads = {Community: community_columns("social_org_count")}

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def evaluate(self, queryset, as_of, params):
        need = params["min_social_orgs"]
        for row in queryset.filter(social_org_count__lt=need).values("pk", "code", "social_org_count", "sub_district_id"):
            n = row["social_org_count"]
            yield self.fail(
                target_pk=row["pk"], key=row["code"], community_id=row["pk"], measured=n, required=need,
                message=(f"社区社会组织 {n} 个，少于 {need} 个（{params['target_year']}年目标：每个社区不少于 {need} 个），"
                         f"还差 {need - n} 个"),
                sub_district_id=row["sub_district_id"],
            )


@register
class DistrictTargets(Rule):
    id = "M17.district_targets"
    reading = (
        "措施十七：全区设立12个社区减负增效工作监测点，创树10个社会组织参与社区治理典型案例，"
        "每年征集评选一批议事协商优秀典型案例（参数）。口径：确定日期不晚于评估日期、所在社区未撤销的监测点数；"
        "评选年度不晚于评估年度的“社会组织参与治理”案例累计数；评估年度评选的“议事协商”案例数"
        "（至少1个，当年未评选即提示）。三项都达到时无提示。"
    )
    reads = {MonitoringPoint: district, TypicalCase: district, Community: district}

    def target_queryset(self, as_of):
        return None

    def progress(self, as_of, params) -> dict[str, int]:
        """The district's counts on ``as_of`` (also shown on the district figures page)."""
        points = MonitoringPoint.objects.filter(designated_on__lte=as_of).exclude(
            community__revoked_on__lte=as_of
        ).count()
        cases = TypicalCase.objects.filter(year__lte=as_of.year).aggregate(
            social=Count("pk", filter=Q(kind=TypicalCaseKind.SOCIAL_ORG)),
            consult=Count("pk", filter=Q(kind=TypicalCaseKind.CONSULTATION, year=as_of.year)),
        )
        return {"points": points, "social": cases["social"], "consult": cases["consult"]}

    def evaluate(self, queryset, as_of, params):
        want_points, want_cases = params["monitoring_points"], params["typical_cases"]
        want_consult = params["consultation_cases_per_year"]
        counts = self.progress(as_of, params)
        points, social, consult = counts["points"], counts["social"], counts["consult"]
        if points >= want_points and social >= want_cases and consult >= want_consult:
            return
        yield self.fail(
            target_pk=DISTRICT_PK, key=DISTRICT_KEY, community_id=None,
            measured=f"监测点 {points}/{want_points}，典型案例 {social}/{want_cases}，{as_of.year}年议事协商案例 {consult}",
            required=f"监测点 {want_points} 个，社会组织参与治理典型案例 {want_cases} 个，每年议事协商案例不少于 {want_consult} 个",
            message=(f"全区减负增效监测点 {points} 个（目标 {want_points} 个），社会组织参与社区治理典型案例 {social} 个"
                     f"（目标 {want_cases} 个），{as_of.year}年评选议事协商优秀典型案例 {consult} 个"
                     f"（每年至少 {want_consult} 个）"),
        )


@register
class PropertyServiceRule(Rule):
    id = "M18.property_service"
    reading = (
        "措施十八：采取市场化引入、居民自我管理、国有物业服务企业兜底等措施，推进小区物业服务全覆盖。"
        "口径：每个小区登记的物业服务方式为市场化物业、居民自管、国企兜底或单位自管之一；“无”即违规。"
        "单位自管小区须登记共建共管协议签订日期（不晚于评估日期），否则违规。未划入社区的小区同样评估。"
    )
    reads = {Compound: same_pk, Community: compounds_of_communities}

    def target_queryset(self, as_of):
        return judged_compounds()

    def evaluate(self, queryset, as_of, params):
        no_agreement = Q(property_service=PropertyService.EMPLOYER) & (
            Q(co_management_signed_on__isnull=True) | Q(co_management_signed_on__gt=as_of))
        rows = queryset.filter(built_by(as_of)).filter(Q(property_service=PropertyService.NONE) | no_agreement).values(
            "pk", "code", "name", "households", "community_id", "sub_district__code", "property_service"
        )
        for row in rows:
            if row["property_service"] == PropertyService.EMPLOYER:
                yield self.fail(
                    target_pk=row["pk"], key=row["code"], community_id=row["community_id"],
                    measured="未签订共建共管协议", required="单位自管须签订共建共管协议",
                    message=f"单位自管小区“{row['name']}”（{row['households']} 户）未登记共建共管协议",
                    sub_district_id=row["sub_district__code"],
                )
                continue
            yield self.fail(
                target_pk=row["pk"], key=row["code"], community_id=row["community_id"],
                measured=PropertyService.NONE.label, required="市场化物业/居民自管/国企兜底/单位自管",
                message=(f"小区“{row['name']}”（{row['households']} 户）无物业服务，应采取市场化物业、居民自管、"
                         "国企兜底或单位自管之一"),
                sub_district_id=row["sub_district__code"],
            )


@register
class PropertyCommittee(Rule):
    id = "M18.property_committee"
    reading = (
        "措施十八：推行在社区居民委员会下设环境和物业管理委员会。口径：社区登记为已设立即达标；"
        "“推行”为倡导性要求，未设立的给出提示。"
    )
    reads = {Community: community_columns("has_property_committee")}

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def evaluate(self, queryset, as_of, params):
        for row in queryset.filter(has_property_committee=False).values("pk", "code", "sub_district_id"):
            yield self.fail(
                target_pk=row["pk"], key=row["code"], community_id=row["pk"], measured="未设立", required="设立",
                message="居委会尚未下设环境和物业管理委员会（措施十八推行设立）",
                sub_district_id=row["sub_district_id"],
            )
