"""Demo people for the demo district: 两委, community workers, training, assessment, exits.

A pure plan (``staffing_plan``) is drawn from a fixed seed and the communities'
demo figures; ``load_staffing`` writes only what is missing, through the
services, so a second run writes nothing. The ID numbers are fake but valid
(GB 11643 check digit, region 610104, working-age birth dates); they belong to
no one.

Most communities are staffed as 措施十、十一 ask; a few fall short so that the
rules have something true to report: a small or oversized 居委会, too little
cross appointment, too few full-time workers in the 两委, fewer workers than
the population needs, missing grades or archive fields, missed training or
assessment, late resignation notices and unfiled exits, one seat still vacant.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from communities.demo import DemoWorld, register_demo_part
from communities.models import Community, PartyOrgType
from core.records import clean_new, update_rows

from . import idnumbers
from .models import (
    Assessment,
    AssessmentDecision,
    AssessmentResult,
    Body,
    DecisionKind,
    Employment,
    EntryChannel,
    ExitKind,
    ExitProcedure,
    ExitStepName,
    LeaveWay,
    Person,
    Post,
    Seat,
    SeatRole,
    TrainingAttendance,
    TrainingKind,
    Vacancy,
)
from .services import (
    assessment_decision_record,
    assessment_record,
    assessments_create_bulk,
    employment_create,
    employment_update,
    exit_advance,
    exit_start,
    people_create_bulk,
    seat_create,
    training_event_record,
    vacancy_fill,
)

SEED = 20241
REGION = "610104"
WORKERS_PER_10K = 18
ORGANISER = "莲湖区民政局"

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田"
    "任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅鹏飞辉燕宁波斌浩凯晨瑞雪琳佳欣怡婷倩颖楠蕾晶瑶博文宇航"
EDUCATION = ("大学本科", "大学本科", "大学本科", "大学专科", "大学专科", "硕士研究生", "高中")


@dataclass
class PersonSpec:
    id_number: str
    name: str
    education: str


@dataclass
class JobSpec:
    person: str  # ID number
    full_time: bool
    post: str
    grade: int | None
    entry_on: date
    entry_channel: str


@dataclass
class ExitSpec:
    person: str
    kind: str
    submitted_on: date  # the written resignation, or the 街办's decision
    leave_on: date
    approved_on: date | None  # resignations: the 街办's approval
    filed_on: date | None
    # Recorded as the 人员 import records an exit (the dates written on the employment, no procedure steps).
    imported: bool = False


@dataclass
class CommunityStaff:
    code: str
    seats: list[tuple[str, str, str, date]] = field(default_factory=list)  # person, body, role, start_on
    jobs: list[JobSpec] = field(default_factory=list)
    exits: list[ExitSpec] = field(default_factory=list)
    # 补选: the seat of this leaver is filled on the date by the new person.
    by_election: tuple[str, date, str] | None = None


@dataclass
class StaffingPlan:
    persons: dict[str, PersonSpec] = field(default_factory=dict)
    communities: list[CommunityStaff] = field(default_factory=list)
    trainings: list[tuple[str, str, date, list[str]]] = field(default_factory=list)  # title, kind, held_on, persons
    assessments: list[tuple[str, int, str, date | None]] = field(default_factory=list)
    # 考核结果运用 (措施十四): person, assessed year, decision kind, decided on.
    decisions: list[tuple[str, int, str, date]] = field(default_factory=list)
    # 等级自然增长 (措施十三): person, the grade they rose to (recorded after the employment).
    grade_rises: list[tuple[str, int]] = field(default_factory=list)


def required_workers(population: int) -> int:
    return math.ceil(population * WORKERS_PER_10K / 10000)


def expected_committee(households: int) -> int:
    return 5 if households < 2000 else 7 if households <= 4000 else 9


class _People:
    """Fake but valid persons, never the same ID number twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.specs: dict[str, PersonSpec] = {}
        self.names: set[str] = set()

    def new(self, *, born_from: int = 1966, born_to: int = 1999, education: str | None = None) -> str:
        rng = self.rng
        while True:
            birth = date(born_from, 1, 1) + timedelta(days=rng.randrange((date(born_to, 12, 31) - date(born_from, 1, 1)).days))
            number = idnumbers.make_valid(f"{REGION}{birth:%Y%m%d}{rng.randrange(1000):03d}")
            if number not in self.specs:
                break
        while True:
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            if name not in self.names or rng.random() < 0.05:
                break
        self.names.add(name)
        self.specs[number] = PersonSpec(number, name, rng.choice(EDUCATION) if education is None else education)
        return number


