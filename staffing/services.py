"""Write operations on people, 两委 seats, employments, training, assessment
and exits. Each is one atomic unit; views and the workbook import both come
through here, so a data error is refused the same way everywhere.

No function here logs an ID number; messages quote it masked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from communities.models import Community
from compliance.rejudge import changed_columns, rejudge_on_commit
from core.records import apply_changes, bulk_insert, bulk_update, save_clean, set_history

from . import idnumbers
from .models import (
    Assessment,
    AssessmentDecision,
    Body,
    CareRecord,
    Employment,
    ExitKind,
    ExitProcedure,
    ExitStep,
    ExitStepName,
    LeaveWay,
    Person,
    PersonTransfer,
    Seat,
    TrainingAttendance,
    TrainingEvent,
    TransferStatus,
    Vacancy,
    next_exit_step,
)


def _lock_person(person: Person) -> Person:
    # Seats and employments are checked against the person's other rows;
    # locking the person serialises two clerks saving for the same person.
    return Person.objects.select_for_update().get(pk=person.pk)


def person_refresh_community(person: Person) -> None:
    """所属社区 = the community of the person's latest-started seat or employment."""
    seat = Seat.objects.filter(person=person).order_by("-start_on", "-pk").values_list("start_on", "community_id")[:1]
    job = (Employment.objects.filter(person=person, entry_on__isnull=False)
           .order_by("-entry_on", "-pk").values_list("entry_on", "community_id")[:1])
    latest = max([*seat, *job], default=None, key=lambda row: row[0])
    community_id = latest[1] if latest else None
    if community_id is None and person.community_id is None:
        # An employment without an entry date still places the person.
        community_id = Employment.objects.filter(person=person).values_list("community_id", flat=True).first()
    if community_id is not None and community_id != person.community_id:
        Person.objects.filter(pk=person.pk).update(community_id=community_id)
        person.community_id = community_id


# --- people -----------------------------------------------------------------


def person_create(*, id_number: str, name: str, education: str = "", phone: str = "", user=None) -> Person:
    with transaction.atomic():
        person = Person(id_number=idnumbers.normalize(id_number), name=(name or "").strip(),
                        education=(education or "").strip(), phone=(phone or "").strip())
        save_clean(person, user)
        rejudge_on_commit(Person, [person], created=True)
        return person


def person_update(*, person: Person, user=None, **fields: Any) -> list[str]:
    with transaction.atomic():
        if "id_number" in fields:
            fields["id_number"] = idnumbers.normalize(fields["id_number"])
        old = copy.copy(person)
        changed = apply_changes(person, fields)
        if not changed:
            return []
        save_clean(person, user)
        rejudge_on_commit(Person, [person, old], changed=changed_columns(old, person))
        return changed


def person_upsert(*, id_number: str, name: str, education: str | None = None, phone: str | None = None,
                  user=None) -> tuple[Person, bool]:
    """By ID number: the natural key of a person in the 人员 sheet."""
    number = idnumbers.normalize(id_number)
    existing = Person.objects.with_id_number(number).first()
    if existing is None:
        return person_create(id_number=number, name=name, education=education or "", phone=phone or "",
                             user=user), True
    fields: dict[str, Any] = {"name": (name or "").strip()}
    if education is not None:
        fields["education"] = education.strip()
    if phone is not None:
        fields["phone"] = phone.strip()
    person_update(person=existing, user=user, **fields)
    return existing, False


def people_create_bulk(*, persons: list[Person], employments: list[Employment], seats: list[Seat], user=None,
                      reason: str | None = None) -> None:
    """Write many new people the caller has already validated, with their employments and seats and all their
    history: the workbook import's rows for ID numbers not yet recorded.

    ``employments``/``seats`` name their person by the instance (its pk is set here) and the caller sets each
    person's 所属社区 as person_refresh_community would. New people have no other rows to overlap, so no lock
    is needed; the database's unique ID number stands behind the caller's check."""
    with transaction.atomic():
        bulk_insert(Person, persons, user=user, reason=reason)
        for job in employments:
            job.person_id = job.person.pk
        for seat in seats:
            seat.person_id = seat.person.pk
        bulk_insert(Employment, employments, user=user, reason=reason)
        bulk_insert(Seat, seats, user=user, reason=reason)
        rejudge_on_commit(Person, persons, created=True)
        rejudge_on_commit(Employment, employments, created=True)
        rejudge_on_commit(Seat, seats, created=True)
        vacancies_after_departures(seats=[s for s in seats if s.end_on is not None], user=user)


