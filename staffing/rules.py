"""措施六、十 to 十五: the rules that read people, seats and employments.

Readings (docs/clauses.md, "Exact readings"): a seat or an employment is active on
D when it started on or before D and has not ended on or before D; only
active rows count. Party organisation members are the distinct persons with
an active 书记/副书记/委员 seat; committee members likewise with 主任/副主任/
委员; 两委 persons the distinct persons in either; community workers the
persons with an active employment, full-time when 专职. A share with an empty
denominator fails with measured 0.

Community rules annotate the community queryset with correlated subqueries
(one query for all targets). Person rules judge ``Person`` rows (key: the
opaque 人员编号, never the ID number) with Exists/Subquery annotations, one
query per rule.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import ClassVar

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from communities.models import Community, CommunityStatus, PartyOrgType
from communities.rules import community_columns
from compliance.catalogue import Severity
from compliance.rules import Result, Rule, chunk_of, one_to_one, range_q, register, same_pk, via, watching

from .models import (
    Assessment,
    Body,
    Employment,
    LeaveWay,
    Person,
    Seat,
    SeatRole,
    TrainingAttendance,
    TrainingEvent,
    TrainingKind,
    Vacancy,
    active_on,
)

# 措施十's figures (3~5, 5~9, the 2000/4000 户 cut points, the typical sizes) are the rules' dated parameters
# (compliance/catalogue.py); the helpers below take those in force rather than keeping copies.
_TYPICAL_PARAM: dict[str, str] = {PartyOrgType.BRANCH: "typical_branch", PartyOrgType.GENERAL_BRANCH: "typical_general_branch",
                  PartyOrgType.COMMITTEE: "typical_party_committee"}


def typical_party_size(kind: str, params: dict) -> int:
    """The usual 党组织 size for its type (党支部 3, 党总支/党委 5 by default); an unknown type reads as 党支部."""
    return int(params[_TYPICAL_PARAM.get(kind, "typical_branch")])


# --- shared annotations ----------------------------------------------------------


def _seats(as_of: dt.date, body: str | None = None):
    qs = Seat.objects.filter(active_on("", as_of, "start_on", "end_on"))
    return qs.filter(body=body) if body else qs


def _jobs(as_of: dt.date):
    return Employment.objects.filter(active_on("", as_of, "entry_on", "leave_on"))


def _count_persons(qs) -> Coalesce:
    """Distinct persons of ``qs`` in the outer community, as a correlated subquery."""
    sub = (
        qs.filter(community=OuterRef("pk"))
        .order_by()
        .values("community")
        .annotate(n=Count("person", distinct=True))
        .values("n")[:1]
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), 0)


COMPOSITION = ("party_n", "committee_n", "cross_n", "liangwei_n", "fulltime_n", "workers_n")


def annotate_composition(queryset, as_of: dt.date, names: tuple[str, ...] = COMPOSITION):
    """两委 composition of each community on ``as_of`` (only the figures asked for): one SQL statement."""
    party = _seats(as_of, Body.PARTY)
    committee = _seats(as_of, Body.COMMITTEE)

    def cross():
        also_committee = Exists(committee.filter(person=OuterRef("person"), community=OuterRef("community")))
        return _count_persons(party.filter(also_committee))

    def fulltime():
        fulltime_job = Exists(
            _jobs(as_of).filter(person=OuterRef("person"), community=OuterRef("community"), full_time=True)
        )
        return _count_persons(_seats(as_of).filter(fulltime_job))

    makers = {
        "party_n": lambda: _count_persons(party),
        "committee_n": lambda: _count_persons(committee),
        "cross_n": cross,
        "liangwei_n": lambda: _count_persons(_seats(as_of)),
        "fulltime_n": fulltime,
        "workers_n": lambda: _count_persons(_jobs(as_of)),
    }
    return queryset.annotate(**{name: makers[name]() for name in names})


def composition_of(seats, jobs) -> dict[str, int]:
    """``annotate_composition``'s six figures for one community, from its seats and jobs active on the day
    (``Seat.objects.active_on(day)``/``Employment.objects.active_on(day)`` of that community), as the
    community's 两委 page has already read them: the same definitions, counted without a query."""
    party = {s.person_id for s in seats if s.body == Body.PARTY}
    committee = {s.person_id for s in seats if s.body == Body.COMMITTEE}
    members = {s.person_id for s in seats}
    return {
        "party_n": len(party),
        "committee_n": len(committee),
        "cross_n": len(party & committee),
        "liangwei_n": len(members),
        "fulltime_n": len(members & {j.person_id for j in jobs if j.full_time}),
        "workers_n": len({j.person_id for j in jobs}),
    }


