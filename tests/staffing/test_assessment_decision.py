"""措施十四: a 不称职 result is followed by a recorded decision on grade or contract within decision_days
(M14.incompetent_decision), counted from the 考核日期 (or 1 January after the assessed year)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from staffing import services

from . import builders as b
from .test_person_rules import run

pytestmark = pytest.mark.django_db

RULE = "M14.incompetent_decision"
ASSESSED = date(2025, 1, 20)


@pytest.fixture
def c(make_community):
    return make_community()


def assessed(c, result="incompetent", assessed_on=ASSESSED, **job):
    person = b.worker(c, entry_on=date(2020, 1, 1), **job).person
    assessment, _ = services.assessment_record(person=person, year=2024, result=result, assessed_on=assessed_on)
    return person, assessment


def test_day_60_warns_day_61_violates_and_not_before_the_assessment(c):
    p, _ = assessed(c)
    assert p.public_id not in run(RULE, date(2025, 1, 19))
    assert run(RULE, ASSESSED)[p.public_id].severity == "warning"  # day 0
    found = run(RULE, date(2025, 3, 21))  # day 60
    assert (found[p.public_id].severity, found[p.public_id].measured) == ("warning", 60)
    assert run(RULE, date(2025, 3, 22))[p.public_id].severity == "violation"  # day 61


def test_a_decision_ends_it_from_its_date(c):
    p, assessment = assessed(c)
    services.assessment_decision_record(assessment=assessment, kind="grade", decided_on=date(2025, 4, 1),
                                        note="降一级")
    assert run(RULE, date(2025, 3, 31))[p.public_id].severity == "violation"
    assert p.public_id not in run(RULE, date(2025, 4, 1))


def test_without_an_assessment_date_the_clock_starts_on_1_january(c):
    p, _ = assessed(c, assessed_on=None)
    assert p.public_id not in run(RULE, date(2024, 12, 31))
    assert run(RULE, date(2025, 3, 1))[p.public_id].measured == 59


def test_other_results_and_leavers_are_not_judged(c):
    basic, _ = assessed(c, result="basic")
    gone, _ = assessed(c, leave_on=date(2025, 2, 1), leave_way="dismissal", approved_on=date(2025, 1, 25))
    found = run(RULE, date(2025, 6, 30))
    assert basic.public_id not in found and gone.public_id not in found


def test_a_decision_before_the_assessment_or_in_the_future_is_refused(c):
    _, assessment = assessed(c)
    with pytest.raises(ValidationError) as error:
        services.assessment_decision_record(assessment=assessment, kind="renew", decided_on=date(2025, 1, 19))
    assert [e.code for e in error.value.error_dict["decided_on"]] == ["decided_before_assessment"]
    with pytest.raises(ValidationError):
        services.assessment_decision_record(assessment=assessment, kind="renew", decided_on=date(2999, 1, 1))
    assert not assessment.decisions.exists()


def test_the_clerk_records_a_decision_from_the_person_page(c, client, clerk_qingnian, clerk_zaoyuan):
    from django.urls import reverse

    from .test_views import login

    p, assessment = assessed(c)
    url = reverse("staffing:assessment_decision_create", args=[assessment.pk])
    data = {"kind": "terminate", "decided_on": "2025-02-10", "note": "不再续聘"}
    assert login(client, clerk_zaoyuan).post(url, data).status_code == 404
    assert not assessment.decisions.exists()
    response = login(client, clerk_qingnian).post(url, data)
    assert response.status_code == 302
    assert list(assessment.decisions.values_list("kind", "decided_on")) == [("terminate", date(2025, 2, 10))]
    page = client.get(reverse("staffing:person_detail", args=[p.public_id])).content.decode()
    assert "assessment-decision" in page and "解聘" in page