def people_update_bulk(*, persons: list[Person], employments: list[Employment], fields: list[str],
                       moved: dict[int, int], user=None, reason: str | None = None) -> None:
    """Write many recorded people the caller has already validated (the workbook import's rows of people already
    recorded): their names and education as person_update saves them, the ``fields`` of their jobs as
    employment_update saves them, each with its history, and the 所属社区 of ``moved`` people (pk → community
    id) as person_refresh_community sets it (without history, as it does)."""
    with transaction.atomic():
        bulk_update(Person, persons, ["name", "education"], user=user)
        bulk_update(Employment, employments, fields, user=user, reason=reason)
        for pk, community_id in moved.items():
            Person.objects.filter(pk=pk).update(community_id=community_id)
        rejudge_on_commit(Person, persons, changed=["name", "education"])
        attnames = {f.name: f.attname for f in Employment._meta.concrete_fields}
        rejudge_on_commit(Employment, employments, changed=[attnames[f] for f in fields])


# --- 两委 seats and vacancies ------------------------------------------------


def seat_create(*, person: Person, community: Community, body: str, role: str, start_on: date,
                end_on: date | None = None, user=None) -> Seat:
    with transaction.atomic():
        _lock_person(person)
        seat = Seat(person=person, community=community, body=body, role=role, start_on=start_on, end_on=end_on)
        save_clean(seat, user)
        rejudge_on_commit(Seat, [seat], created=True)
        person_refresh_community(person)
        if end_on is not None:
            vacancies_after_departures(seats=[seat], user=user)
        return seat


def seat_update(*, seat: Seat, user=None, vacancy_reason: str = "", auto_vacancy: bool = True,
                **fields: Any) -> list[str]:
    with transaction.atomic():
        _lock_person(seat.person)
        old = copy.copy(seat)
        changed = apply_changes(seat, fields)
        if not changed:
            return []
        save_clean(seat, user)
        rejudge_on_commit(Seat, [seat, old], changed=changed_columns(old, seat))
        person_refresh_community(seat.person)
        if auto_vacancy and "end_on" in changed and seat.end_on is not None:
            vacancies_after_departures(seats=[seat], reason=vacancy_reason, user=user)
        return changed


def seat_end(*, seat: Seat, on: date, reason: str = "", open_vacancy: bool = False, user=None) -> Vacancy | None:
    """离任. The seat falls vacant by itself when its body is left below the size 措施十 requires
    (``vacancies_after_departures``); ``open_vacancy`` records it vacant whatever the size (the clerk's call).
    Either way the M11 clock starts on the leaving day."""
    with transaction.atomic():
        if open_vacancy:
            seat_update(seat=seat, end_on=on, user=user, auto_vacancy=False)
            vacancy = Vacancy(community=seat.community, body=seat.body, role=seat.role, vacated_on=on,
                              reason=reason, previous_seat=seat)
            save_clean(vacancy, user)
            rejudge_on_commit(Vacancy, [vacancy], created=True)
            return vacancy
        seat_update(seat=seat, end_on=on, user=user, vacancy_reason=reason)
        return Vacancy.objects.filter(previous_seat=seat).first()


# The body's minimum is M10's dated parameter of the rule that judges its size (措施十: 3 and 5 by default).
_MINIMUM_OF_BODY: dict[str, tuple[str, str]] = {Body.PARTY: ("M10.party_size", "min_party"), Body.COMMITTEE: ("M10.committee_size", "min_committee")}


