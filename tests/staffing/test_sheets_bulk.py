"""The 人员 sheet's bulk path: new and recorded people in batches (rows naming a seat one at a time), the same outcome either way."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from imports.services import workbook_import
from staffing.models import Employment, Person, Seat

from . import builders as b
from .test_sheets import PERSON_HEADERS, TRAINING_HEADERS, issues, numbers, person_row, qn, xlsx  # noqa: F401

pytestmark = pytest.mark.django_db


def people_book(count: int, prefix: str = "人员", **overrides):
    return xlsx({"人员": [PERSON_HEADERS, *(person_row(b.id_number(), name=f"{prefix}{n}", **overrides)
                                          for n in range(count))]})


def test_new_people_take_the_same_queries_however_many(qn):  # noqa: F811
    # Up to a batch: SQLite caps a statement at 999 parameters (about 40 rows of history), PostgreSQL 2,000 rows.
    n = 600 if connection.vendor == "postgresql" else 30
    with CaptureQueriesContext(connection) as few:
        assert workbook_import(file=people_book(3, prefix="先导", party="委员")).ok
    with CaptureQueriesContext(connection) as many:
        result = workbook_import(file=people_book(n, party="委员"))
    assert result.ok and len(result.sheet("人员").created) == n
    assert len(many) == len(few)
    assert Person.objects.filter(community=qn).count() == n + 3
    assert Employment.objects.filter(community=qn).count() == Seat.objects.filter(community=qn).count() == n + 3
    person = Person.objects.get(name="人员0", employments__isnull=False, community=qn, seats__role="member")
    assert person.history.count() == 1 and person.birth_date is not None and person.sex in ("M", "F")


def test_new_and_recorded_people_in_one_file(qn, numbers):  # noqa: F811
    known = b.person(id_number=numbers[0], name="老王")
    result = workbook_import(file=xlsx({"人员": [
        PERSON_HEADERS,
        person_row(numbers[0], name="王五", committee="主任", entry="2021-01-01"),
        person_row(numbers[1], name="新人", worker="否", full_time=None, post=None, grade=None, channel=None),
    ]}))
    assert result.ok, issues(result)
    assert result.sheet("人员").updated and result.sheet("人员").created
    known.refresh_from_db()
    assert known.name == "王五" and known.community == qn
    newcomer = Person.objects.with_id_number(numbers[1]).get()
    # Not a worker and no seat: placed nowhere, as person_refresh_community would leave them.
    assert newcomer.community is None and not newcomer.employments.exists()


def test_a_refused_new_person_is_named_by_later_sheets_and_nothing_is_written(qn, numbers):  # noqa: F811
    result = workbook_import(file=xlsx({
        "人员": [PERSON_HEADERS, person_row(numbers[0]),
                 person_row(numbers[1], entry=date(2099, 1, 1))],
        "培训": [TRAINING_HEADERS, [numbers[1], "岗前培训", "全员培训", "2024-01-01"]],
    }))
    assert ("人员", 3, "入职日期", "date_in_future") in issues(result)
    assert ("培训", 2, "身份证号", "person_row_refused") in issues(result)
    assert not Person.objects.exists()


def test_what_the_checks_miss_the_database_refuses_and_the_row_is_named_masked(qn, numbers, monkeypatch):  # noqa: F811
    b.person(id_number=numbers[0])
    # Blind both views of recorded ID numbers: the taken number reaches the database's unique index.
    monkeypatch.setattr("staffing.models._id_number_taken", lambda number, pk, recorded: False)
    real_filter = Person.objects.filter
    monkeypatch.setattr("staffing.sheets.Person.objects.filter", lambda *args, **kwargs: (
        Person.objects.none() if "id_number_hash__in" in kwargs else real_filter(*args, **kwargs)))
    monkeypatch.setattr("staffing.sheets.Person.objects.with_id_number", lambda number: Person.objects.none())
    result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, person_row(numbers[1]), person_row(numbers[0])]}))
    assert ("人员", 3, "身份证号", "integrity") in issues(result)
    assert numbers[0] not in " ".join(i.message for i in result.issues)
    assert Person.objects.count() == 1


def _state(people):
    rows = []
    for person in Person.objects.filter(pk__in=[p.pk for p in people]).order_by("pk"):
        jobs = [(j.community_id, j.grade, j.post, j.entry_on, j.leave_on, j.leave_way, j.full_time, j.history.count())
                for j in Employment.objects.filter(person=person).order_by("pk")]
        rows.append((person.name, person.education, person.community_id, person.history.count(), jobs))
    return rows


def _recorded_people(home, elsewhere):
    """Five recorded people: workers of 青年路's community, one also with an older job elsewhere in 青年路."""
    people = [b.person(name=f"老{n}", education="本科") for n in range(5)]
    for person in people:
        b.worker(home, who=person, entry_on=date(2020, 3, 1), grade=8, post="other")
    b.worker(elsewhere, who=people[4], entry_on=date(2015, 1, 1), leave_on=date(2019, 1, 1))
    return people


@pytest.mark.parametrize("bulk", [True, False])
def test_recorded_people_update_in_bulk_as_one_at_a_time(qn, streets, bulk, monkeypatch):  # noqa: F811
    from staffing.sheets import PersonSheet

    other = b.community(streets["qingnian"], "002")
    people = _recorded_people(qn, other)
    ids = [p.id_number for p in people]
    if not bulk:
        monkeypatch.setattr(PersonSheet, "bulk_apply", lambda self, rows, ctx: None)
    with CaptureQueriesContext(connection) as queries:
        result = workbook_import(file=xlsx({"人员": [
            PERSON_HEADERS,
            person_row(ids[0], name="老0", grade=9),                          # job changed
            person_row(ids[1], name="新名字", education="硕士"),             # renamed
            person_row(ids[2], name="老2"),                                   # unchanged
            person_row(ids[3], name="老3", leave="2024-06-30", way="辞职"),   # left
            person_row(ids[4], name="老4", entry="2021-01-01", grade=10),    # entry moved
        ]}))
    assert result.ok, issues(result)
    sheet = result.sheet("人员")
    assert len(sheet.updated) == 4 and sheet.unchanged == [sheet.unchanged[0]] and not sheet.created
    state = _state(people)
    assert state[0][4][0][1] == 9 and state[1][:2] == ("新名字", "硕士") and state[3][4][0][5] == "resignation"
    assert state[4][2] == qn.pk
    if bulk:
        assert len(queries) < 40  # not a handful per row
    # The same outcome both ways (the parametrized twin compares against these literal expectations).
    assert [row[3] for row in state] == [1, 2, 1, 1, 1]
    assert [[job[7] for job in row[4]] for row in state] == [[2], [1], [1], [2], [2, 1]]


def test_a_recorded_person_naming_a_seat_still_goes_one_at_a_time(qn):  # noqa: F811
    person = b.person(name="老王")
    b.worker(qn, who=person, entry_on=date(2020, 3, 1))
    result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, person_row(person.id_number, name="老王",
                                                                            party="委员")]}))
    assert result.ok, issues(result)
    assert Seat.objects.filter(person=person, community=qn, role="member").exists()