def required_workers(population: int, per_10k: int | float) -> int:
    """ceil(population × per_10k / 10000), exactly (10000 → 18, 10001 → 19)."""
    per = Decimal(str(per_10k))
    return math.ceil(Decimal(population) * per / Decimal(10000))


def expected_committee_size(households: int, params: dict) -> int:
    """措施十: below ``small_below`` 户 5, up to ``large_above`` (inclusive) 7, above it 9 (the defaults)."""
    if households < params["small_below"]:
        return int(params["expected_small"])
    if households <= params["large_above"]:
        return int(params["expected_middle"])
    return int(params["expected_large"])


def share_ok(part: int, whole: int, minimum: int | float) -> bool:
    """part/whole ≥ minimum%, compared exactly; an empty whole fails."""
    return whole > 0 and Decimal(part) * 100 >= Decimal(str(minimum)) * whole


def percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal(0)
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"))


def month_day(year: int, text: str) -> dt.date:
    month, day = (int(x) for x in str(text).split("-"))
    return dt.date(year, month, day)


def _community_reads(*columns: str) -> dict:
    """The community (these columns of it), its seats and its jobs."""
    return {Community: community_columns(*columns), Seat: via("community_id"), Employment: via("community_id")}


_VALUES = ("pk", "code", "name", "households", "population", "party_org_type", "sub_district_id")


class CommunityRule(Rule):
    # The composition figures read only the community's seats and jobs; a rule reading more of the community
    # (户数, 人口, 党组织类型) says so.
    reads = _community_reads()
    needs: tuple[str, ...] = COMPOSITION

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def rows(self, queryset, as_of):
        return annotate_composition(queryset, as_of, self.needs).values(*_VALUES, *self.needs)

    def result(self, row, **kw) -> Result:
        return self.fail(target_pk=row["pk"], key=row["code"], community_id=row["pk"],
                         sub_district_id=row["sub_district_id"], **kw)


@register
class PartySize(CommunityRule):
    id = "M10.party_size"
    reads = _community_reads("party_org_type")
    needs = ("party_n",)
    reading = (
        "措施十：社区党组织班子成员一般3~5名，党支部一般3名、党总支和党委一般5名。口径：评估日在任的"
        "书记、副书记、委员（去重人数）。少于3或多于5为违规；在3~5之间但不是该类型的通常人数为提示。"
    )

    def evaluate(self, queryset, as_of, params):
        labels = dict(PartyOrgType.choices)  # not PartyOrgType(kind) per row: the enum's lookups cost a first sweep
        low, high = params["min_party"], params["max_party"]
        for row in self.rows(queryset, as_of):
            n = row["party_n"]
            kind = row["party_org_type"]
            typical = typical_party_size(kind, params)
            label = labels.get(kind, "党组织")
            if n < low or n > high:
                yield self.result(row, measured=n, required=f"{low}~{high}", severity=Severity.VIOLATION,
                                  message=f"社区{label}班子现有 {n} 人，应为 {low}~{high} 人")
            elif n != typical:
                yield self.result(row, measured=n, required=typical, severity=Severity.NOTICE,
                                  message=f"社区{label}班子现有 {n} 人，{label}一般为 {typical} 人")


@register
class CommitteeSize(CommunityRule):
    id = "M10.committee_size"
    reads = _community_reads("households")
    needs = ("committee_n",)
    reading = (
        "措施十：居委会成员一般5~9名。口径：评估日在任的主任、副主任、委员（去重人数）；户数少于2000户"
        "应为5人，2000~4000户（含两端）应为7人，4000户以上应为9人。少于5或多于9为违规，在5~9之间但"
        "不是应设人数为预警。"
    )

    def evaluate(self, queryset, as_of, params):
        for row in self.rows(queryset, as_of):
            n = row["committee_n"]
            expected = expected_committee_size(row["households"], params)
            low, high = params["min_committee"], params["max_committee"]
            if n < low or n > high:
                yield self.result(
                    row, measured=n, required=expected, severity=Severity.VIOLATION,
                    message=(f"居委会现有 {n} 人，应在 {low}~{high} 人之间"
                             f"（{row['households']} 户应设 {expected} 人）"),
                )
            elif n != expected:
                yield self.result(row, measured=n, required=expected, severity=Severity.WARNING,
                                  message=f"居委会现有 {n} 人，{row['households']} 户应设 {expected} 人")


class ShareRule(CommunityRule):
    """A share of the 两委 at or above a minimum percentage: ``part`` ÷ ``whole`` (composition figures) against
    ``params[minimum]``, compared exactly (``share_ok``); an empty whole fails and measures 0."""

    part: ClassVar[str]
    whole: ClassVar[str]
    minimum: ClassVar[str]

    def evaluate(self, queryset, as_of, params):
        minimum = params[self.minimum]
        for row in self.rows(queryset, as_of):
            part, whole = row[self.part], row[self.whole]
            if not share_ok(part, whole, minimum):
                yield self.result(row, measured=percent(part, whole), required=minimum,
                                  message=self.message(part, whole, minimum))

    def message(self, part: int, whole: int, minimum) -> str:
        raise NotImplementedError


