"""The 人员, 培训 and 考核 sheets of the import workbook (docs/design.md).

Rows go through the staffing services, so an import refuses exactly what a
form refuses (bad check digit, 两委 seats in two communities at once, grade
outside 1–18, leaving before entry…), with the same codes.

ID numbers are personal data: no message, no printed key and no error text
from the database quotes one whole. Each row's key is therefore the masked
number with its row; duplicates are found on the whole number here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from communities.models import Community
from communities.sheets import communities_by_code
from core.records import among, apply_changes, concrete_attnames, loaded
from core.sheets import (
    Action,
    CellError,
    Column,
    Issue,
    ParsedRow,
    RowRefused,
    Sheet,
    choice,
    digits,
    instance_factory,
    iso_date,
    register,
    text,
    yes_no,
)

from . import idcrypto, idnumbers, services
from .models import (
    MAX_GRADE,
    MIN_GRADE,
    Assessment,
    AssessmentResult,
    Body,
    Employment,
    EntryChannel,
    LeaveWay,
    Person,
    PersonTransfer,
    Post,
    Seat,
    SeatRole,
    TrainingEvent,
    TrainingKind,
    TransferStatus,
)

ID_HEADER = "身份证号"


def id_number(value: Any, today: date | None = None, read: dict[str, idnumbers.IdFacts] | None = None) -> str:
    """``read``: where to keep what was read of each number (Person.clean then need not parse it again)."""
    if not isinstance(value, str):
        # An 18-digit number stored as a number has already lost its last digits in Excel.
        raise CellError("身份证号须以文本格式录入（数字格式会丢失末几位），请把单元格设为文本后重新填写。", "id_format")
    try:
        facts = idnumbers.parse(value, today=today)
    except ValidationError as error:
        raise CellError(error.messages[0], error.code or "id_format") from None
    if read is not None:
        read[facts.number] = facts
    return facts.number


def labels(mapping: Mapping[str, str]):
    def parse(value: Any) -> str:
        label = str(value).strip()
        if label not in mapping:
            raise CellError(f"应为以下之一：{'、'.join(mapping)}，或留空。", "bad_choice")
        return mapping[label]

    return parse


def whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError("应为整数。", "not_integer")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise CellError("应为整数。", "not_integer") from None
    if not number.is_integer():
        raise CellError("应为整数。", "not_integer")
    return int(number)


PARTY_ROLES = {"书记": SeatRole.SECRETARY, "副书记": SeatRole.DEPUTY_SECRETARY, "委员": SeatRole.MEMBER}
COMMITTEE_ROLES = {"主任": SeatRole.DIRECTOR, "副主任": SeatRole.DEPUTY_DIRECTOR, "委员": SeatRole.MEMBER}


def _community(code: str, ctx) -> Community:
    community = communities_by_code(ctx).get(code) or communities_by_code(ctx, [code]).get(code)
    if community is not None:
        return community
    row = ctx.refused.get("社区", {}).get(code)
    if row is not None:
        raise RowRefused("社区代码", f"社区代码 {code} 在“社区”表第{row}行，该行有错误未能导入。", "community_row_refused")
    raise RowRefused("社区代码", f"社区代码 {code} 不存在：请先建立该社区，或在“社区”表中一并导入。", "unknown_community")


def _person(number: str, ctx) -> Person:
    """A person named by a 培训/考核 row: already recorded, or imported by the 人员 sheet of this file."""
    person = Person.objects.select_related("community").with_id_number(number).first()
    masked = idnumbers.mask(number)
    if person is None:
        row = ctx.cache.get("staffing_refused_ids", {}).get(number)
        if row is not None:
            raise RowRefused(ID_HEADER, f"身份证号 {masked} 在“人员”表第{row}行，该行有错误未能导入。",
                             "person_row_refused")
        raise RowRefused(ID_HEADER, f"身份证号 {masked} 尚未登记：请先在“人员”表中导入该人员。", "unknown_person")
    _require_person_scope(person, ctx)
    return person


def _require_person_scope(person: Person, ctx) -> None:
    """A 培训/考核 row may name only the importing clerk's own people; the refusal names no 街办 (issue 14)."""
    scope = ctx.street_scope
    if scope is None:
        return
    street = services.person_street(person)
    if street is None or street not in scope:
        raise RowRefused(ID_HEADER, "该身份证号不是本街办登记的人员，不能导入其培训或考核记录。", "id_held_elsewhere")