def body_minimum(body: str, on: date) -> int:
    from compliance.parameters import params_for
    from compliance.rules import registry

    rule_id, name = _MINIMUM_OF_BODY[body]
    return int(params_for(registry.get(rule_id), on)[name])


def vacancies_after_departures(*, seats: Iterable[Seat], reason: str = "", user=None) -> list[Vacancy]:
    """措施十一: a departure that leaves its 两委 body below the size 措施十 requires opens a vacancy by itself.

    The one place every path that ends a seat comes through (the 离任 form, a worker's exit, the 人员 import,
    bulk or row by row). For each ended seat, on its leaving day D: when the body's members on D (distinct
    persons with a seat active on D) plus its vacancies still open on D are fewer than the minimum in force on
    D, the seat is recorded vacant from D and the 补选 clock (M11.vacancy) starts. A seat already recorded
    vacant, a seat of a 撤销 community, or a departure that leaves enough members opens none."""
    from communities.models import CommunityStatus

    opened: list[Vacancy] = []
    for seat in sorted((s for s in seats if s.end_on is not None), key=lambda s: (s.end_on, s.pk)):
        day = seat.end_on
        assert day is not None
        if Vacancy.objects.filter(previous_seat=seat).exists():
            continue
        if Community.objects.filter(pk=seat.community_id, status=CommunityStatus.REVOKED).exists():
            continue
        members = (Seat.objects.active_on(day).filter(community_id=seat.community_id, body=seat.body)
                   .values("person_id").distinct().count())
        still_open = (Vacancy.objects.filter(community_id=seat.community_id, body=seat.body, vacated_on__lte=day)
                      .filter(Q(filled_on__isnull=True) | Q(filled_on__gt=day)).count())
        minimum = body_minimum(seat.body, day)
        if members + still_open >= minimum:
            continue
        vacancy = Vacancy(community_id=seat.community_id, body=seat.body, role=seat.role, vacated_on=day,
                          previous_seat=seat,
                          reason=reason or f"离任后{Body(seat.body).label}仅 {members} 人，低于 {minimum} 人")
        save_clean(vacancy, user, "自动登记空缺")
        rejudge_on_commit(Vacancy, [vacancy], created=True)
        opened.append(vacancy)
    return opened


def vacancy_create(*, community: Community, body: str, role: str, vacated_on: date, reason: str = "",
                   user=None) -> Vacancy:
    with transaction.atomic():
        vacancy = Vacancy(community=community, body=body, role=role, vacated_on=vacated_on, reason=reason)
        save_clean(vacancy, user)
        rejudge_on_commit(Vacancy, [vacancy], created=True)
        return vacancy


def vacancy_fill(*, vacancy: Vacancy, person: Person, on: date, user=None) -> Seat:
    """补选: the elected person takes the seat from the by-election date."""
    with transaction.atomic():
        vacancy = Vacancy.objects.select_for_update().get(pk=vacancy.pk)
        if vacancy.filled_on is not None:
            raise ValidationError("这个空缺已经补选过了。", code="vacancy_filled")
        if on < vacancy.vacated_on:
            raise ValidationError({"filled_on": ValidationError("补选日期不能早于出缺日期。", code="end_before_start")})
        seat = seat_create(person=person, community=vacancy.community, body=vacancy.body, role=vacancy.role,
                           start_on=on, user=user)
        old = copy.copy(vacancy)
        vacancy.filled_on = on
        vacancy.filled_by = seat
        save_clean(vacancy, user, "补选")
        rejudge_on_commit(Vacancy, [vacancy, old], changed=changed_columns(old, vacancy))
        return seat


# --- employment ---------------------------------------------------------------


def employment_create(*, person: Person, community: Community, user=None, **fields: Any) -> Employment:
    with transaction.atomic():
        _lock_person(person)
        employment = Employment(person=person, community=community, **fields)
        save_clean(employment, user)
        rejudge_on_commit(Employment, [employment], created=True)
        person_refresh_community(person)
        return employment