@register
class CrossAppointment(ShareRule):
    id = "M10.cross_appointment"
    part, whole = "cross_n", "party_n"
    needs = (part, whole)
    minimum = "min_cross_share"
    reading = (
        "措施十：支委、居委交叉任职比例不低于60%。口径：同时在居委会任职的党组织成员人数 ÷ 党组织成员"
        "人数（不是 ÷ 两委总人数：5+9人的两委在11人上限内至少3人交叉，3/5恰为60%）。没有党组织成员时"
        "按不达标处理，实测为0。"
    )

    def message(self, part, whole, minimum):
        if whole == 0:
            return f"社区党组织没有在任成员，交叉任职比例按0计，应不低于 {minimum}%"
        return (f"交叉任职比例 {percent(part, whole)}%（党组织成员 {whole} 人中 {part} 人同时任居委会成员），"
                f"低于 {minimum}%（口径：交叉任职人数÷党组织成员数）")


@register
class FulltimeShare(ShareRule):
    id = "M10.fulltime_share"
    part, whole = "fulltime_n", "liangwei_n"
    needs = (part, whole)
    minimum = "min_fulltime_share"
    reading = (
        "措施十：社区专职工作者进“两委”比例不低于40%。口径：两委成员（去重人数）中同时是本社区在职"
        "专职社区工作者的人数 ÷ 两委成员人数。两委无人时按不达标处理，实测为0。"
    )

    def message(self, part, whole, minimum):
        if whole == 0:
            return f"社区“两委”没有在任成员，专职社区工作者比例按0计，应不低于 {minimum}%"
        return (f"“两委”{whole} 人中专职社区工作者 {part} 人，比例 {percent(part, whole)}%，低于 {minimum}%"
                "（口径：专职社区工作者人数÷两委去重人数）")


@register
class TotalCap(CommunityRule):
    id = "M10.total_cap"
    needs = ("liangwei_n",)
    reading = "措施十：社区“两委”成员总数不超过11人。口径：评估日在任的两委成员去重人数，交叉任职只算一人。"

    def evaluate(self, queryset, as_of, params):
        cap = params["max_members"]
        for row in self.rows(queryset, as_of):
            if row["liangwei_n"] > cap:
                yield self.result(row, measured=row["liangwei_n"], required=cap,
                                  message=f"社区“两委”成员 {row['liangwei_n']} 人，超过 {cap} 人上限")


@register
class WorkerRatio(CommunityRule):
    id = "M11.worker_ratio"
    reads = _community_reads("population")
    needs = ("workers_n",)
    reading = (
        "措施十一：按每万名城镇常住人口拥有社区工作者18人配备。口径：社区常住人口×18÷10000，向上取整"
        "（10000人应配18人，10001人应配19人）；实有为评估日在职的社区工作者人数。"
    )

    def evaluate(self, queryset, as_of, params):
        per = params["workers_per_10k"]
        for row in self.rows(queryset, as_of):
            required = required_workers(row["population"], per)
            if row["workers_n"] < required:
                yield self.result(
                    row, measured=row["workers_n"], required=required,
                    message=(f"社区工作者 {row['workers_n']} 人，低于应配 {required} 人"
                             f"（常住人口 {row['population']} 人×{per}/万人）"),
                )


@register
class OversizedStaffing(CommunityRule):
    id = "M06.oversized_staffing"
    reads = _community_reads("households", "population")
    needs = ("workers_n",)
    reading = (
        "措施六：暂不拆分的超大型社区通过增加社区工作人员保障服务。口径：户数超过上限（与措施四共用，默认5000户）"
        "的社区，在职社区"
        "工作者应不少于措施十一应配人数×系数（默认1.0，向上取整）再加增配人数（默认1人）。"
    )

    def evaluate(self, queryset, as_of, params):
        factor = Decimal(str(params["oversized_staff_factor"]))
        extra = int(params["oversized_extra_workers"])
        # The ratio and the upper bound are M11.worker_ratio's and M04.households' (catalogue ``shared``).
        per = params["workers_per_10k"]
        for row in self.rows(queryset.filter(households__gt=params["max_households"]), as_of):
            base = required_workers(row["population"], per)
            required = math.ceil(base * factor) + extra
            if row["workers_n"] < required:
                yield self.result(
                    row, measured=row["workers_n"], required=required,
                    message=(f"超大型社区（{row['households']} 户）社区工作者 {row['workers_n']} 人，"
                             f"应不少于 {required} 人（按人口应配 {base} 人，再增配 {extra} 人）"),
                )