def _masked_integrity(error: IntegrityError) -> RowRefused:
    # The database's own text may quote the row, ID number included.
    return RowRefused(ID_HEADER, f"数据库拒绝写入：{idnumbers.redact(str(error))}", "integrity")


# What _RecordedPeople reads of a recorded person (not the ciphertext: rows find people by digest) and of a job.
_PERSON_COLUMNS = [name for name in concrete_attnames(Person) if name != "id_number"]
_EMPLOYMENT_COLUMNS = concrete_attnames(Employment)


class _RecordedPeople:
    """The recorded people an import's rows name (by digest), with their jobs, seats and confirmed transfers: one
    query each (people locked, as _lock_person locks one) instead of several per row. The clear ID number is not
    read (decrypting it is the rows' own number anyway)."""

    def __init__(self) -> None:
        self.persons: dict[int, Person] = {}
        self.by_digest: dict[str, int] = {}
        self.jobs: dict[int, list[Employment]] = {}
        self.seats: dict[int, list[Seat]] = {}
        self.transfers: set[tuple[int, str]] = set()
        self.moved: dict[int, int] = {}  # person pk → new 所属社区 (person_refresh_community)

    @classmethod
    def read(cls, digests: list[str]) -> _RecordedPeople:
        known = cls()
        # Built from plain rows (core.records.loaded), not through Model.__init__: a 20,000-row file of recorded
        # people reads 20,000 people and their jobs. The ciphertext is not read: rows find people by digest.
        rows = among(Person.objects, "id_number_hash", digests).select_for_update().order_by("pk")
        known.persons = {p.pk: p for p in loaded(Person, rows.values_list(*_PERSON_COLUMNS), _PERSON_COLUMNS)}
        known.by_digest = {p.id_number_hash: p.pk for p in known.persons.values()}
        pks = list(known.persons)
        if not pks:
            return known
        jobs = among(Employment.objects.order_by(), "person", pks).values_list(*_EMPLOYMENT_COLUMNS)
        for job in loaded(Employment, jobs, _EMPLOYMENT_COLUMNS):
            known.jobs.setdefault(job.person_id, []).append(job)
        for seat in among(Seat.objects.order_by(), "person", pks):
            known.seats.setdefault(seat.person_id, []).append(seat)
        known.transfers = {(person, str(street)) for person, street in PersonTransfer.objects.filter(
            person_id__in=pks, status=TransferStatus.CONFIRMED).values_list("person_id", "to_sub_district_id")}
        return known


def _clone(obj: Any) -> Any:
    """A separate copy of a loaded instance to change (the loaded one stays as stored): copy.copy of a model
    goes through __reduce_ex__/__getstate__, a third of a recorded person's row."""
    clone = object.__new__(type(obj))
    clone.__dict__.update(obj.__dict__)
    state = clone._state = ModelState()
    state.adding, state.db = obj._state.adding, obj._state.db
    state.fields_cache = dict(obj._state.fields_cache)
    return clone


class StaffingSheet(Sheet):
    """Keys rows by masked number and row; checks duplicates on the whole number."""

    duplicate_fields: tuple[str, ...] = ("id_number",)
    field_headers: dict[str, str] = {}

    def compiled_columns(self) -> list[tuple[str, str, Any, bool, Any, dict]]:
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            # The ID number's birth date is checked against the import's day, read once.
            self.id_facts: dict[str, idnumbers.IdFacts] = {}
            check = functools.partial(id_number, today=timezone.localdate(), read=self.id_facts)
            compiled = self.__dict__["_compiled"] = [
                (header, field, check if parse is id_number else parse, blank, empty, memo)
                for header, field, parse, blank, empty, memo in super().compiled_columns()]
        return compiled

    def finish_row(self, parsed: ParsedRow, ctx) -> None:
        super().finish_row(parsed, ctx)
        row = parsed.row
        number = parsed.data.get("id_number")
        parsed.key = f"{idnumbers.mask(number) if number else '（无效身份证号）'}（第{row}行）"
        if number and all(f in parsed.data for f in self.duplicate_fields):
            seen = ctx.cache.setdefault(f"staffing_seen_{self.name}", {})
            identity = tuple(parsed.data[f] for f in self.duplicate_fields)
            if identity in seen:
                parsed.issues.append((ID_HEADER, f"与第{seen[identity]}行重复。", "duplicate_key"))
            else:
                seen[identity] = row

    @classmethod
    def header_for_field(cls, field: str) -> str:
        if field in cls.field_headers:
            return cls.field_headers[field]
        return super().header_for_field(field)

    def apply_row(self, data: dict[str, Any], ctx) -> Action:
        try:
            with transaction.atomic():
                return self.write(data, ctx)
        except IntegrityError as error:
            raise _masked_integrity(error) from None

    def write(self, data: dict[str, Any], ctx) -> Action:
        raise NotImplementedError


