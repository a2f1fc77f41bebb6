"""The 人员 sheet's bulk path: new people in batches, recorded people one at a time, the same outcome either way."""

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
