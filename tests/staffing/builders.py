"""Builders for staffing tests; records go through the services like real ones."""

from __future__ import annotations

import itertools
from datetime import date

from communities import services as community_services
from communities.models import Community, SubDistrict
from staffing import services
from staffing.idnumbers import make_valid
from staffing.models import Body, Employment, Person, Seat

_serial = itertools.count(1)


def id_number(birth: str = "19800101") -> str:
    """A fresh valid ID number (西安市莲湖区 region code) born on ``birth``."""
    return make_valid(f"610104{birth}{next(_serial) % 1000:03d}")


def community(street: SubDistrict, suffix: str = "001", **fields) -> Community:
    values = {"name": f"{street.name}{suffix}社区", "households": 1180, "population": 3892, **fields}
    return community_services.community_create(code=f"{street.code}{suffix}", sub_district=street, **values)


def person(name: str | None = None, **fields) -> Person:
    n = next(_serial)
    return services.person_create(id_number=fields.pop("id_number", None) or id_number(),
                                  name=name or f"人员{n}", **{"education": "本科", **fields})


def seat(c: Community, body: str, role: str = "member", *, who: Person | None = None,
         start_on: date = date(2020, 1, 1), end_on: date | None = None) -> Seat:
    return services.seat_create(person=who or person(), community=c, body=body, role=role, start_on=start_on,
                                end_on=end_on)


def party(c: Community, n: int, **kw) -> list[Seat]:
    return [seat(c, Body.PARTY, "secretary" if i == 0 else "member", **kw) for i in range(n)]


def committee(c: Community, n: int, **kw) -> list[Seat]:
    return [seat(c, Body.COMMITTEE, "director" if i == 0 else "member", **kw) for i in range(n)]


def worker(c: Community, *, who: Person | None = None, entry_on: date = date(2020, 1, 1), **fields) -> Employment:
    values = {"full_time": True, "post": "other", "grade": 10, "entry_channel": "recruitment", **fields}
    return services.employment_create(person=who or person(), community=c, entry_on=entry_on, **values)


def bulk_people(n: int, c: Community | None = None) -> list[Person]:
    """Many people at once, for sizes and shares that need dozens of rows (rules read the database only)."""
    from staffing.idnumbers import parse

    people = []
    for _ in range(n):
        facts = parse(id_number())
        people.append(Person(id_number=facts.number, birth_date=facts.birth_date, sex=facts.sex,
                             name=f"人员{next(_serial)}", education="本科", community=c))
    return Person.objects.bulk_create(people)


def bulk_seats(c: Community, people: list[Person], body: str, start_on: date = date(2020, 1, 1)) -> None:
    Seat.objects.bulk_create([Seat(person=p, community=c, body=body, role="member", start_on=start_on) for p in people])


def bulk_workers(c: Community, people: list[Person], *, full_time: bool = True,
                 entry_on: date = date(2020, 1, 1)) -> None:
    Employment.objects.bulk_create([
        Employment(person=p, community=c, full_time=full_time, post="other", grade=10, entry_on=entry_on,
                   entry_channel="recruitment")
        for p in people
    ])