@register
class PersonSheet(StaffingSheet):
    name = "人员"
    key = ID_HEADER
    models = (Person, Employment, Seat)
    depends_on = ("社区",)
    columns = [
        Column(ID_HEADER, "id_number", id_number),
        Column("姓名", "name", text(50)),
        Column("社区代码", "community", digits(12, "社区代码必须是12位数字。")),
        Column("社区工作者", "is_worker", yes_no),
        Column("专职", "full_time", yes_no, blank=True, empty=False),
        Column("党组织职务", "party_role", labels(PARTY_ROLES), blank=True, empty=""),
        Column("居委会职务", "committee_role", labels(COMMITTEE_ROLES), blank=True, empty=""),
        Column("岗位", "post", choice(Post), blank=True, empty=""),
        Column("等级", "grade", whole_number, blank=True),
        Column("学历", "education", text(30), blank=True, empty=""),
        Column("入职日期", "entry_on", iso_date, blank=True),
        Column("入职方式", "entry_channel", choice(EntryChannel), blank=True, empty=""),
        Column("离职日期", "leave_on", iso_date, blank=True),
        Column("离职申请日期", "resignation_submitted_on", iso_date, blank=True),
        Column("离职方式", "leave_way", choice(LeaveWay), blank=True, empty=""),
        Column("备案日期", "filed_on", iso_date, blank=True),
    ]
    field_headers = {
        "id_number": ID_HEADER, "name": "姓名", "community": "社区代码", "education": "学历", "grade": "等级",
        "post": "岗位", "entry_on": "入职日期", "start_on": "入职日期", "leave_on": "离职日期", "end_on": "离职日期",
        "entry_channel": "入职方式", "leave_way": "离职方式", "filed_on": "备案日期",
        "resignation_submitted_on": "离职申请日期", "probation_until": "入职日期", "approved_on": "离职日期",
    }

    def clean_row(self, parsed: ParsedRow, ctx) -> None:
        data = parsed.data
        grade = data.get("grade")
        if grade is not None and not (MIN_GRADE <= grade <= MAX_GRADE):
            parsed.issues.append(("等级", f"等级应为三岗十八级的1–18级，不能是{grade}。", "grade_range"))
        if data.get("entry_on") and data.get("leave_on") and data["leave_on"] < data["entry_on"]:
            parsed.issues.append(("离职日期", f"离职日期（{data['leave_on']:%Y-%m-%d}）不能早于入职日期"
                                  f"（{data['entry_on']:%Y-%m-%d}）。", "leave_before_entry"))
        if data.get("is_worker") is False and data.get("full_time"):
            parsed.issues.append(("专职", "不是社区工作者的人员不能填“专职=是”。", "fulltime_not_worker"))
        if (data.get("party_role") or data.get("committee_role")) and "entry_on" in data and not data["entry_on"]:
            parsed.issues.append(("入职日期", "担任两委职务的人员须填写入职日期（即任职日期）。", "seat_start_required"))
        if parsed.issues and data.get("id_number"):
            ctx.cache.setdefault("staffing_refused_ids", {}).setdefault(data["id_number"], parsed.row)

    def finish_row(self, parsed: ParsedRow, ctx) -> None:
        super().finish_row(parsed, ctx)
        parsed.data["_row"] = parsed.row

    def apply_row(self, data: dict[str, Any], ctx) -> Action:
        row = data.pop("_row", None)
        try:
            return super().apply_row(data, ctx)
        except (ValidationError, RowRefused):
            # 培训/考核 rows naming this person then say which 人员 row failed.
            ctx.cache.setdefault("staffing_refused_ids", {}).setdefault(data["id_number"], row)
            raise

    def bulk_apply(self, rows: list[ParsedRow], ctx) -> list[Action | list[Issue] | None]:
        """The rows as ``write`` would write them, checked as it checks them (each model's ``clean()`` given the
        recorded numbers, the person's jobs and the day, read once) and written in batches: new people with their
        job and seats; recorded people renamed and their job in the row's community changed. Rows of recorded
        people that name a seat, use up a transfer or start a new job go one at a time (``write``)."""
        digest = idcrypto.digester()
        digests = {row.data["id_number"]: digest(row.data["id_number"]) for row in rows}
        known = _RecordedPeople.read(list(digests.values()))
        recorded = known.by_digest
        today = timezone.localdate()
        makers = (instance_factory(Person), instance_factory(Employment), instance_factory(Seat))
        scope = ctx.street_scope
        outcomes: list[Action | list[Issue] | None] = []
        persons: list[Person] = []
        employments: list[Employment] = []
        seats: list[Seat] = []
        communities_by_code(ctx, [row.data["community"] for row in rows])  # one read for the rows' 社区
        # The 街办 of the recorded people's 所属社区 (person_require_registrable).
        street_of = dict(Community.objects.filter(pk__in={p.community_id for p in known.persons.values()
                                                          if p.community_id is not None})
                         .values_list("pk", "sub_district_id"))
        updated_people: list[Person] = []
        updated_jobs: list[Employment] = []
        job_fields: set[str] = set()
        for parsed in rows:
            data = parsed.data
            try:
                community = _community(data["community"], ctx)
                if scope is not None:
                    ctx.require_street(community.sub_district_id, "社区代码")
                pk = recorded.get(digests[data["id_number"]])
                if pk is not None:
                    decided = self._update_recorded(known, pk, data, community, street_of, today)
                    if decided is None:  # seats, a transfer, a new job: the one-at-a-time path (write)
                        outcomes.append(None)
                        continue
                    person, job, fields = decided
                    if person is not None:
                        updated_people.append(person)
                    if job is not None:
                        updated_jobs.append(job)
                        job_fields.update(fields)
                    outcomes.append(Action.UPDATED if person is not None or job is not None else Action.UNCHANGED)
                    continue
                person, jobs, held = self._new_person(data, community, recorded, today, makers)
            except RowRefused as refused:
                outcomes.append([(refused.column, refused.message, refused.code)])
            except ValidationError as error:
                outcomes.append(self.validation_issues(error))
            else:
                persons.append(person)
                employments.extend(jobs)
                seats.extend(held)
                outcomes.append(Action.CREATED)
                continue
            # 培训/考核 rows naming this person then say which 人员 row failed.
            ctx.cache.setdefault("staffing_refused_ids", {}).setdefault(data["id_number"], parsed.row)
        # A batch the database refuses is retried row by row by the import, whose messages mask ID numbers.
        services.people_create_bulk(persons=persons, employments=employments, seats=seats, user=ctx.user,
                                    reason=self.history_reason)
        services.people_update_bulk(persons=updated_people, employments=updated_jobs, fields=sorted(job_fields),
                                    moved=known.moved, user=ctx.user, reason=self.history_reason)
        return outcomes

    def _update_recorded(self, known: _RecordedPeople, pk: int, data: dict[str, Any], community: Community,
                         street_of: Mapping[int, str], today: date) -> tuple[Person | None, Employment | None,
                                                                             list[str]] | None:
        """A row of a person already recorded, decided as ``write`` decides it, from the person's rows read once:
        (the person if renamed, the job if changed, the job's changed fields); None for what ``write`` does with
        more steps (a seat, a confirmed transfer to use up, a new job): that row goes one at a time.
        Refusals raise as in ``write``."""
        person = known.persons[pk]
        jobs, seats = known.jobs.get(pk, []), known.seats.get(pk, [])
        street = community.sub_district_id
        # person_require_registrable, read from the rows at hand.
        held = street_of.get(person.community_id) if person.community_id is not None else None
        if (pk, street) in known.transfers:
            return None  # registrable through a confirmed transfer, which this registration uses up
        if (held is None and (jobs or seats)) or (held is not None and held != street):
            raise ValidationError({"id_number": ValidationError(services.HELD_ELSEWHERE, code="id_held_elsewhere")})
        if data["party_role"] or data["committee_role"]:
            return None
        if data.get("leave_on") and any(s.community_id == community.pk and s.end_on is None for s in seats):
            return None  # an open seat ends with the departure (seat_update and its vacancy)
        renamed = None
        name, education = data["name"].strip(), data["education"].strip()
        if (person.name, person.education) != (name, education):
            renamed = _clone(person)
            renamed.id_number = data["id_number"]  # the number the row found them by (not read: ciphertext)
            renamed.name, renamed.education = name, education
            renamed.clean(known.by_digest, today, self._id_facts(data["id_number"]))
        if not data["is_worker"]:
            return renamed, None, []
        here = [job for job in jobs if job.community_id == community.pk]
        if not here or any(job.entry_on is None for job in here):
            return None  # a new job, or an order of jobs the database decides (NULL dates)
        job = _clone(max(here, key=lambda j: (j.entry_on, j.pk)))
        changed = apply_changes(job, {
            "full_time": data["full_time"], "post": data["post"], "grade": data.get("grade"),
            "entry_on": data.get("entry_on"), "entry_channel": data["entry_channel"], "leave_on": data.get("leave_on"),
            "leave_way": data["leave_way"], "resignation_submitted_on": data.get("resignation_submitted_on"),
            "filed_on": data.get("filed_on")})
        if not changed:
            return renamed, None, []
        job.clean(jobs, today)
        # person_refresh_community after the job's save: 所属社区 follows the latest-started seat or dated job
        # (a seat wins a tie, as max() over seats then jobs picks the first).
        dated = [j for j in (*(j for j in jobs if j.pk != job.pk), job) if j.entry_on is not None]
        latest_job = max(dated, key=lambda j: (j.entry_on, j.pk), default=None)
        latest_seat = max(seats, key=lambda s: (s.start_on, s.pk), default=None)
        job_on = latest_job.entry_on if latest_job is not None else None
        if latest_seat is not None and (job_on is None or latest_seat.start_on >= job_on):
            community_id = latest_seat.community_id
        elif latest_job is not None:
            community_id = latest_job.community_id
        else:
            return None  # an undated job places the person: the database's first, one at a time
        if community_id != person.community_id:
            known.moved[person.pk] = community_id
        return renamed, job, changed

    def _id_facts(self, number: str) -> idnumbers.IdFacts | None:
        """What the ID number column's parser read from this number (None: not parsed by it, clean() parses)."""
        return self.__dict__.get("id_facts", {}).get(number)

    def _new_person(self, data: dict[str, Any], community: Community, recorded: Mapping[str, int], today: date,
                    makers: tuple) -> tuple[Person, list[Employment], list[Seat]]:
        """What ``write`` creates for an ID number not yet recorded, each checked by its model's clean()."""
        new_person, new_job, new_seat = makers
        person = new_person({"id_number": data["id_number"], "name": data["name"].strip(),
                             "education": data["education"].strip()})
        person.clean(recorded, today, self._id_facts(data["id_number"]))
        jobs: list[Employment] = []
        if data["is_worker"]:
            job = new_job({"person": person, "community": community, "full_time": data["full_time"],
                           "post": data["post"], "grade": data.get("grade"), "entry_on": data.get("entry_on"),
                           "entry_channel": data["entry_channel"], "leave_on": data.get("leave_on"),
                           "leave_way": data["leave_way"],
                           "resignation_submitted_on": data.get("resignation_submitted_on"),
                           "filed_on": data.get("filed_on")})
            job.clean((), today)  # a new person has no other job to overlap
            jobs.append(job)
        held: list[Seat] = []
        for body, role in ((Body.PARTY, data["party_role"]), (Body.COMMITTEE, data["committee_role"])):
            if not role:
                continue
            start_on = data.get("entry_on")
            if start_on is None:
                raise RowRefused("入职日期", "担任两委职务的人员须填写入职日期（即任职日期）。", "seat_start_required")
            seat = new_seat({"person": person, "community": community, "body": body, "role": role,
                             "start_on": start_on, "end_on": data.get("leave_on")})
            seat.clean((), today)
            held.append(seat)
        # 所属社区 as person_refresh_community would set it: every row names one community.
        if jobs or held:
            person.community = community
        return person, jobs, held

    def write(self, data: dict[str, Any], ctx) -> Action:
        community = _community(data["community"], ctx)
        ctx.require_street(community.sub_district_id, "社区代码")
        number = data["id_number"]
        existing = Person.objects.select_related("community").with_id_number(number).first()
        if existing is not None:
            # The forms' rule, from the same service: a person of another 街办 comes only by a confirmed transfer.
            services.person_require_registrable(person=existing, sub_district_code=community.sub_district_id)
        person, created = services.person_upsert(id_number=number, name=data["name"], education=data["education"],
                                                 user=ctx.user)
        changed = created or (existing is not None and (existing.name, existing.education) != (person.name,
                                                                                            person.education))
        if data["is_worker"]:
            changed |= self._employment(person, community, data, ctx)
        for body, role in ((Body.PARTY, data["party_role"]), (Body.COMMITTEE, data["committee_role"])):
            changed |= self._seat(person, community, body, role, data, ctx)
        if existing is not None and changed:
            services.transfer_complete(person=person, community=community, user=ctx.user)
        if created:
            return Action.CREATED
        return Action.UPDATED if changed else Action.UNCHANGED

    def _employment(self, person, community, data, ctx) -> bool:
        fields = {
            "full_time": data["full_time"], "post": data["post"], "grade": data.get("grade"),
            "entry_on": data.get("entry_on"), "entry_channel": data["entry_channel"],
            "leave_on": data.get("leave_on"), "leave_way": data["leave_way"],
            "resignation_submitted_on": data.get("resignation_submitted_on"), "filed_on": data.get("filed_on"),
        }
        job = Employment.objects.filter(person=person, community=community).order_by("-entry_on", "-pk").first()
        if job is None:
            services.employment_create(person=person, community=community, user=ctx.user, **fields)
            return True
        return bool(services.employment_update(employment=job, user=ctx.user, reason=self.history_reason, **fields))

    def _seat(self, person, community, body, role, data, ctx) -> bool:
        seat = (Seat.objects.filter(person=person, community=community, body=body)
                .order_by("-start_on", "-pk").first())
        leave_on = data.get("leave_on")
        if not role:
            # The row no longer names a seat in this body: a seat still open ends when the person left.
            if seat is not None and seat.end_on is None and leave_on:
                return bool(services.seat_update(seat=seat, end_on=leave_on, user=ctx.user))
            return False
        start_on = data.get("entry_on")
        if start_on is None:
            raise RowRefused("入职日期", "担任两委职务的人员须填写入职日期（即任职日期）。", "seat_start_required")
        if seat is None or (seat.end_on is not None and seat.end_on <= start_on):
            services.seat_create(person=person, community=community, body=body, role=role, start_on=start_on,
                                 end_on=leave_on, user=ctx.user)
            return True
        return bool(services.seat_update(seat=seat, role=role, start_on=start_on, end_on=leave_on, user=ctx.user))