@register
class VacancyRule(CommunityRule):
    id = "M11.vacancy"
    reading = (
        "措施十一：两委成员出现空缺的，及时补选。口径：评估日仍未补选（没有补选日期，或补选日期晚于"
        "评估日）的空缺，自出缺日起第90天内（含）为预警，第91天起为违规；以最早的空缺计。离任（离任登记、"
        "离职程序、人员导入）后该组织在任人数加未补选空缺低于措施十的下限（党组织3人、居委会5人）时，"
        "自离任日起自动登记空缺。"
    )
    reads = {Community: community_columns(), Vacancy: via("community_id")}

    def evaluate(self, queryset, as_of, params):
        days = params["vacancy_days"]
        open_vacancies = Vacancy.objects.filter(community=OuterRef("pk"), vacated_on__lte=as_of).filter(
            Q(filled_on__isnull=True) | Q(filled_on__gt=as_of)
        )
        oldest = open_vacancies.order_by().values("community").annotate(d=Min("vacated_on")).values("d")[:1]
        count = open_vacancies.order_by().values("community").annotate(n=Count("pk")).values("n")[:1]
        rows = (
            queryset.annotate(oldest=Subquery(oldest), open_n=Subquery(count, output_field=IntegerField()))
            .filter(oldest__isnull=False)
            .values(*_VALUES, "oldest", "open_n")
        )
        for row in rows:
            oldest_on = row["oldest"]
            if isinstance(oldest_on, str):
                oldest_on = dt.date.fromisoformat(oldest_on)
            elapsed = (as_of - oldest_on).days
            deadline = oldest_on + dt.timedelta(days=days)
            severity = Severity.WARNING if elapsed <= days else Severity.VIOLATION
            yield self.result(
                row, measured=elapsed, required=days, severity=severity,
                message=(f"“两委”有 {row['open_n']} 个空缺未补选，最早的于 {oldest_on:%Y-%m-%d} 出缺，已 {elapsed} 天"
                         f"（应在 {days} 天内即 {deadline:%Y-%m-%d} 前补选）"),
            )


# --- person rules ------------------------------------------------------------------


# A seat, job, attendance or assessment re-judges its own person.
persons_of = via("person_id")


# The training rules read an event's type and date (``_attended``), not its title or organiser.
@watching("kind", "held_on")
def attendees_of_events(objs) -> list[int]:
    ids = [o.pk for o in objs if o.pk is not None]
    if not ids:
        return []
    return list(TrainingAttendance.objects.filter(event_id__in=ids).values_list("person_id", flat=True))


# The person rules read a community only through its 撤销 status (``_live``); their findings are filed under
# its 街办. Other edits (户数, 人口…) re-judge no one's training or archive.
@watching("status", "sub_district_id")
def persons_of_communities(objs) -> list[int]:
    """A community's change (e.g. 撤销) re-judges its people."""
    ids = [o.pk for o in objs if o.pk is not None]
    return list(Person.objects.filter(community_id__in=ids).values_list("pk", flat=True)) if ids else []


def _scope(rows, persons, params):
    """Seats/employments of the persons judged. In a sweep chunk: the rows of the chunk's communities, read by
    the community index (a join back to the chunk's persons scans every row of the table)."""
    bounds = chunk_of(params)
    if bounds is None:
        return rows.filter(person__in=persons)
    return rows.filter(range_q("community_id", bounds))


def _person_columns() -> dict[str, Subquery]:
    """The person's opaque id and name per output row: a join to the 2.3-million-row person table made
    PostgreSQL merge or hash all of it for a chunk's few thousand failing rows."""
    person = Person.objects.filter(pk=OuterRef("person_id")).order_by()
    return {"p_public_id": Subquery(person.values("public_id")[:1]), "p_name": Subquery(person.values("name")[:1])}


def _live(qs):
    """Seats and employments of communities still judged: a 撤销 community's people have no open findings.

    The few revoked ids are read first (one small query): a join to the communities made PostgreSQL hash all
    115,000 of them for every person rule in every sweep chunk."""
    revoked = list(Community.objects.filter(status=CommunityStatus.REVOKED).order_by().values_list("pk", flat=True))
    return qs.exclude(community_id__in=revoked) if revoked else qs


class PersonRule(Rule):
    reads = {Person: same_pk, Employment: persons_of, Seat: persons_of, Community: persons_of_communities}

    def target_queryset(self, as_of):
        return Person.objects.all()


def _as_date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _attended(kind: str, start: dt.date, end: dt.date) -> Exists:
    """The outer row's person attended a training of ``kind`` dated in [start, end].

    Correlated on person_id and probing training_person_event (person, event)
    with the few matching event ids (one small query): an uncorrelated
    ``IN (subquery)`` over millions of attendances does not fit work_mem as a
    hash, and PostgreSQL rescanned it for every row.
    """
    events = list(TrainingEvent.objects.filter(kind=kind, held_on__gte=start, held_on__lte=end)
                  .order_by().values_list("pk", flat=True))
    return Exists(TrainingAttendance.objects.filter(person_id=OuterRef("person_id"), event_id__in=events))


