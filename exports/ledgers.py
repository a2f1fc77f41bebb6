"""The ledgers a user may download: communities (with 应配 against 实有), facilities, people, funding.

Each ledger is ``(filename, columns, rows)``; ``rows`` is a generator over
``values_list(...).iterator(chunk_size=…)`` querysets built from the same
selectors as the pages, so a download holds exactly the rows the user may see,
in a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .writer import DATE, NUMBER, Col

CHUNK = 5_000


@dataclass
class Ledger:
    key: str
    title: str
    columns: list[str | Col]
    rows: Iterator[list[Any]]

    def filename(self, suffix: str, street: str | None) -> str:
        return f"{self.title}-{street or '全区'}-{timezone.localdate():%Y%m%d}.{suffix}"


LEDGERS = {"communities": "社区台账", "facilities": "服务设施台账", "people": "人员台账", "funding": "社区经费台账"}


def _communities(user, street: str | None):
    from communities.selectors import communities_for_user

    qs = communities_for_user(user)
    # The FK holds the 9-digit 街办 code (to_field), which the stubs take for an int pk.
    return qs.filter(sub_district_id=street) if street else qs  # type: ignore[misc]


def _labels(choices) -> dict:
    return {value: str(label) for value, label in choices.choices}


def community_ledger(user, street: str | None = None, as_of: dt.date | None = None) -> Ledger:
    """Every community with its figures and, clause by clause, 应配 against 实有.

    应配 and 实有 come from the rules themselves (M07.facility_area's required area and
    facility sum, M11.worker_ratio's required workers and composition count) with the
    parameters in force on ``as_of``, as the community page's panel shows them.
    """
    from communities.models import CommunityStatus, PartyOrgType
    from compliance.models import Finding, FindingStatus
    from compliance.parameters import params_for_rules
    from compliance.rules import registry
    from facilities.models import FacilityKind
    from facilities.rules import FacilityArea, facility_sum
    from staffing.rules import annotate_composition, required_workers

    as_of = as_of or timezone.localdate()
    wanted = [r for r in (registry.get("M07.facility_area"), registry.get("M11.worker_ratio"),
                          registry.get("M17.social_orgs")) if r is not None]
    params = params_for_rules(wanted, as_of)
    area_rule = FacilityArea()
    open_findings = (Finding.objects.filter(community=OuterRef("pk"), status=FindingStatus.OPEN).order_by()
                     .values("community").annotate(n=Count("id")).values("n"))
    qs = annotate_composition(_communities(user, street), as_of, ("workers_n",)).annotate(
        area=facility_sum("building_area", FacilityKind.CENTER, as_of),
        open_n=Coalesce(Subquery(open_findings), 0),
    ).order_by("code").values_list(
        "code", "name", "sub_district__name", "status", "households", "population", "founded_on", "approved_on",
        "election_on", "party_org_type", "east", "south", "west", "north", "social_org_count",
        "has_property_committee", "workers_n", "area", "open_n",
    )
    status, party = _labels(CommunityStatus), _labels(PartyOrgType)
    per_10k = params.get("M11.worker_ratio", {}).get("workers_per_10k")
    min_orgs = params.get("M17.social_orgs", {}).get("min_social_orgs")
    area_params = params.get("M07.facility_area")

    def rows() -> Iterator[list[Any]]:
        for (code, name, street_name, state, households, population, founded, approved, election, party_type,
             east, south, west, north, orgs, committee, workers, area, open_n) in qs.iterator(chunk_size=CHUNK):
            need_workers = required_workers(population, per_10k) if per_10k is not None else None
            need_area = (area_rule.required({"households": households, "founded_on": founded}, area_params)[0]
                         if area_params else None)
            yield [code, name, street_name, status.get(state, state), households, population, founded, approved,
                   election, party.get(party_type, party_type), east, south, west, north,
                   need_workers, workers, need_area, area, min_orgs, orgs, "是" if committee else "否", open_n]

    cols: list[str | Col] = [
        Col("社区代码", width=15), Col("社区名称", width=24), Col("街道办事处", width=14), "状态",
        Col("户数", NUMBER), Col("常住人口", NUMBER), Col("成立日期", DATE), Col("批复日期", DATE),
        Col("两委选举日期", DATE), "党组织类型", "东至", "南至", "西至", "北至",
        Col("社区工作者应配（人）", NUMBER), Col("社区工作者实有（人）", NUMBER),
        Col("综合服务设施应配（㎡）", NUMBER), Col("综合服务设施实有（㎡）", NUMBER),
        Col("社会组织应有（个）", NUMBER), Col("社会组织实有（个）", NUMBER), "环境和物业管理委员会",
        Col("未整改问题数", NUMBER),
    ]
    return Ledger("communities", LEDGERS["communities"], cols, rows())


def facility_ledger(user, street: str | None = None) -> Ledger:
    from facilities.models import Acquisition, FacilityKind, FacilityStatus, ServiceCategory
    from facilities.selectors import facilities_for_user

    qs = facilities_for_user(user)
    if street:
        qs = qs.filter(community__sub_district_id=street)  # type: ignore[misc]  # a 街办 code, see _communities
    table = qs.order_by("community__code", "code").values_list(
        "code", "name", "community__code", "community__name", "community__sub_district__name", "kind",
        "service_category", "building_area", "activity_area", "site_area", "acquisition", "residential_utilities",
        "status", "accepted_on", "handed_over_on",
    )
    kind, category, acquisition, status = (_labels(FacilityKind), _labels(ServiceCategory), _labels(Acquisition),
                                           _labels(FacilityStatus))

    def rows() -> Iterator[list[Any]]:
        for (code, name, c_code, c_name, s_name, k, cat, building, activity, site, acq, utilities, st, accepted,
             handed) in table.iterator(chunk_size=CHUNK):
            yield [code, name, c_code, c_name, s_name, kind.get(k, k), category.get(cat, cat), building, activity,
                   site, acquisition.get(acq, acq), None if utilities is None else ("是" if utilities else "否"),
                   status.get(st, st), accepted, handed]

    cols: list[str | Col] = [Col("设施编号", width=18), Col("设施名称", width=24), Col("社区代码", width=15), Col("社区名称", width=20),
            "街道办事处", "类型", "服务类别", Col("建筑面积（㎡）", NUMBER), Col("居民活动区域面积（㎡）", NUMBER),
            Col("场地面积（㎡）", NUMBER), "取得方式", "水电气暖执行居民价格", "状态", Col("验收日期", DATE),
            Col("移交日期", DATE)]
    return Ledger("facilities", LEDGERS["facilities"], cols, rows())


def people_ledger(user, street: str | None = None, *, reveal: bool = False, as_of: dt.date | None = None) -> Ledger:
    """One row per person the user may see, with the job and 两委 seats they hold on ``as_of``.

    ID numbers are masked unless an administrator explicitly asks (``reveal``).
    Three queries (people, jobs, seats), each ordered by person and merged here.
    """
    from staffing.models import Body, Employment, EntryChannel, Post, Seat, SeatRole, Sex
    from staffing.privacy import birth_column, export_birth, export_id_number, may_see_id_numbers
    from staffing.selectors import persons_for_user

    as_of = as_of or timezone.localdate()
    reveal = reveal and may_see_id_numbers(user)
    communities = _communities(user, street)
    people = persons_for_user(user)
    if street:
        people = people.filter(
            Exists(Seat.objects.filter(person=OuterRef("pk"), community__in=communities))
            | Exists(Employment.objects.filter(person=OuterRef("pk"), community__in=communities))
            | Q(community__in=communities)
        )
    table = people.order_by("pk").values_list(
        "pk", "public_id", "name", "id_number", "sex", "birth_date", "education", "community__code",
        "community__name", "community__sub_district__name",
    )
    jobs = (Employment.objects.active_on(as_of).filter(community__in=communities).order_by("person_id", "-entry_on")
            .values_list("person_id", "community__code", "full_time", "post", "grade", "entry_on", "entry_channel"))
    seats = (Seat.objects.active_on(as_of).filter(community__in=communities).order_by("person_id", "body")
             .values_list("person_id", "body", "role"))
    sex, post, channel, role = _labels(Sex), _labels(Post), _labels(EntryChannel), _labels(SeatRole)

    def rows() -> Iterator[list[Any]]:
        job_iter = iter(jobs.iterator(chunk_size=CHUNK))
        seat_iter = iter(seats.iterator(chunk_size=CHUNK))
        job = next(job_iter, None)
        seat = next(seat_iter, None)
        for pk, public_id, name, number, s, birth, education, c_code, c_name, s_name in table.iterator(
                chunk_size=CHUNK):
            while job is not None and job[0] < pk:
                job = next(job_iter, None)
            mine = job if job is not None and job[0] == pk else None
            while job is not None and job[0] == pk:  # a second concurrent job: the latest entry is shown
                job = next(job_iter, None)
            held: dict[str, str] = {}
            while seat is not None and seat[0] <= pk:
                if seat[0] == pk:
                    held.setdefault(seat[1], role.get(seat[2], seat[2]))
                seat = next(seat_iter, None)
            yield [
                public_id, name, export_id_number(number, user=user, reveal=reveal), sex.get(s, s),
                export_birth(birth, user=user, reveal=reveal), education,
                c_code, c_name, s_name, "是" if mine else "否",
                ("是" if mine[2] else "否") if mine else None, post.get(mine[3], mine[3]) if mine else None,
                mine[4] if mine else None, mine[5] if mine else None,
                channel.get(mine[6], mine[6]) if mine else None,
                held.get(Body.PARTY), held.get(Body.COMMITTEE),
            ]

    cols: list[str | Col] = [Col("人员编号", width=14), "姓名", Col("身份证号", width=20), "性别",
            Col(birth_column(user=user, reveal=reveal), DATE if reveal else NUMBER), "学历",
            Col("所属社区代码", width=15), Col("所属社区", width=20), "街道办事处", "社区工作者", "专职", "岗位",
            Col("等级", NUMBER), Col("入职日期", DATE), "入职方式", "党组织职务", "居委会职务"]
    return Ledger("people", LEDGERS["people"], cols, rows())


def funding_ledger(user, street: str | None = None) -> Ledger:
    from funding.models import FundingLevel
    from funding.selectors import allocations_for_user

    qs = allocations_for_user(user)
    if street:
        qs = qs.filter(community__sub_district_id=street)  # type: ignore[misc]  # a 街办 code, see _communities
    table = qs.order_by("-year", "community__code", "level").values_list(
        "community__code", "community__name", "community__sub_district__name", "year", "level", "planned",
        "disbursed", "note",
    )
    level = _labels(FundingLevel)

    def rows() -> Iterator[list[Any]]:
        for code, name, s_name, year, lv, planned, disbursed, note in table.iterator(chunk_size=CHUNK):
            yield [code, name, s_name, year, level.get(lv, lv), planned, disbursed, note]

    cols: list[str | Col] = [Col("社区代码", width=15), Col("社区名称", width=20), "街道办事处", Col("年度", NUMBER, num_format="0"), "层级",
            Col("配套金额（元）", NUMBER), Col("已拨付（元）", NUMBER), Col("备注", width=30)]
    return Ledger("funding", LEDGERS["funding"], cols, rows())


BUILDERS: dict[str, Callable[..., Ledger]] = {"communities": community_ledger, "facilities": facility_ledger, "people": people_ledger,
            "funding": funding_ledger}