@register
class TrainingSheet(StaffingSheet):
    name = "培训"
    key = ID_HEADER
    models = (TrainingEvent,)
    depends_on = ("人员",)
    duplicate_fields = ("id_number", "title", "kind", "held_on")
    columns = [
        Column(ID_HEADER, "id_number", id_number),
        Column("培训名称", "title", text(200)),
        Column("培训类型", "kind", choice(TrainingKind)),
        Column("培训日期", "held_on", iso_date),
    ]
    field_headers = {"title": "培训名称", "kind": "培训类型", "held_on": "培训日期", "persons": ID_HEADER}

    def write(self, data: dict[str, Any], ctx) -> Action:
        person = _person(data["id_number"], ctx)
        _event, added = services.training_event_record(title=data["title"], kind=data["kind"],
                                                       held_on=data["held_on"], persons=[person], user=ctx.user)
        return Action.CREATED if added else Action.UNCHANGED


@register
class AssessmentSheet(StaffingSheet):
    name = "考核"
    key = ID_HEADER
    depends_on = ("人员",)
    duplicate_fields = ("id_number", "year")
    columns = [
        Column(ID_HEADER, "id_number", id_number),
        Column("年度", "year", whole_number),
        Column("结果", "result", choice(AssessmentResult)),
    ]
    field_headers = {"year": "年度", "result": "结果", "assessed_on": "年度"}

    def write(self, data: dict[str, Any], ctx) -> Action:
        person = _person(data["id_number"], ctx)
        before = Assessment.objects.filter(person=person, year=data["year"]).values_list("result", flat=True).first()
        _assessment, created = services.assessment_record(person=person, year=data["year"], result=data["result"],
                                                          user=ctx.user)
        if created:
            return Action.CREATED
        return Action.UNCHANGED if before == data["result"] else Action.UPDATED
