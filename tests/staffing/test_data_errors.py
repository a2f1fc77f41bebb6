"""Data errors are refused by code, with Chinese messages that never show a whole ID number."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from staffing import services
from staffing.idnumbers import make_valid, mask, parse
from staffing.models import Body, Employment, Person, Seat

from . import builders as b

pytestmark = pytest.mark.django_db


def codes(exc: ValidationError, field: str | None = None) -> set[str]:
    if field is None:
        return {e.code for errors in exc.error_dict.values() for e in errors} if hasattr(exc, "error_dict") else {
            e.code for e in exc.error_list}
    return {e.code for e in exc.error_dict.get(field, [])}


def test_standard_sample_is_valid_and_facts_are_derived():
    facts = parse("11010519491231002x")
    assert facts.number == "11010519491231002X"
    assert facts.birth_date == date(1949, 12, 31)
    assert facts.sex == "F"


def test_person_gets_birth_date_sex_and_opaque_id():
    number = make_valid("61010419900101123")
    p = services.person_create(id_number=number, name="张三")
    assert p.birth_date == date(1990, 1, 1)
    assert p.sex == "M"  # 17th digit 3 is odd
    assert p.public_id.startswith("P") and number not in p.public_id


def test_bad_check_digit_refused_without_echoing_the_number(streets):
    good = make_valid("61010419900101123")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        services.person_create(id_number=bad, name="张三")
    assert codes(exc.value, "id_number") == {"id_check_digit"}
    text = " ".join(exc.value.messages)
    assert bad not in text and mask(bad) in text
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    ("value", "code"),
    [("", "id_required"), ("6101041990010112", "id_format"), ("61010419901301123X", "id_birth_date")],
)
def test_malformed_id_numbers(value, code):
    with pytest.raises(ValidationError) as exc:
        services.person_create(id_number=value, name="张三")
    assert code in codes(exc.value, "id_number")


def test_same_id_number_twice_refused():
    number = b.id_number()
    services.person_create(id_number=number, name="甲")
    with pytest.raises(ValidationError) as exc:
        services.person_create(id_number=number, name="乙")
    assert codes(exc.value, "id_number") == {"id_taken"}


def test_two_communities_at_once_refused(streets):
    a = b.community(streets["qingnian"], "001")
    c = b.community(streets["qingnian"], "002")
    p = b.person()
    b.seat(a, Body.PARTY, "member", who=p, start_on=date(2021, 1, 1), end_on=date(2023, 1, 1))
    with pytest.raises(ValidationError) as exc:
        b.seat(c, Body.COMMITTEE, "member", who=p, start_on=date(2022, 6, 1))
    assert codes(exc.value, "community") == {"seat_two_communities"}
    # The day the first seat ends, the person is free to sit elsewhere.
    b.seat(c, Body.COMMITTEE, "member", who=p, start_on=date(2023, 1, 1))
    assert Seat.objects.filter(person=p).count() == 2


def test_open_seat_blocks_a_later_seat_elsewhere(streets):
    a = b.community(streets["qingnian"], "001")
    c = b.community(streets["zaoyuan"], "001")
    p = b.person()
    b.seat(a, Body.PARTY, "secretary", who=p, start_on=date(2021, 1, 1))
    with pytest.raises(ValidationError) as exc:
        b.seat(c, Body.PARTY, "member", who=p, start_on=date(2024, 1, 1))
    assert codes(exc.value) == {"seat_two_communities"}


def test_party_and_committee_in_the_same_community_is_cross_appointment_not_an_error(streets):
    a = b.community(streets["qingnian"])
    p = b.person()
    b.seat(a, Body.PARTY, "secretary", who=p)
    b.seat(a, Body.COMMITTEE, "director", who=p)
    assert p.seats.count() == 2


def test_seat_end_before_start(streets):
    a = b.community(streets["qingnian"])
    with pytest.raises(ValidationError) as exc:
        b.seat(a, Body.PARTY, start_on=date(2022, 1, 2), end_on=date(2022, 1, 1))
    assert codes(exc.value, "end_on") == {"end_before_start"}


def test_role_must_fit_body(streets):
    a = b.community(streets["qingnian"])
    with pytest.raises(ValidationError) as exc:
        b.seat(a, Body.PARTY, "director")
    assert codes(exc.value, "role") == {"role_body"}


@pytest.mark.parametrize("grade", [0, 19])
def test_grade_outside_1_18(streets, grade):
    a = b.community(streets["qingnian"])
    with pytest.raises(ValidationError) as exc:
        b.worker(a, grade=grade)
    assert codes(exc.value, "grade") == {"grade_range"}


@pytest.mark.parametrize("grade", [1, 18])
def test_grade_bounds_accepted(streets, grade):
    a = b.community(streets["qingnian"])
    assert b.worker(a, grade=grade).grade == grade


def test_leaving_before_entry(streets):
    a = b.community(streets["qingnian"])
    with pytest.raises(ValidationError) as exc:
        b.worker(a, entry_on=date(2022, 5, 1), leave_on=date(2022, 4, 30))
    assert codes(exc.value, "leave_on") == {"leave_before_entry"}


def test_two_employments_at_once_refused(streets):
    a = b.community(streets["qingnian"], "001")
    c = b.community(streets["qingnian"], "002")
    p = b.person()
    b.worker(a, who=p, entry_on=date(2020, 1, 1))
    with pytest.raises(ValidationError) as exc:
        b.worker(c, who=p, entry_on=date(2023, 1, 1))
    assert codes(exc.value, "entry_on") == {"employment_overlap"}


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"grade": 19}, "employment_grade_1_18"),
        ({"entry_on": date(2022, 5, 1), "leave_on": date(2022, 4, 30)}, "employment_leave_not_before_entry"),
    ],
)
def test_database_refuses_what_clean_refuses(streets, fields, constraint):
    a = b.community(streets["qingnian"])
    p = b.person()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Employment.objects.create(person=p, community=a, **fields)


def test_database_refuses_seat_end_before_start(streets):
    a = b.community(streets["qingnian"])
    with pytest.raises(IntegrityError, match="seat_end_not_before_start"), transaction.atomic():
        Seat.objects.create(person=b.person(), community=a, body="party", role="member",
                            start_on=date(2022, 1, 2), end_on=date(2022, 1, 1))
