"""Synthetic staffing data for ``make bench``: about 20 people per community.

Written with ``bulk_create`` in batches (no services, no signals): the
benchmark measures the sweep, not the loader. Every ID number is valid
(GB 11643) and unique; figures vary so that every rule finds something.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from .idnumbers import check_char
from .models import (
    Assessment,
    Body,
    Employment,
    Person,
    Seat,
    TrainingAttendance,
    TrainingEvent,
    new_public_id,
)

BATCH = 5000


def _id_number(serial: int) -> str:
    # Region 610104, a birth date from the serial, a 3-digit sequence; unique per serial.
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=serial % 15000)
    first17 = f"610104{birth:%Y%m%d}{serial // 15000 % 1000:03d}"
    return first17 + check_char(first17)


def populate(community_ids: Iterable[int], *, per_community: int = 20, as_of: dt.date | None = None,
             seed: int = 2024, start_serial: int = 0) -> int:
    """Adds ``per_community`` people to each community; returns how many people were created.

    ID numbers are unique up to 15,000 × 1,000 = 15 million people per start_serial range.
    """
    as_of = as_of or timezone.localdate()
    rng = random.Random(seed)
    year = as_of.year
    events = {
        "general_prev": TrainingEvent.objects.get_or_create(title=f"{year - 1}年全员培训", kind="general",
                                                            held_on=dt.date(year - 1, 6, 1))[0],
        "general_now": TrainingEvent.objects.get_or_create(title=f"{year}年全员培训", kind="general",
                                                           held_on=dt.date(year, 3, 1))[0],
        "special_now": TrainingEvent.objects.get_or_create(title=f"{year}年书记主任专项培训", kind="special",
                                                           held_on=dt.date(year, 3, 2))[0],
    }
    serial = start_serial
    created = 0
    ids = list(community_ids)
    for start in range(0, len(ids), max(1, BATCH // per_community)):
        chunk = ids[start:start + max(1, BATCH // per_community)]
        people: list[Person] = []
        plan: list[tuple[int, int]] = []  # (community id, index within community)
        for cid in chunk:
            for i in range(per_community):
                number = _id_number(serial)
                serial += 1
                birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
                people.append(Person(public_id=new_public_id(), id_number=number, name=f"人员{serial}",
                                     birth_date=birth, sex="M" if int(number[16]) % 2 else "F",
                                     education="" if rng.random() < 0.02 else "本科", community_id=cid))
                plan.append((cid, i))
        with transaction.atomic():
            Person.objects.bulk_create(people, batch_size=BATCH)
            people = list(Person.objects.filter(id_number__in=[p.id_number for p in people]).only("pk", "id_number"))
            by_number = {p.id_number: p.pk for p in people}
            seats, jobs, attendances, assessments = [], [], [], []
            for (cid, i), number in zip(plan, (_id_number(s) for s in range(serial - len(plan), serial)), strict=True):
                pk = by_number[number]
                entry = dt.date(2015 + rng.randrange(0, 10), 1 + rng.randrange(12), 1)
                if i < 5:
                    seats.append(Seat(person_id=pk, community_id=cid, body=Body.PARTY,
                                      role="secretary" if i == 0 else "member", start_on=entry))
                if 2 <= i < 9 or i == 0:
                    seats.append(Seat(person_id=pk, community_id=cid, body=Body.COMMITTEE,
                                      role="director" if i == 0 else "member", start_on=entry))
                left = rng.random() < 0.03
                leave = as_of - dt.timedelta(days=rng.randrange(1, 60)) if left else None
                jobs.append(Employment(
                    person_id=pk, community_id=cid, full_time=rng.random() < 0.8,
                    post="" if rng.random() < 0.01 else "other", grade=None if rng.random() < 0.01 else 10,
                    entry_on=min(entry, leave) if leave else entry, entry_channel="recruitment", leave_on=leave,
                    leave_way="resignation" if left else "",
                    resignation_submitted_on=(leave - dt.timedelta(days=rng.randrange(3, 15))) if left else None,
                ))
                if rng.random() < 0.95:
                    attendances.append(TrainingAttendance(event=events["general_prev"], person_id=pk))
                if rng.random() < 0.7:
                    attendances.append(TrainingAttendance(event=events["general_now"], person_id=pk))
                if i == 0 and rng.random() < 0.8:
                    attendances.append(TrainingAttendance(event=events["special_now"], person_id=pk))
                if rng.random() < 0.9:
                    assessments.append(Assessment(person_id=pk, year=year - 1, result="competent"))
            Seat.objects.bulk_create(seats, batch_size=BATCH)
            Employment.objects.bulk_create(jobs, batch_size=BATCH)
            TrainingAttendance.objects.bulk_create(attendances, batch_size=BATCH)
            Assessment.objects.bulk_create(assessments, batch_size=BATCH)
        created += len(plan)
    return created
