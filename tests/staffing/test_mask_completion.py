"""A masked ID number can never be completed from what the same response shows (issue 14).

The mask hides digits 7–14, which are the birth date. For every role, every page and export that lists
persons is read (workbooks cell by cell, dates included); for each masked number found, the hidden digits
must not be recoverable from the response: the person's birth date appears nowhere in it (in any of the
usual spellings, nor as a date cell), no 8-digit run in it fills the gap, and what it does show (the birth
year) leaves more than one date that passes the check digit.
"""

from __future__ import annotations

import calendar
import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from staffing import idnumbers
from staffing.models import Person

from . import builders as b

pytestmark = pytest.mark.django_db

MASKED = re.compile(r"([0-9]{6})\*{8}([0-9]{3}[0-9X])")


def response_text(response) -> tuple[str, set[date]]:
    """What a reader sees: the page, or every cell of a workbook; and every date shown as a date cell."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] != b"PK":
        return content.decode("utf-8", "replace"), set()
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    cells: list[str] = []
    dates: set[date] = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if value is None:
                    continue
                if hasattr(value, "year") and hasattr(value, "month"):
                    dates.add(date(value.year, value.month, value.day))
                cells.append(str(value))
    return "\t".join(cells), dates


def spellings(day: date) -> list[str]:
    return [f"{day:%Y-%m-%d}", f"{day:%Y%m%d}", f"{day:%Y/%m/%d}", f"{day.year}年{day.month}月{day.day}日",
            f"{day:%Y.%m.%d}", f"{day.year}-{day.month}-{day.day}"]


def candidates_in_year(prefix: str, suffix: str, year: int) -> int:
    """How many birth dates of the shown year complete the mask with a valid check character."""
    n = 0
    for month in range(1, 13):
        for day in range(1, calendar.monthrange(year, month)[1] + 1):
            first17 = f"{prefix}{year:04d}{month:02d}{day:02d}{suffix[:3]}"
            n += idnumbers.check_char(first17) == suffix[3]
    return n


def completable(text: str, dates: set[date], person: Person) -> list[str]:
    """Ways the response gives the hidden digits of this person's number back (empty: none)."""
    hidden = person.id_number[6:14]
    ways = [s for s in spellings(person.birth_date) if s in text]
    if person.birth_date in dates:
        ways.append("date cell")
    if re.search(rf"(?<![0-9]){hidden}(?![0-9])", text):
        ways.append("8-digit run")
    if person.id_number in text:
        ways.append("whole number beside its mask")
    if candidates_in_year(person.id_number[:6], person.id_number[14:], person.birth_date.year) < 2:
        ways.append("the birth year alone leaves one date")
    return ways


@pytest.fixture
def world(streets, clerk_qingnian, clerk_zaoyuan, reviewer, department_user, admin_user):
    from tests.compliance.pages import finding

    qn = b.community(streets["qingnian"], "001")
    zy = b.community(streets["zaoyuan"], "001")
    people = []
    for i, birth in enumerate(("19750314", "19820627", "19900101", "19681231")):
        person = b.person(f"测试人{i}", id_number=b.id_number(birth))
        b.worker(qn, who=person, entry_on=date(2019, 3, 1) + timedelta(days=40 * i))
        people.append(person)
    b.seat(qn, "committee", "director", who=people[0])
    people.append(b.worker(zy, who=b.person("枣园人", id_number=b.id_number("19790909"))).person)
    person_finding = finding(community=qn, rule_id="M12.worker_training", message=f"{people[1].name}未参加全员培训")
    users = {"clerk_own": clerk_qingnian, "clerk_other": clerk_zaoyuan, "reviewer": reviewer,
             "department": department_user, "admin": admin_user}
    return qn, zy, people, person_finding, users