def _between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _entry(rng: random.Random, number: str, start: date, end: date) -> date:
    """An entry date in [start, end], not before the person is 22."""
    born = idnumbers.parse(number).birth_date
    start = max(start, date(born.year + 22, born.month, 1))
    return _between(rng, min(start, end), end)


def staffing_plan(figures: dict[str, dict], adjustments: dict[str, dict], today: date) -> StaffingPlan:
    """Who sits where and works where; a pure function of the figures, the seed and the year."""
    rng = random.Random(SEED)
    people = _People(rng)
    plan = StaffingPlan()
    year = today.year
    last_year = year - 1
    deferred = {code for code, a in adjustments.items() if a["kind"] == "defer"}

    codes = sorted(figures)
    short_staffed = set(rng.sample(codes, 16))
    odd_committee = set(rng.sample(codes, 12))
    low_cross = set(rng.sample(codes, 7))
    low_fulltime = set(rng.sample(codes, 6))
    odd_party = set(rng.sample(codes, 6))

    for code in codes:
        fig = figures[code]
        staff = CommunityStaff(code)
        plan.communities.append(staff)
        elected = fig["election_on"]
        needed = required_workers(fig["population"])
        if elected is None:
            # Approved, 两委 not yet elected (措施十一's deadline): only recruited workers so far.
            for _ in range(needed):
                person = people.new(born_from=1980, born_to=2000)
                staff.jobs.append(JobSpec(person, True, Post.OTHER, rng.randint(1, 4),
                                          _entry(rng, person, date(2024, 10, 8), date(2024, 12, 31)),
                                          EntryChannel.RECRUITMENT))
            continue

        # 两委: 党组织 3 (党支部) or 5, 居委会 5/7/9 by households, 书记 is also 主任.
        party_n = 3 if fig["party_org_type"] == PartyOrgType.BRANCH else 5
        if code in odd_party:
            party_n = 4 if party_n == 3 else rng.choice((4, 6))
        committee_n = expected_committee(fig["households"])
        if code in odd_committee:
            committee_n += rng.choice((-1, 1, -2)) if committee_n > 5 else rng.choice((1, -1))
        cross_n = math.ceil(party_n * 0.6)
        if code in low_cross:
            cross_n = max(1, cross_n - 2)
        # The 11-person cap: more cross appointment where both bodies are large.
        cross_n = max(cross_n, party_n + committee_n - 11) if code not in odd_committee else cross_n

        party = [people.new() for _ in range(party_n)]
        committee = party[:cross_n] + [people.new() for _ in range(committee_n - cross_n)]
        party_roles = [SeatRole.SECRETARY] + [SeatRole.DEPUTY_SECRETARY] + [SeatRole.MEMBER] * (party_n - 2)
        committee_roles = [SeatRole.DIRECTOR] + [SeatRole.DEPUTY_DIRECTOR] * 2 + [SeatRole.MEMBER] * (committee_n - 3)
        for person, role in zip(party, party_roles, strict=True):
            staff.seats.append((person, Body.PARTY, role, elected))
        for person, role in zip(committee, committee_roles, strict=True):
            staff.seats.append((person, Body.COMMITTEE, role, elected))

        liangwei = list(dict.fromkeys(party + committee))
        # Most 两委 persons are full-time community workers; a few communities lean on part-timers.
        worker_share = 0.3 if code in low_fulltime else 0.9
        leaders = {party[0]}
        liangwei_workers = [p for p in liangwei if p in leaders or rng.random() < worker_share]

        if fig["households"] > 5000 and code in deferred:
            needed += 2  # 暂不拆分: 通过增加社区工作人员保障服务
        if code in short_staffed:
            needed -= rng.randint(1, 4)
        others = max(0, needed - len(liangwei_workers))

        for person in liangwei_workers:
            top = person == party[0]
            deputy = person in (party[1], *committee[1:3])
            staff.jobs.append(JobSpec(
                person=person, full_time=True,
                post=Post.CHIEF if top else Post.DEPUTY if deputy else Post.OTHER,
                grade=rng.randint(13, 18) if top else rng.randint(7, 12) if deputy else rng.randint(3, 9),
                entry_on=_entry(rng, person, date(2006, 3, 1), elected - timedelta(days=30)),
                entry_channel=EntryChannel.ELECTION,
            ))
        for _ in range(others):
            person = people.new(born_from=1972, born_to=2001)
            staff.jobs.append(JobSpec(
                person=person, full_time=rng.random() < 0.9, post=Post.OTHER, grade=rng.randint(1, 8),
                entry_on=_entry(rng, person, date(2010, 1, 1), date(last_year, 12, 31) if rng.random() < 0.1
                                else date(last_year - 1, 12, 31)),
                entry_channel=EntryChannel.RECRUITMENT,
            ))

    # Archive gaps (措施十三): a few workers without a grade, an education or an entry channel.
    all_jobs = [job for staff in plan.communities for job in staff.jobs]
    for job in rng.sample(all_jobs, 12):
        job.grade = None
    for job in rng.sample(all_jobs, 9):
        people.specs[job.person].education = ""
    for job in rng.sample(all_jobs, 5):
        job.entry_channel = ""

    # Leavers (措施十五): extra workers who left in the last year, most by resignation.
    staffed = [s for s in plan.communities if s.jobs]
    for i, staff in enumerate(rng.sample(staffed, 14)):
        person = people.new(born_from=1985, born_to=2000)
        entry = _entry(rng, person, date(2015, 1, 1), date(2021, 12, 31))
        leave = _between(rng, date(last_year, 2, 1), date(last_year, 10, 31))
        staff.jobs.append(JobSpec(person, True, Post.OTHER, rng.randint(1, 6), entry, EntryChannel.RECRUITMENT))
        if i == 13:
            decided = leave - timedelta(days=5)
            staff.exits.append(ExitSpec(person, ExitKind.DISMISSAL, decided, leave, None, leave + timedelta(days=12)))
            continue
        # Three resignations handed in days before leaving; four exits never filed with 区民政局.
        late_notice = i in (2, 6, 9)
        submitted = leave - timedelta(days=rng.randint(2, 5) if late_notice else rng.randint(20, 45))
        approved = submitted + timedelta(days=rng.randint(1, 2) if late_notice else rng.randint(3, 10))
        filed = None if i in (2, 5, 6, 11) else leave + timedelta(days=rng.randint(5, 25))
        staff.exits.append(ExitSpec(person, ExitKind.RESIGNATION, submitted, leave, approved, filed))

    # Two 两委 members resign: one seat is filled by 补选 in time, one is still vacant.
    def committee_only(staff: CommunityStaff) -> list[str]:
        party = {p for p, b, _r, _d in staff.seats if b == Body.PARTY}
        return [p for p, b, r, _d in staff.seats if b == Body.COMMITTEE and r == SeatRole.MEMBER and p not in party]

    for i, staff in enumerate(rng.sample([s for s in staffed if committee_only(s)], 2)):
        member = committee_only(staff)[0]
        if not any(j.person == member for j in staff.jobs):
            staff.jobs.append(
                JobSpec(member, True, Post.OTHER, rng.randint(3, 9), date(2016, 4, 1), EntryChannel.ELECTION))
        leave = date(last_year, 6, 30) + timedelta(days=31 * i)
        staff.exits.append(ExitSpec(member, ExitKind.RESIGNATION, leave - timedelta(days=30), leave,
                                    leave - timedelta(days=20), leave + timedelta(days=10)))
        # The leaver's place among the workers is taken by a new hire.
        staff.jobs.append(JobSpec(people.new(born_from=1990, born_to=2001), True, Post.OTHER, 1,
                                  leave + timedelta(days=15), EntryChannel.RECRUITMENT))
        if i == 0:
            staff.by_election = (member, leave + timedelta(days=60), people.new(born_from=1975, born_to=1995))

    plan.persons = people.specs

    # Training (措施十二) and assessment (措施十四), year by year.
    left_on = {e.person: e.leave_on for s in plan.communities for e in s.exits}
    workers = [(j.person, j.entry_on) for s in plan.communities for j in s.jobs]
    heads = list(dict.fromkeys(
        p for s in plan.communities for p, _b, r, _d in s.seats if r in (SeatRole.SECRETARY, SeatRole.DIRECTOR)))

    # Missed training clusters where a 街办's organising lapsed: a few communities, not a few people everywhere
    # (so 措施十二's findings point at communities to act on). A generator of its own keeps the rest as it was.
    home = {p: st.code for st in plan.communities for p, *_rest in st.seats}
    home.update({j.person: st.code for st in plan.communities for j in st.jobs})
    lapsed = set(random.Random(SEED + 12).sample(sorted({st.code for st in plan.communities}),
                                                max(1, len(plan.communities) // 6)))

    def attended(candidates, held: date, miss: float) -> list[str]:
        return [p for p, entry in candidates if entry <= held and left_on.get(p, date.max) > held
                and (rng.random() >= miss * 5 or home.get(p) not in lapsed)]

    events = [
        (f"{last_year}年度社区工作者全员培训", TrainingKind.GENERAL, date(last_year, 10, 16), workers, 0.02),
        (f"{last_year}年度社区书记、主任专项培训", TrainingKind.SPECIAL, date(last_year, 4, 10),
         [(p, date.min) for p in heads], 0.03),
        (f"{year}年度社区工作者全员培训", TrainingKind.GENERAL, date(year, 6, 18), workers, 0.06),
        (f"{year}年度社区书记、主任专项培训", TrainingKind.SPECIAL, date(year, 4, 15),
         [(p, date.min) for p in heads], 0.05),
    ]
    for title, kind, held, candidates, miss in events:
        persons = attended(candidates, held, miss)
        if held <= today and persons:
            plan.trainings.append((title, kind, held, persons))

    results = [AssessmentResult.EXCELLENT] + [AssessmentResult.COMPETENT] * 7 + [AssessmentResult.BASIC]
    assessed_on = date(year, 1, 20)
    for person, entry in workers:
        employed = entry <= date(last_year, 12, 31) and left_on.get(person, date.max) > date(last_year, 12, 31)
        if employed and rng.random() >= 0.04:
            plan.assessments.append((person, last_year, rng.choice(results),
                                     assessed_on if assessed_on <= today else None))
    _policy_examples(plan, people, today)
    return plan


def _policy_examples(plan: StaffingPlan, people: _People, today: date) -> None:
    """Issue 15's findings, drawn from a generator of their own so the rest of the demo stays as it was.

    - 措施十一: a committee member of a 5-person 居委会 resigns and leaves; the committee falls to 4, below the
      minimum, and the vacancy opens by itself (no one ticks a box); no 补选 yet.
    - 措施十五: an exit entered by the 人员 import with a 备案日期 and no 街办 approval date.
    - 措施十四: two workers assessed 不称职 last year: one has its 等级调整 recorded, the other nothing yet.
    - 措施十三: two long-serving workers assessed 称职 or better three years running: one rose a grade, the
      other's grade stayed where it was.
    """
    rng = random.Random(SEED + 11)
    saved, people.rng = people.rng, rng
    try:
        def committee_only(staff: CommunityStaff) -> list[str]:
            party = {p for p, b, _r, _d in staff.seats if b == Body.PARTY}
            return [p for p, b, r, _d in staff.seats if b == Body.COMMITTEE and r == SeatRole.MEMBER and p not in party]

        taken = {s.code for s in plan.communities if s.exits}
        five = [s for s in plan.communities if s.code not in taken and committee_only(s)
                and sum(1 for _p, b, _r, _d in s.seats if b == Body.COMMITTEE) == 5]
        if five:
            staff = rng.choice(five)
            member = committee_only(staff)[0]
            if not any(j.person == member for j in staff.jobs):
                staff.jobs.append(JobSpec(member, True, Post.OTHER, rng.randint(3, 9), date(2017, 3, 1),
                                          EntryChannel.ELECTION))
            leave = today - timedelta(days=rng.randint(20, 60))
            filed = leave + timedelta(days=10)
            staff.exits.append(ExitSpec(member, ExitKind.RESIGNATION, leave - timedelta(days=30), leave,
                                        leave - timedelta(days=20), filed if filed <= today else None))
            taken.add(staff.code)
        staff = rng.choice([s for s in plan.communities if s.jobs and s.code not in taken])
        person = people.new(born_from=1985, born_to=1998)
        entry = _entry(rng, person, date(2016, 1, 1), date(2020, 12, 31))
        leave = _between(rng, date(today.year - 1, 3, 1), date(today.year - 1, 9, 30))
        staff.jobs.append(JobSpec(person, True, Post.OTHER, rng.randint(1, 6), entry, EntryChannel.RECRUITMENT))
        staff.exits.append(ExitSpec(person, ExitKind.RESIGNATION, leave - timedelta(days=30), leave, None,
                                    leave + timedelta(days=14), imported=True))

        leavers = {e.person for s in plan.communities for e in s.exits}
        dated = [i for i, (p, _y, _r, on) in enumerate(plan.assessments) if on is not None and p not in leavers]
        for n, i in enumerate(rng.sample(dated, 2) if len(dated) >= 2 else []):
            number, year, _result, on = plan.assessments[i]
            plan.assessments[i] = (number, year, AssessmentResult.INCOMPETENT, on)
            if n == 0 and on is not None and on + timedelta(days=30) <= today:
                plan.decisions.append((number, year, DecisionKind.GRADE, on + timedelta(days=30)))

        last_year = today.year - 1
        start = date(today.year - 3, 1, 1)
        jobs = {j.person: j for s in plan.communities for j in s.jobs}
        good = (AssessmentResult.EXCELLENT, AssessmentResult.COMPETENT)
        steady = sorted(p for p, y, r, on in plan.assessments if y == last_year and r in good and on is not None
                        and p not in leavers and jobs[p].entry_on <= start and jobs[p].grade is not None
                        and (jobs[p].grade or 99) < 17)
        for n, number in enumerate(rng.sample(steady, 2) if len(steady) >= 2 else []):
            for year in (today.year - 3, today.year - 2):
                plan.assessments.append((number, year, AssessmentResult.COMPETENT, date(year + 1, 1, 20)))
            if n == 0:
                grade = jobs[number].grade
                assert grade is not None
                plan.grade_rises.append((number, grade + 1))
    finally:
        people.rng = saved


@dataclass
class StaffingCounts:
    persons: int = 0
    seats: int = 0
    employments: int = 0
    exits: int = 0
    attendances: int = 0
    assessments: int = 0
    created: int = 0  # rows written by this run

    def lines(self) -> list[str]:
        return [
            f"人员：{self.persons} 人（两委职务 {self.seats} 个，社区工作者任职 {self.employments} 条，"
            f"离职程序 {self.exits} 个，培训记录 {self.attendances} 条，年度考核 {self.assessments} 条；本次新增 {self.created} 条）"
        ]


@register_demo_part(name="staffing", order=30)
def load_demo_part(world: DemoWorld) -> list[str]:
    plan = staffing_plan(world.figures, world.adjustments, world.today)
    return load_staffing(plan=plan, communities=world.communities, user=world.user).lines()


def load_staffing(*, plan: StaffingPlan, communities: dict[str, Community], user=None) -> StaffingCounts:
    counts = StaffingCounts()
    persons = {p.id_number: p for p in Person.objects.with_id_numbers(plan.persons)}
    jobs = {(e.person_id, e.community_id): e for e in Employment.objects.filter(person__in=persons.values())}
    seats = set(Seat.objects.filter(person__in=persons.values()).values_list("person_id", "community_id", "body"))

    # People not yet recorded are written with their seats and jobs in batches, as the 人员 import writes new
    # people: each row checked by its model as the services check it (save_clean's full_clean), the database's
    # constraints standing behind the unique and check constraints. Rows of people already recorded (a second
    # run, or a demo edited since) still go one at a time through the services.
    fresh: dict[str, Person] = {}
    recorded = {p.id_number_hash: p.pk for p in persons.values()}
    today = timezone.localdate()
    for number, spec in plan.persons.items():
        if number not in persons:
            person = Person(id_number=idnumbers.normalize(number), name=spec.name.strip(),
                            education=spec.education.strip())
            person.clean_fields()
            person.clean(recorded, today)  # the numbers recorded, read once (as the 人员 import checks them)
            fresh[number] = persons[number] = person
    new_seats: list[Seat] = []
    new_jobs: list[Employment] = []
    for staff in plan.communities:
        community = communities[staff.code]
        for number, body, role, start in staff.seats:
            person = persons[number]
            if number in fresh:
                new_seats.append(clean_new(Seat(person=person, community=community, body=body, role=role,
                                                start_on=start), given=("person", "community")))
            elif (person.pk, community.pk, body) not in seats:
                seat_create(person=person, community=community, body=body, role=role, start_on=start, user=user)
                seats.add((person.pk, community.pk, body))
                counts.created += 1
        for job in staff.jobs:
            person = persons[job.person]
            fields = {"full_time": job.full_time, "post": job.post, "grade": job.grade, "entry_on": job.entry_on,
                      "entry_channel": job.entry_channel}
            if job.person in fresh:
                new_jobs.append(clean_new(Employment(person=person, community=community, **fields),
                                          given=("person", "community")))
            elif (person.pk, community.pk) not in jobs:
                jobs[person.pk, community.pk] = employment_create(person=person, community=community, user=user,
                                                                  **fields)
                counts.created += 1
    if fresh:
        _check_overlaps(new_seats, new_jobs)
        people = list(fresh.values())
        people_create_bulk(persons=people, employments=new_jobs, seats=new_seats, user=user)
        # 所属社区 as person_refresh_community sets it after each seat or job (an update, no history row).
        homes = _homes(new_seats, new_jobs)
        for person in people:
            person.community_id = homes.get(person.pk)
        update_rows(Person, [p for p in people if p.community_id is not None], ["community"])
        jobs.update({(e.person_id, e.community_id): e for e in new_jobs})
        counts.created += len(people) + len(new_seats) + len(new_jobs)

    started = set(ExitProcedure.objects.filter(employment__in=jobs.values()).values_list("employment_id", flat=True))
    for staff in plan.communities:
        community = communities[staff.code]
        for ex in staff.exits:
            employment = jobs[persons[ex.person].pk, community.pk]
            if employment.pk in started:
                continue
            if ex.imported:
                if not employment.leave_way:
                    employment_update(employment=employment, user=user, reason="人员导入", leave_on=ex.leave_on,
                                      leave_way=LeaveWay.RESIGNATION, resignation_submitted_on=ex.submitted_on,
                                      approved_on=ex.approved_on, filed_on=ex.filed_on)
                    counts.created += 1
                continue
            counts.created += 1
            if ex.kind == ExitKind.DISMISSAL:
                procedure = exit_start(employment=employment, kind=ex.kind, on=ex.submitted_on, leave_on=ex.leave_on,
                                       note="连续旷工，经街办研究决定辞退。", user=user)
            else:
                procedure = exit_start(employment=employment, kind=ex.kind, on=ex.submitted_on, leave_on=ex.leave_on,
                                       note="因个人原因申请辞职。", user=user)
                exit_advance(procedure=procedure, step=ExitStepName.HEAD_OPINION, on=ex.submitted_on,
                             note="同意，工作已交接。", user=user)
                assert ex.approved_on is not None, "a resignation's spec carries the 街办's approval date"
                exit_advance(procedure=procedure, step=ExitStepName.SUBDISTRICT_APPROVED, on=ex.approved_on,
                             user=user)
            if ex.filed_on is not None:
                exit_advance(procedure=procedure, step=ExitStepName.FILED, on=ex.filed_on, user=user)
        if staff.by_election is not None:
            leaver, on, newcomer = staff.by_election
            vacancy = Vacancy.objects.filter(previous_seat__person=persons[leaver], community=community,
                                             filled_on__isnull=True).first()
            if vacancy is not None:
                vacancy_fill(vacancy=vacancy, person=persons[newcomer], on=on, user=user)
                counts.created += 1

    for title, kind, held, numbers in plan.trainings:
        _event, added = training_event_record(title=title, kind=kind, held_on=held, organiser=ORGANISER,
                                              persons=[persons[n] for n in numbers], user=user)
        counts.created += added

    assessed = set(Assessment.objects.filter(person__in=persons.values()).values_list("person_id", "year"))
    results: list[Assessment] = []
    later: list[tuple[Person, int, str, date | None]] = []
    for number, year, result, assessed_on in plan.assessments:
        person = persons[number]
        if (person.pk, year) in assessed:
            continue
        if any(r.person_id == person.pk and r.year == year for r in results[-3:]):
            later.append((person, year, result, assessed_on))  # a second result for the year: the upsert's update
            continue
        results.append(clean_new(Assessment(person=person, year=year, result=result, assessed_on=assessed_on),
                                 given=("person",)))
    assessments_create_bulk(assessments=results, user=user)
    for person, year, result, assessed_on in later:
        assessment_record(person=person, year=year, result=result, assessed_on=assessed_on, user=user)
    counts.created += len(results) + len(later)

    for number, grade in plan.grade_rises:
        employment = Employment.objects.filter(person=persons[number]).order_by("-entry_on").first()
        if employment is not None and employment.grade is not None and employment.grade < grade:
            employment_update(employment=employment, user=user, reason="等级自然增长", grade=grade)
            counts.created += 1

    decided = set(AssessmentDecision.objects.filter(assessment__person__in=persons.values())
                  .values_list("assessment__person_id", "assessment__year"))
    for number, year, kind, on in plan.decisions:
        person = persons[number]
        if (person.pk, year) not in decided:
            assessment_decision_record(assessment=Assessment.objects.get(person=person, year=year), kind=kind,
                                       decided_on=on, note="考核不称职，等级下调一级。", user=user)
            counts.created += 1

    demo = Person.objects.with_id_numbers(plan.persons)
    counts.persons = demo.count()
    counts.seats = Seat.objects.filter(person__in=demo).count()
    counts.employments = Employment.objects.filter(person__in=demo).count()
    counts.exits = ExitProcedure.objects.filter(employment__person__in=demo).count()
    counts.attendances = TrainingAttendance.objects.filter(person__in=demo).count()
    counts.assessments = Assessment.objects.filter(person__in=demo).count()
    return counts


def _overlap(start: date | None, end: date | None, other_start: date | None, other_end: date | None) -> bool:
    """[start, end) meets [other_start, other_end); open ends are infinite."""
    return (other_end is None or start is None or other_end > start) and (
        end is None or other_start is None or other_start < end)


def _check_overlaps(seats: list[Seat], jobs: list[Employment]) -> None:
    """What Seat.clean() and Employment.clean() ask the database about a person's other rows, asked of the rows
    written together (new people have no others): one seat per body at a time and the 两委 of one community
    only; one employment at a time."""
    errors: list[ValidationError] = []
    by_person: dict[int, list[Seat]] = {}
    for seat in seats:
        for other in by_person.setdefault(id(seat.person), []):
            if _overlap(seat.start_on, seat.end_on, other.start_on, other.end_on):
                if other.community_id != seat.community_id:
                    errors.append(ValidationError(f"{seat.person.name}：一人不能同时在两个社区的两委任职。",
                                                  code="seat_two_communities"))
                elif other.body == seat.body:
                    errors.append(ValidationError(f"{seat.person.name}在同一时期已在本社区{Body(seat.body).label}任职。",
                                                  code="seat_duplicate"))
        by_person[id(seat.person)].append(seat)
    held: dict[int, list[Employment]] = {}
    for job in jobs:
        for other_job in held.setdefault(id(job.person), []):
            if job.entry_on and other_job.entry_on and _overlap(job.entry_on, job.leave_on, other_job.entry_on,
                                                                other_job.leave_on):
                errors.append(ValidationError(f"{job.person.name}在同一时期已是{other_job.community.name}的社区工作者。",
                                              code="employment_overlap"))
        held[id(job.person)].append(job)
    if errors:
        raise ValidationError(errors)


def _homes(seats: list[Seat], jobs: list[Employment]) -> dict[int, int]:
    """person pk → 所属社区 as person_refresh_community reads it: the community of the latest-started seat or
    dated employment (the later written on a tie, a seat before a job); else of any employment."""
    dated: list[tuple[int, tuple[date, int, int], int]] = []  # person, (date, seat 1 / job 0, pk), community
    undated: dict[int, int] = {}
    for seat in seats:
        dated.append((seat.person_id, (seat.start_on, 1, seat.pk), seat.community_id))
    for job in jobs:
        if job.entry_on is None:
            undated[job.person_id] = min(job.community_id, undated.get(job.person_id, job.community_id))
        else:
            dated.append((job.person_id, (job.entry_on, 0, job.pk), job.community_id))
    latest: dict[int, tuple[tuple[date, int, int], int]] = {}
    for person, key, community in dated:
        if person not in latest or key > latest[person][0]:
            latest[person] = (key, community)
    return {**undated, **{person: community for person, (_key, community) in latest.items()}}