class TrainingRule(PersonRule):
    kind = TrainingKind.GENERAL
    kind_label = "全员培训"
    reads = {**PersonRule.reads, TrainingAttendance: persons_of, TrainingEvent: attendees_of_events}

    def holders(self, queryset, as_of, params):
        """Rows (a seat or an employment) with person_id, community_id and ``since``, the hire date."""
        raise NotImplementedError

    def evaluate(self, queryset, as_of, params):
        year = as_of.year
        hired_by = month_day(year - 1, params["hire_cutoff"])
        due = month_day(year, params["training_due"])
        prev = _attended(self.kind, dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31))
        now = _attended(self.kind, dt.date(year, 1, 1), as_of)
        rows = (
            self.holders(queryset, as_of, params)
            .annotate(trained_prev=prev, trained_now=now)
            .filter(Q(trained_prev=False) | Q(trained_now=False))
            .order_by("person_id", "since")
            .annotate(**_person_columns())
            .values("person_id", "p_public_id", "p_name", "community_id", "since", "trained_prev", "trained_now")
        )
        seen: set[int] = set()
        for row in rows:
            if row["person_id"] in seen:
                continue  # a 书记 who is also 主任: judged once, from the earlier seat
            seen.add(row["person_id"])
            since = _as_date(row["since"])
            common = {"target_pk": row["person_id"], "key": row["p_public_id"],
                      "community_id": row["community_id"], "measured": 0, "required": 1}
            name = row["p_name"]
            if since is not None and since <= hired_by and not row["trained_prev"]:
                yield self.fail(**common, severity=Severity.VIOLATION,
                                message=f"{name}{year - 1}年度未参加{self.kind_label}（{since:%Y-%m-%d}任职，应参加）")
            elif not row["trained_now"]:
                late = as_of >= due
                yield self.fail(
                    **common, severity=Severity.VIOLATION if late else Severity.WARNING,
                    message=(f"{name}{year}年度尚未参加{self.kind_label}"
                             + (f"，已过 {due:%Y-%m-%d} 的期限" if late else f"，应在 {due:%Y-%m-%d} 前完成")),
                )


@register
class WorkerTraining(TrainingRule):
    id = "M12.worker_training"
    reading = (
        "措施十二：社区工作者每年至少参加1次全员培训。口径：评估日在职的社区工作者；上一年9月30日"
        "（含）以前入职而上一年没有全员培训记录的为违规；否则本年（截至评估日）没有全员培训记录的，"
        "12月1日前为预警、12月1日起为违规。"
    )

    def holders(self, queryset, as_of, params):
        return _scope(_live(_jobs(as_of)), queryset, params).annotate(since=F("entry_on"))


@register
class LeaderTraining(TrainingRule):
    id = "M12.leader_training"
    kind = TrainingKind.SPECIAL
    kind_label = "专项培训"
    reading = (
        "措施十二：社区书记、主任每年至少参加1次专项培训。口径：评估日在任的党组织书记和居委会主任"
        "（不论是否社区工作者），任职日期按其书记/主任职务的最早任职日期；日期与严重程度同全员培训。"
    )

    def holders(self, queryset, as_of, params):
        return (
            _scope(_live(_seats(as_of)), queryset, params)
            .filter(Q(body=Body.PARTY, role=SeatRole.SECRETARY) | Q(body=Body.COMMITTEE, role=SeatRole.DIRECTOR))
            .annotate(since=F("start_on"))
        )


@register
class PostGrade(PersonRule):
    id = "M13.post_grade"
    reading = "措施十三：社区工作者实行“三岗十八级”。口径：评估日在职的社区工作者没有岗位（正职/副职/其他）或等级（1~18）的为违规。"

    def evaluate(self, queryset, as_of, params):
        jobs = _live(_jobs(as_of)).filter(Q(post="") | Q(grade__isnull=True)).order_by().values(
            "person_id", "person__public_id", "person__name", "community_id", "post", "grade"
        )
        for job in _scope(jobs, queryset, params):
            missing = [label for label, absent in (("岗位", not job["post"]), ("等级", job["grade"] is None)) if absent]
            yield self.fail(target_pk=job["person_id"], key=job["person__public_id"], community_id=job["community_id"],
                            measured="未定" + "、".join(missing), required="岗位和等级",
                            message=f"社区工作者{job['person__name']}未确定{'、'.join(missing)}（三岗十八级）")