def urls(qn, zy, people, person_finding) -> list[str]:
    found = [
        reverse("staffing:person_list"),
        reverse("staffing:person_list") + "?q=测试人",
        reverse("staffing:composition", args=[qn.pk]),
        reverse("staffing:composition", args=[zy.pk]),
        reverse("staffing:roster_export", args=[qn.pk]),
        reverse("staffing:roster_export", args=[zy.pk]),
        reverse("exports:ledger", args=["people"]),
        reverse("exports:ledger", args=["people"]) + "?format=csv",
        reverse("exports:ledger", args=["people"]) + f"?street={qn.sub_district_id}",
        reverse("staffing:transfer_list"),
        reverse("compliance:finding_list") + "?rule=M12.worker_training",
        reverse("compliance:finding_detail", args=[person_finding.pk]),
        reverse("exports:compliance"),
        "/admin/staffing/person/",
    ]
    found += [reverse("staffing:person_detail", args=[p.public_id]) for p in people]
    return found


def test_no_masked_number_can_be_completed_for_any_role(client, world):
    qn, zy, people, person_finding, users = world
    by_mask = {idnumbers.mask(p.id_number): p for p in people}
    read = {}
    problems = []
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        for url in urls(qn, zy, people, person_finding):
            response = client.get(url)
            if response.status_code != 200:
                continue
            text, dates = response_text(response)
            masks = {m.group(0) for m in MASKED.finditer(text)}
            read[(role, url)] = len(masks)
            for mask in masks:
                person = by_mask.get(mask)
                assert person is not None, f"{role} {url}: a masked number of nobody in the fixture: {mask}"
                ways = completable(text, dates, person)
                if ways:
                    problems.append(f"{role} {url}: {mask} completed by {ways}")
    assert not problems, "\n".join(problems)
    # The test reads what it claims: masks seen on the pages and in the exports, for clerks, reviewers, admins.
    for role in ("clerk_own", "reviewer", "admin"):
        assert read[(role, reverse("staffing:person_list"))] >= 4
        assert read[(role, reverse("exports:ledger", args=["people"]))] >= 4
        assert read[(role, reverse("staffing:roster_export", args=[qn.pk]))] >= 4
    assert read[("admin", "/admin/staffing/person/")] == 5
    assert not any(n for (role, _url), n in read.items() if role == "department")


def test_the_check_is_not_blind(world):
    """A response showing the birth date beside the mask is caught: the old people ledger's row."""
    _qn, _zy, people, _f, _users = world
    p = people[0]
    old_row = f"{p.public_id}\t{p.name}\t{idnumbers.mask(p.id_number)}\t男\t{p.birth_date:%Y-%m-%d}"
    assert completable(old_row, set(), p) == [f"{p.birth_date:%Y-%m-%d}"]
    assert completable("", {p.birth_date}, p) == ["date cell"]
    assert completable(f"{p.birth_date.year}年", set(), p) == []


def test_revealed_export_shows_whole_numbers_with_dates(client, world, admin_user):
    _qn, _zy, people, _f, _users = world
    client.force_login(admin_user)
    text, dates = response_text(client.get(reverse("exports:ledger", args=["people"]) + "?reveal=1"))
    assert people[0].id_number in text and people[0].birth_date in dates
    assert not MASKED.search(text)


def test_every_reveal_in_an_export_is_recorded(client, world, admin_user, reviewer):
    from audit.models import Kind, SecurityEvent

    qn, _zy, people, _f, _users = world
    client.force_login(reviewer)  # not an administrator: reveal=1 is ignored, masked, nothing recorded
    text, _dates = response_text(client.get(reverse("exports:ledger", args=["people"]) + "?reveal=1"))
    assert people[0].id_number not in text
    assert not SecurityEvent.objects.filter(kind=Kind.ID_REVEAL).exists()
    client.force_login(admin_user)
    client.get(reverse("exports:ledger", args=["people"]) + "?reveal=1&format=csv")
    text, _dates = response_text(client.get(reverse("staffing:roster_export", args=[qn.pk]) + "?reveal=1"))
    assert people[0].id_number in text
    where = sorted(SecurityEvent.objects.filter(kind=Kind.ID_REVEAL).values_list("detail__where", flat=True))
    assert where == ["people_ledger", "roster_export"]
    roster = SecurityEvent.objects.get(kind=Kind.ID_REVEAL, detail__where="roster_export")
    assert roster.detail["count"] == 4 and people[0].id_number not in str(roster.detail)