def employment_update(*, employment: Employment, user=None, reason: str | None = None, **fields: Any) -> list[str]:
    with transaction.atomic():
        _lock_person(employment.person)
        old = copy.copy(employment)
        changed = apply_changes(employment, fields)
        if not changed:
            return []
        save_clean(employment, user, reason)
        rejudge_on_commit(Employment, [employment, old], changed=changed_columns(old, employment))
        person_refresh_community(employment.person)
        return changed


# Said the same whatever the other 街办 holds: no name, no community, no 街办 (issue 14).
HELD_ELSEWHERE = ("该身份证号已在其他街道办事处登记，不能在本街办直接登记。"
                  "如该人员调入本街办，请提交人员调动申请，由原街办或区民政局确认后再登记。")


def person_street(person: Person) -> str | None:
    """The 街办 a person belongs to: that of their 所属社区 (latest seat or job)."""
    if person.community_id is None:
        return None
    return Community.objects.filter(pk=person.community_id).values_list("sub_district_id", flat=True).first()


def person_require_registrable(*, person: Person, sub_district_code: str) -> None:
    """Refuses to register ``person`` in a community of ``sub_district_code`` when they belong to another 街办.

    The one rule for the worker, seat and vacancy forms and the 人员 import: a person moves between 街办 only
    by a confirmed transfer (``transfer_confirm``). A person with no seat and no job anywhere belongs to no
    街办 yet. The refusal says nothing about the person (``HELD_ELSEWHERE``)."""
    street = person_street(person)
    if street is None:
        if not (Seat.objects.filter(person=person).exists() or Employment.objects.filter(person=person).exists()):
            return
    elif street == sub_district_code:
        return
    if PersonTransfer.objects.filter(person=person, to_sub_district__code=sub_district_code,
                                     status=TransferStatus.CONFIRMED).exists():
        return
    raise ValidationError({"id_number": ValidationError(HELD_ELSEWHERE, code="id_held_elsewhere")})


def person_for_registration(*, id_number: str, name: str, community: Community, education: str = "",
                            phone: str = "", user=None) -> tuple[Person, bool]:
    """For forms: a known ID number of this 街办 gives the recorded person, unchanged (the form's name does not
    rename them); a number held in another 街办 is refused (``person_require_registrable``); otherwise a new
    person."""
    existing = Person.objects.with_id_number(id_number).first()
    if existing is not None:
        person_require_registrable(person=existing, sub_district_code=community.sub_district_id)
        return existing, False
    return person_create(id_number=id_number, name=name, education=education, phone=phone, user=user), True


def transfer_complete(*, person: Person, community: Community, user=None) -> None:
    """A confirmed transfer into ``community``'s 街办 is used up by the registration it allowed."""
    for transfer in PersonTransfer.objects.select_for_update().filter(
            person=person, to_sub_district__code=community.sub_district_id, status=TransferStatus.CONFIRMED):
        transfer.status = TransferStatus.COMPLETED
        transfer.completed_at = timezone.now()
        set_history(transfer, user, "调入登记")
        transfer.save(update_fields=["status", "completed_at"])


def worker_create(*, id_number: str, name: str, community: Community, education: str = "", phone: str = "",
                  user=None, **employment_fields: Any) -> Employment:
    """The worker form: a new person, or one of this 街办 (by ID number), becomes a worker of ``community``."""
    with transaction.atomic():
        person, _ = person_for_registration(id_number=id_number, name=name, community=community,
                                            education=education, phone=phone, user=user)
        employment = employment_create(person=person, community=community, user=user, **employment_fields)
        transfer_complete(person=person, community=community, user=user)
        return employment


def seat_create_for(*, community: Community, body: str, role: str, start_on: date, user=None,
                    person: Person | None = None, id_number: str = "", name: str = "") -> Seat:
    """The seat form: a person picked from the community's own, or named by ID number (``person_for_registration``)."""
    with transaction.atomic():
        if person is None:
            person, _ = person_for_registration(id_number=id_number, name=name, community=community, user=user)
        seat = seat_create(person=person, community=community, body=body, role=role, start_on=start_on, user=user)
        transfer_complete(person=person, community=community, user=user)
        return seat