@register
class Archive(PersonRule):
    id = "M13.archive"
    reading = (
        "措施十三：建立社区工作者档案。口径：评估日在职的社区工作者缺少学历、入职日期或入职方式之一的为"
        "预警（身份证号、出生日期在登记时已校验）。"
    )

    def evaluate(self, queryset, as_of, params):
        # The person's 学历 by a subquery on its key, not in an OR across a join: that OR made PostgreSQL join (and
        # hash) every person of the district for each chunk before filtering (0.67 s a chunk at 30 % scale).
        education = Subquery(Person.objects.filter(pk=OuterRef("person_id")).order_by().values("education")[:1])
        jobs = _live(_jobs(as_of)).annotate(p_education=education).filter(
            Q(p_education="") | Q(entry_on__isnull=True) | Q(entry_channel="")
        ).order_by().annotate(**_person_columns()).values(
            "person_id", "p_public_id", "p_name", "p_education", "community_id", "entry_on", "entry_channel",
        )
        for job in _scope(jobs, queryset, params):
            missing = [label for label, absent in (
                ("学历", not job["p_education"]),
                ("入职日期", job["entry_on"] is None),
                ("入职方式", not job["entry_channel"]),
            ) if absent]
            yield self.fail(target_pk=job["person_id"], key=job["p_public_id"], community_id=job["community_id"],
                            measured="缺" + "、".join(missing), required="档案完整",
                            message=f"社区工作者{job['p_name']}的档案缺少{'、'.join(missing)}")


@register
class AnnualAssessment(PersonRule):
    id = "M14.annual_assessment"
    reading = (
        "措施十四：社区工作者实行年度考核。口径：评估日在职、上一年12月31日（含）以前入职的社区工作者，"
        "没有上一年度考核结果的，3月31日（含）前为预警、4月1日起为违规。"
    )
    reads = {**PersonRule.reads, Assessment: persons_of}
    # The planner hashed every assessment of the district for each chunk's anti-join (0.94 s a chunk at 30 %
    # scale, growing with the district); probing the person index for the chunk's employments took 0.29 s.
    chunk_planner = {"enable_hashjoin": "off"}

    def evaluate(self, queryset, as_of, params):
        year = as_of.year
        due = month_day(year, params["assessment_due"])
        # An anti-join on assessment_person_year, not an uncorrelated NOT IN over every assessment.
        assessed = Exists(Assessment.objects.filter(person_id=OuterRef("person_id"), year=year - 1).filter(
            Q(assessed_on__isnull=True) | Q(assessed_on__lte=as_of)
        ))
        rows = (
            _scope(_live(_jobs(as_of)), queryset, params)
            .filter(entry_on__lte=dt.date(year - 1, 12, 31))
            .filter(~assessed)
            .order_by()
            .annotate(**_person_columns())
            .values("person_id", "p_public_id", "p_name", "community_id")
        )
        for row in rows:
            late = as_of > due
            yield self.fail(
                target_pk=row["person_id"], key=row["p_public_id"], community_id=row["community_id"],
                measured="无", required=f"{year - 1}年度考核结果",
                severity=Severity.VIOLATION if late else Severity.WARNING,
                message=(f"社区工作者{row['p_name']}没有{year - 1}年度考核结果"
                         + (f"，已超过 {due:%Y-%m-%d} 的期限" if late else f"，应在 {due:%Y-%m-%d} 前完成")),
            )


def _exits(queryset, as_of, params):
    """Employments of these persons that ended on or before as-of and are not yet filed."""
    return (
        _scope(_live(Employment.objects), queryset, params).filter(leave_on__isnull=False, leave_on__lte=as_of)
        .filter(Q(filed_on__isnull=True) | Q(filed_on__gt=as_of))
    )


@register
class ResignationNotice(PersonRule):
    id = "M15.resignation_notice"
    reading = (
        "措施十五：社区工作者辞职应提前一周书面申请。口径：离职方式为辞职、已离职（离职日期不晚于评估日）"
        "且尚未备案的，没有离职申请日期，或申请日期到离职日期不足7天的为违规；备案后问题关闭（不删除），"
        "人员页在该任职上保留这条违规记录。"
    )

    def evaluate(self, queryset, as_of, params):
        days = params["notice_days"]
        rows = _exits(queryset, as_of, params).filter(leave_way=LeaveWay.RESIGNATION).values(
            "person_id", "person__public_id", "person__name", "community_id", "leave_on", "resignation_submitted_on"
        )
        for row in rows:
            leave_on, submitted = _as_date(row["leave_on"]), _as_date(row["resignation_submitted_on"])
            if submitted is not None and submitted <= as_of and (leave_on - submitted).days >= days:
                continue
            notice = None if submitted is None or submitted > as_of else (leave_on - submitted).days
            yield self.fail(
                target_pk=row["person_id"], key=row["person__public_id"], community_id=row["community_id"],
                measured="无书面申请" if notice is None else notice, required=days,
                message=(f"{row['person__name']}于 {leave_on:%Y-%m-%d} 辞职，"
                         + ("没有书面辞职申请记录" if notice is None
                            else f"书面申请（{submitted:%Y-%m-%d}）仅提前 {notice} 天")
                         + f"，应提前 {days} 天"),
            )


