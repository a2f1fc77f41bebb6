"""措施十一: a departure that leaves a 两委 body below 措施十's minimum opens a vacancy by itself, whatever the path
(the 离任 form, a worker's exit, the 人员 import), and M11.vacancy's clock starts on the leaving day."""

from __future__ import annotations

from datetime import date

import pytest

from compliance.models import RuleParameter
from imports.services import workbook_import
from staffing import services
from staffing.models import Body, Person, Vacancy

from . import builders as b
from .test_community_rules import run
from .test_sheets import PERSON_HEADERS, person_row, xlsx

pytestmark = pytest.mark.django_db

LEFT = date(2025, 3, 1)


def test_committee_at_five_falls_to_four_opens_a_vacancy_and_the_clock_starts(make_community):
    c = make_community()
    seats = b.committee(c, 5)
    services.seat_end(seat=seats[3], on=LEFT, reason="辞职")
    vacancy = Vacancy.objects.get(community=c)
    assert (vacancy.body, vacancy.role, vacancy.vacated_on, vacancy.previous_seat) == ("committee", "member", LEFT,
                                                                                       seats[3])
    assert run("M11.vacancy", as_of=date(2025, 5, 30))[c.code].severity == "warning"  # day 90
    assert run("M11.vacancy", as_of=date(2025, 5, 31))[c.code].severity == "violation"  # day 91
    assert c.code not in run("M11.vacancy", as_of=date(2025, 2, 28))  # the day before: not yet vacant


def test_committee_at_six_falls_to_five_opens_none(make_community):
    c = make_community()
    seats = b.committee(c, 6)
    assert services.seat_end(seat=seats[5], on=LEFT) is None
    assert not Vacancy.objects.exists()
    # The next departure takes it to four: that one opens.
    services.seat_end(seat=seats[4], on=date(2025, 4, 1))
    assert list(Vacancy.objects.values_list("previous_seat", flat=True)) == [seats[4].pk]


def test_an_open_vacancy_counts_toward_the_size(make_community):
    c = make_community()
    seats = b.party(c, 3)
    services.seat_end(seat=seats[2], on=LEFT)  # 2 members + 0 open < 3 → opens
    services.seat_end(seat=seats[1], on=LEFT)  # 1 member + 1 open < 3 → opens
    assert Vacancy.objects.filter(community=c, body=Body.PARTY).count() == 2
    # Ticking the box records one whatever the size, and the automatic one is not added twice.
    other = make_community()
    big = b.party(other, 5)
    vacancy = services.seat_end(seat=big[4], on=LEFT, open_vacancy=True)
    assert vacancy is not None and Vacancy.objects.filter(community=other).count() == 1


def test_the_minimum_is_the_dated_parameter_in_force_on_the_leaving_day(make_community):
    RuleParameter.objects.create(rule_id="M10.committee_size", name="min_committee", value=7,
                                 effective_from=date(2025, 3, 2), reason="测试")
    c = make_community()
    seats = b.committee(c, 7)
    services.seat_end(seat=seats[6], on=LEFT)  # 6 ≥ 5 on 03-01: none
    assert not Vacancy.objects.exists()
    services.seat_end(seat=seats[5], on=date(2025, 3, 2))  # 5 < 7 from 03-02: opens
    assert Vacancy.objects.get().vacated_on == date(2025, 3, 2)


def test_a_workers_exit_opens_one_only_below_the_minimum(make_community):
    c = make_community()
    seats = b.committee(c, 5)
    spare = b.committee(make_community(), 6)
    services.exit_start(employment=b.worker(c, who=seats[2].person), kind="resignation", on=date(2025, 2, 1),
                        leave_on=LEFT)
    services.exit_start(employment=b.worker(spare[0].community, who=spare[2].person), kind="resignation",
                        on=date(2025, 2, 1), leave_on=LEFT)
    assert list(Vacancy.objects.values_list("community", flat=True)) == [c.pk]


def test_the_person_import_opens_one_for_a_row_that_leaves(streets):
    qn = b.community(streets["qingnian"], "001")
    kept = b.committee(qn, 5)
    leaver = kept[4].person
    result = workbook_import(file=xlsx({"人员": [
        PERSON_HEADERS,
        person_row(leaver.id_number, leaver.name, committee="委员", entry="2020-01-01", leave="2025-03-01",
                   submitted="2025-02-01", way="辞职"),
    ]}))
    assert result.ok, [(i.column, i.code) for i in result.issues]
    assert Vacancy.objects.get(community=qn).vacated_on == LEFT


def test_the_bulk_import_of_new_people_opens_one(streets):
    qn = b.community(streets["qingnian"], "001")
    rows = [person_row(b.id_number(), f"委员{i}", committee="委员", entry="2020-01-01") for i in range(4)]
    rows.append(person_row(b.id_number(), "离任者", committee="委员", entry="2020-01-01", leave="2025-03-01",
                           submitted="2025-02-01", way="辞职"))
    result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, *rows]}))
    assert result.ok, [(i.column, i.code) for i in result.issues]
    assert Person.objects.count() == 5
    assert Vacancy.objects.get(community=qn).vacated_on == LEFT