def vacancy_fill_for(*, vacancy: Vacancy, on: date, user=None, person: Person | None = None, id_number: str = "",
                     name: str = "") -> Seat:
    """The 补选 form: the elected person picked from the community's own, or named by ID number."""
    with transaction.atomic():
        if person is None:
            person, _ = person_for_registration(id_number=id_number, name=name, community=vacancy.community,
                                                user=user)
        seat = vacancy_fill(vacancy=vacancy, person=person, on=on, user=user)
        transfer_complete(person=person, community=vacancy.community, user=user)
        return seat


# --- exit procedures (措施十五) -------------------------------------------------

_STEP_FIELDS: dict[str, str] = {
    ExitStepName.SUBMITTED: "resignation_submitted_on",
    ExitStepName.SUBDISTRICT_APPROVED: "approved_on",
    ExitStepName.SUBDISTRICT_DECIDED: "approved_on",
    ExitStepName.FILED: "filed_on",
}


def _record_step(procedure: ExitProcedure, step: str, on: date, note: str, user) -> ExitStep:
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    return ExitStep.objects.create(procedure=procedure, step=step, on=on, note=note, actor=actor,
                                   recorded_at=timezone.now())


def exit_start(*, employment: Employment, kind: str, on: date, leave_on: date, note: str = "",
               user=None) -> ExitProcedure:
    """Opens the procedure with its first step: the written resignation, or the 街办's dismissal decision."""
    with transaction.atomic():
        employment = Employment.objects.select_for_update().get(pk=employment.pk)
        if ExitProcedure.objects.filter(employment=employment).exists():
            raise ValidationError("这名社区工作者的离职程序已经开始。", code="exit_started")
        if employment.leave_on is not None and employment.leave_on <= timezone.localdate() and not employment.leave_way:
            raise ValidationError("这名社区工作者已经离职。", code="already_left")
        kind = ExitKind(kind)
        first = next_exit_step(kind, None)
        assert first is not None, "every exit flow has a first step"
        if on > timezone.localdate():
            raise ValidationError({"on": ValidationError("日期不能晚于今天。", code="date_in_future")})
        if kind == ExitKind.RESIGNATION and on > leave_on:
            raise ValidationError(
                {"leave_on": ValidationError("离职日期不能早于提交辞职申请的日期。", code="leave_before_submission")}
            )
        procedure = ExitProcedure.objects.create(employment=employment, kind=kind, state=first)
        fields: dict[str, Any] = {
            "leave_on": leave_on,
            "leave_way": LeaveWay.RESIGNATION if kind == ExitKind.RESIGNATION else LeaveWay.DISMISSAL,
            _STEP_FIELDS[first]: on,
        }
        employment_update(employment=employment, user=user, reason=ExitStepName(first).label, **fields)
        _record_step(procedure, first, on, note, user)
        # A worker who leaves is no longer active (docs/clauses.md): their 两委 seats in the
        # community end the same day and fall vacant, starting the 补选 clock.
        seats = Seat.objects.filter(person_id=employment.person_id, community_id=employment.community_id,
                                    start_on__lte=leave_on).filter(Q(end_on__isnull=True) | Q(end_on__gt=leave_on))
        for seat in seats:
            seat_end(seat=seat, on=leave_on, reason=f"{kind.label}离职", user=user)
        return procedure