@register
class ExitFiling(PersonRule):
    id = "M15.exit_filing"
    reading = (
        "措施十五：辞职经街办审批、辞退由街办决定后，报区民政局备案。口径：离职方式为辞职或辞退、有离职"
        "日期且没有备案日期（或备案日期晚于评估日）的，离职后第30天内（含）为预警，第31天起为违规。"
    )

    def evaluate(self, queryset, as_of, params):
        days = params["filing_days"]
        rows = _exits(queryset, as_of, params).filter(leave_way__in=[LeaveWay.RESIGNATION, LeaveWay.DISMISSAL]).values(
            "person_id", "person__public_id", "person__name", "community_id", "leave_on", "leave_way"
        )
        for row in rows:
            leave_on = _as_date(row["leave_on"])
            elapsed = (as_of - leave_on).days
            way = LeaveWay(row["leave_way"]).label
            deadline = leave_on + dt.timedelta(days=days)
            yield self.fail(
                target_pk=row["person_id"], key=row["person__public_id"], community_id=row["community_id"],
                measured=elapsed, required=days,
                severity=Severity.WARNING if elapsed <= days else Severity.VIOLATION,
                message=(f"{row['person__name']}于 {leave_on:%Y-%m-%d} {way}，离职已 {elapsed} 天未报区民政局备案"
                         f"（应在 {days} 天内即 {deadline:%Y-%m-%d} 前备案）"),
            )


@register
class ApprovalBeforeFiling(PersonRule):
    id = "M15.approval_before_filing"
    reading = (
        "措施十五：辞职由社区主要负责人提出意见报街办批准后、辞退由街办作出决定后，报区民政局备案。口径：离职方式"
        "为辞职或辞退、备案日期不晚于评估日的，没有街办审批（决定）日期，或该日期晚于备案日期（或晚于评估日）的"
        "为违规；同日批准并备案的不算违规。补录或更正审批日期后问题关闭。"
    )

    def evaluate(self, queryset, as_of, params):
        rows = (
            _scope(_live(Employment.objects), queryset, params)
            .filter(leave_way__in=[LeaveWay.RESIGNATION, LeaveWay.DISMISSAL], filed_on__isnull=False,
                    filed_on__lte=as_of)
            .filter(Q(approved_on__isnull=True) | Q(approved_on__gt=F("filed_on")) | Q(approved_on__gt=as_of))
            .order_by()
            .annotate(**_person_columns())
            .values("person_id", "p_public_id", "p_name", "community_id", "leave_way", "filed_on", "approved_on")
        )
        for row in rows:
            filed, approved = _as_date(row["filed_on"]), _as_date(row["approved_on"])
            way = LeaveWay(row["leave_way"]).label
            step = "批准" if row["leave_way"] == LeaveWay.RESIGNATION else "决定"
            if approved is None or approved > as_of:
                measured, said = "无", f"没有街办{step}日期"
            else:
                measured, said = approved, f"街办{step}日期（{approved:%Y-%m-%d}）晚于备案日期"
            yield self.fail(
                target_pk=row["person_id"], key=row["p_public_id"], community_id=row["community_id"],
                measured=measured, required=f"不晚于 {filed:%Y-%m-%d}",
                message=(f"{row['p_name']}的{way}已于 {filed:%Y-%m-%d} 报区民政局备案，但{said}"
                         f"（应先经街办{step}再备案）"),
            )


def _decision_start(year: int, assessed_on) -> dt.date:
    """The 不称职 clock starts on the 考核日期, or on 1 January after the assessed year when none is recorded."""
    return _as_date(assessed_on) or dt.date(year + 1, 1, 1)


@one_to_one
def persons_of_assessments(objs) -> list[int]:
    ids = [o.assessment_id for o in objs if getattr(o, "assessment_id", None)]
    return list(Assessment.objects.filter(pk__in=ids).values_list("person_id", flat=True)) if ids else []


@register
class IncompetentDecision(PersonRule):
    id = "M14.incompetent_decision"
    reading = (
        "措施十四：考核结果作为调整等级、续聘解聘的重要依据。口径：评估日在职的社区工作者，考核结果为不称职的，"
        "自考核日期（未记考核日期的，自考核年度次年1月1日）起，截至评估日没有等级调整、续聘或解聘决定记录的，"
        "第60天内（含）为预警，第61天起为违规；已离职的不再评估。"
    )
    reads = {**PersonRule.reads, Assessment: persons_of, "staffing.AssessmentDecision": persons_of_assessments}

    def evaluate(self, queryset, as_of, params):
        from .models import AssessmentDecision, AssessmentResult

        days = int(params["decision_days"])
        decided = Exists(AssessmentDecision.objects.filter(assessment=OuterRef("pk"), decided_on__lte=as_of))
        working = Exists(_live(_jobs(as_of)).filter(person_id=OuterRef("person_id")))
        rows = (
            Assessment.objects.filter(person__in=queryset, result=AssessmentResult.INCOMPETENT)
            .filter(Q(assessed_on__isnull=True, year__lt=as_of.year) | Q(assessed_on__lte=as_of))
            .filter(working).filter(~decided)
            .order_by("person_id", "year")
            .annotate(**_person_columns())
            .annotate(community_id=Subquery(_jobs(as_of).filter(person_id=OuterRef("person_id"))
                                            .order_by("-entry_on").values("community_id")[:1]))
            .values("person_id", "p_public_id", "p_name", "community_id", "year", "assessed_on")
        )
        seen: set[int] = set()
        for row in rows:
            if row["person_id"] in seen:
                continue
            seen.add(row["person_id"])
            start = _decision_start(row["year"], row["assessed_on"])
            elapsed = (as_of - start).days
            deadline = start + dt.timedelta(days=days)
            yield self.fail(
                target_pk=row["person_id"], key=row["p_public_id"], community_id=row["community_id"],
                measured=elapsed, required=days,
                severity=Severity.WARNING if elapsed <= days else Severity.VIOLATION,
                message=(f"社区工作者{row['p_name']}{row['year']}年度考核不称职，已 {elapsed} 天未作出等级调整或"
                         f"续聘解聘决定（应在 {days} 天内即 {deadline:%Y-%m-%d} 前作出）"),
            )


def _grade_on(day: dt.date, *, earliest: bool = False) -> Subquery:
    """The outer employment's grade at the end of ``day`` by its history; ``earliest``: its first recorded grade."""
    history = Employment.history.model.objects.filter(id=OuterRef("pk")).order_by()
    if earliest:
        return Subquery(history.order_by("history_date", "history_id").values("grade")[:1])
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())
    return Subquery(history.filter(history_date__lt=end).order_by("-history_date", "-history_id").values("grade")[:1])


@register
class GradeGrowth(PersonRule):
    id = "M13.grade_growth"
    reading = (
        "措施十三：落实“三岗十八级”绩效薪酬自然增长机制。口径：评估日在职、在考核期（前3个考核年度，自其首年"
        "1月1日起）开始前已入职、等级低于18级的社区工作者，这3个年度考核均为优秀或称职的，按任职记录的历史，"
        "评估日的等级不高于考核期开始时的等级为预警（记录晚于考核期开始的，以最早记录的等级为准）。"
    )
    reads = {**PersonRule.reads, Assessment: persons_of}

    def evaluate(self, queryset, as_of, params):
        from .models import MAX_GRADE, AssessmentResult

        years = int(params["grade_years"])
        first = as_of.year - years
        start = dt.date(first, 1, 1)
        good = (Assessment.objects.filter(person_id=OuterRef("person_id"), year__gte=first, year__lt=as_of.year,
                                          result__in=[AssessmentResult.EXCELLENT, AssessmentResult.COMPETENT])
                .filter(Q(assessed_on__isnull=True) | Q(assessed_on__lte=as_of))
                .order_by().values("person_id").annotate(n=Count("pk")).values("n")[:1])
        rows = (
            _scope(_live(_jobs(as_of)), queryset, params)
            .filter(entry_on__lte=start, grade__isnull=False)
            .annotate(good_n=Coalesce(Subquery(good, output_field=IntegerField()), 0))
            .filter(good_n=years)
            .annotate(grade_now=Coalesce(_grade_on(as_of), _grade_on(as_of, earliest=True)),
                      grade_then=Coalesce(_grade_on(start), _grade_on(start, earliest=True)))
            .filter(grade_now__lt=MAX_GRADE, grade_now__lte=F("grade_then"))
            .order_by()
            .annotate(**_person_columns())
            .values("person_id", "p_public_id", "p_name", "community_id", "grade_now", "grade_then")
        )
        for row in rows:
            yield self.fail(
                target_pk=row["person_id"], key=row["p_public_id"], community_id=row["community_id"],
                measured=row["grade_now"], required=f"高于{row['grade_then']}级",
                message=(f"社区工作者{row['p_name']}{first}—{as_of.year - 1}年度考核均为称职以上，等级仍为"
                         f"{row['grade_now']}级（{start:%Y-%m-%d}时为{row['grade_then']}级），未按自然增长机制晋级"),
            )