def exit_advance(*, procedure: ExitProcedure, step: str, on: date, note: str = "", user=None) -> ExitProcedure:
    """Moves the procedure one step along its declared flow; any other step is refused."""
    with transaction.atomic():
        procedure = ExitProcedure.objects.select_for_update().select_related("employment").get(pk=procedure.pk)
        expected = procedure.next_step
        if expected is None:
            raise ValidationError("离职程序已经完成。", code="exit_finished")
        if step != expected:
            raise ValidationError(
                f"下一步应为“{ExitStepName(expected).label}”，不能直接“{ExitStepName(step).label}”。",
                code="exit_step_order",
            )
        if on > timezone.localdate():
            raise ValidationError({"on": ValidationError("日期不能晚于今天。", code="date_in_future")})
        last = procedure.steps.order_by("-on").first()
        if last is not None and on < last.on:
            raise ValidationError(
                {"on": ValidationError(f"日期不能早于上一步（{last.on:%Y-%m-%d}）。", code="step_before_previous")}
            )
        if step == ExitStepName.HEAD_OPINION and not (note or "").strip():
            raise ValidationError({"note": ValidationError("请填写社区负责人的意见。", code="opinion_required")})
        if step in _STEP_FIELDS:
            employment_update(employment=procedure.employment, user=user, reason=ExitStepName(step).label,
                              **{_STEP_FIELDS[step]: on})
        _record_step(procedure, step, on, note, user)
        procedure.state = step
        set_history(procedure, user)
        procedure.save(update_fields=["state"])
        return procedure


# --- training, assessment, care ------------------------------------------------


def training_event_record(*, title: str, kind: str, held_on: date, persons: Iterable[Person], organiser: str = "",
                          user=None) -> tuple[TrainingEvent, int]:
    """One training for many people at once; returns the event and how many attendances were added."""
    with transaction.atomic():
        title = (title or "").strip()
        event = TrainingEvent.objects.filter(title=title, kind=kind, held_on=held_on).first()
        if event is None:
            event = TrainingEvent(title=title, kind=kind, held_on=held_on, organiser=organiser)
            event.full_clean()
            if held_on > timezone.localdate():
                raise ValidationError({"held_on": ValidationError("培训日期不能晚于今天。", code="date_in_future")})
            set_history(event, user)
            event.save()
            rejudge_on_commit(TrainingEvent, [event], created=True)
        ids = {p.pk for p in persons}
        if not ids:
            raise ValidationError({"persons": ValidationError("请至少选择一名参训人员。", code="required")})
        known = set(TrainingAttendance.objects.filter(event=event, person_id__in=ids).values_list("person_id", flat=True))
        new = [TrainingAttendance(event=event, person_id=pk) for pk in sorted(ids - known)]
        TrainingAttendance.objects.bulk_create(new)
        rejudge_on_commit(TrainingAttendance, new, created=True)
        return event, len(new)


def assessment_record(*, person: Person, year: int, result: str, assessed_on: date | None = None,
                      user=None) -> tuple[Assessment, bool]:
    """Upsert by (person, year): a year has one result."""
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().filter(person=person, year=year).first()
        created = assessment is None
        old = None if assessment is None else copy.copy(assessment)
        if assessment is None:
            assessment = Assessment(person=person, year=year)
        assessment.result = result
        if assessed_on is not None:
            assessment.assessed_on = assessed_on
        save_clean(assessment, user)
        if old is None:
            rejudge_on_commit(Assessment, [assessment], created=True)
        else:
            rejudge_on_commit(Assessment, [assessment, old], changed=changed_columns(old, assessment))
        return assessment, created


def assessments_record(*, year: int, results: dict[Person, str], user=None) -> int:
    """Bulk entry by year (the assessment page): all or nothing."""
    with transaction.atomic():
        count = 0
        for person, result in results.items():
            if result:
                assessment_record(person=person, year=year, result=result, user=user)
                count += 1
        return count


def assessments_create_bulk(*, assessments: list[Assessment], user=None, reason: str | None = None) -> None:
    """Write many new (person, year) results the caller has already validated, with their history: the demo's
    years of results. The database's unique (person, year) stands behind the caller's check."""
    with transaction.atomic():
        for assessment in assessments:
            assessment.person_id = assessment.person.pk
        bulk_insert(Assessment, assessments, user=user, reason=reason)
        rejudge_on_commit(Assessment, assessments, created=True)


def assessment_decision_record(*, assessment: Assessment, kind: str, decided_on: date, note: str = "",
                               user=None) -> AssessmentDecision:
    """考核结果运用 (措施十四): the 街办's decision on grade or contract after an assessment; kept, never edited."""
    with transaction.atomic():
        decision = AssessmentDecision(assessment=assessment, kind=kind, decided_on=decided_on,
                                      note=(note or "").strip()[:200])
        save_clean(decision, user)
        rejudge_on_commit(AssessmentDecision, [decision], created=True)
        return decision


def care_record_create(*, person: Person, kind: str, on: date, note: str = "", user=None) -> CareRecord:
    with transaction.atomic():
        record = CareRecord(person=person, kind=kind, on=on, note=note)
        save_clean(record, user)
        return record



# --- 人员调动 (transfers between 街办) -----------------------------------------------


def transfer_request(*, id_number: str, to_community: Community, note: str = "", user=None) -> PersonTransfer:
    """The receiving 街办 asks for a person by ID number. What it learns is only whether a request was needed:
    never the person's name, community or 街办."""
    with transaction.atomic():
        try:
            facts = idnumbers.parse(id_number)
        except ValidationError as error:
            raise ValidationError({"id_number": error}) from None
        person = Person.objects.select_for_update().with_id_number(facts.number).first()
        if person is None:
            raise ValidationError({"id_number": ValidationError(
                "该身份证号尚未登记，可直接在本街办登记，无需调动。", code="transfer_not_needed")})
        try:
            person_require_registrable(person=person, sub_district_code=to_community.sub_district_id)
        except ValidationError:
            pass
        else:
            raise ValidationError({"id_number": ValidationError(
                "该人员可直接在本街办登记，无需调动。", code="transfer_not_needed")})
        if PersonTransfer.objects.filter(person=person, to_sub_district__code=to_community.sub_district_id,
                                         status=TransferStatus.PENDING).exists():
            raise ValidationError({"id_number": ValidationError(
                "本街办已为该身份证号提交过调动申请，正在等待确认。", code="transfer_pending")})
        transfer = PersonTransfer(person=person, from_sub_district_id=person_street(person), to_community=to_community,
                                  to_sub_district_id=to_community.sub_district_id, note=(note or "").strip()[:200],
                                  requested_by=user if getattr(user, "is_authenticated", False) else None)
        set_history(transfer, user, "申请调动")
        transfer.save()
        return transfer


def transfer_may_decide(user, transfer: PersonTransfer) -> bool:
    """The releasing 街办's clerk, or a reviewer (区民政局), or an administrator."""
    from accounts.roles import is_reviewer
    from communities.selectors import sub_districts_for_user

    if is_reviewer(user):
        return True
    if transfer.from_sub_district_id is None:
        return False
    return sub_districts_for_user(user, "change_subdistrict").filter(code=transfer.from_sub_district_id).exists()


def transfer_decide(*, transfer: PersonTransfer, confirm: bool, note: str = "", user=None) -> PersonTransfer:
    """确认 or 不同意, along TRANSFER_TRANSITIONS."""
    from .models import TRANSFER_TRANSITIONS

    with transaction.atomic():
        transfer = PersonTransfer.objects.select_for_update().get(pk=transfer.pk)
        target = TransferStatus.CONFIRMED if confirm else TransferStatus.REFUSED
        if target not in TRANSFER_TRANSITIONS[transfer.status]:
            raise ValidationError(f"这个调动申请{TransferStatus(transfer.status).label}，不能再办理。", code="transfer_state")
        if user is not None and not transfer_may_decide(user, transfer):
            raise PermissionDenied("只有调出街办的办事员或区民政局审核员可以确认人员调动。")
        if not confirm and not (note or "").strip():
            raise ValidationError({"note": ValidationError("不同意调动时请填写理由。", code="reason_required")})
        transfer.status = target
        transfer.decided_by = user if getattr(user, "is_authenticated", False) else None
        transfer.decided_at = timezone.now()
        transfer.decision_note = (note or "").strip()[:200]
        set_history(transfer, user, TransferStatus(target).label)
        transfer.save()
        return transfer
