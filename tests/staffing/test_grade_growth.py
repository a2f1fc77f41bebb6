"""措施十三: 三岗十八级's 自然增长 (M13.grade_growth): assessed 称职 or better in each of the last grade_years years
and the grade, read from the employment's history as of each date, has not risen."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest
from django.utils import timezone

from staffing import services
from staffing.models import Employment

from . import builders as b
from .test_person_rules import run

pytestmark = pytest.mark.django_db

RULE = "M13.grade_growth"
AS_OF = date(2025, 6, 30)  # period 2022–2024, from 2022-01-01


def at(day: date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


def worker(c, *, grade=8, entry_on=date(2021, 12, 31), results=("competent", "excellent", "competent"),
           recorded=date(2021, 12, 31)):
    job = b.worker(c, entry_on=entry_on, grade=grade)
    Employment.history.filter(id=job.pk).update(history_date=at(recorded))
    for year, result in zip((2022, 2023, 2024), results, strict=False):
        if result:
            services.assessment_record(person=job.person, year=year, result=result, assessed_on=date(year + 1, 1, 15))
    return job


def raise_grade(job, on: date, grade: int):
    services.employment_update(employment=job, grade=grade)
    latest = Employment.history.filter(id=job.pk).order_by("-history_date", "-history_id").first()
    Employment.history.filter(history_id=latest.history_id).update(history_date=at(on))


@pytest.fixture
def c(make_community):
    return make_community()


def test_three_good_years_and_no_rise_warns(c):
    job = worker(c)
    found = run(RULE, AS_OF)[job.person.public_id]
    assert (found.severity, found.measured) == ("warning", 8)


def test_a_rise_in_the_period_passes_but_not_before_it_happened(c):
    job = worker(c)
    raise_grade(job, date(2025, 3, 1), 9)
    assert job.person.public_id not in run(RULE, AS_OF)
    assert job.person.public_id in run(RULE, date(2025, 2, 28))  # the day before, still grade 8


def test_a_rise_before_the_period_does_not_count(c):
    job = worker(c, grade=7, recorded=date(2021, 6, 1))
    raise_grade(job, date(2021, 12, 31), 8)  # at the start of the period it was 8 already
    assert run(RULE, AS_OF)[job.person.public_id].measured == 8


@pytest.mark.parametrize("results", [("competent", "basic", "competent"), ("competent", None, "excellent"),
                                     ("competent", "competent", "incompetent")])
def test_not_every_year_good_is_not_judged(c, results):
    job = worker(c, results=results)
    assert job.person.public_id not in run(RULE, AS_OF)


def test_hired_after_the_period_start_or_at_grade_18_is_not_judged(c):
    late = worker(c, entry_on=date(2022, 1, 2))
    on_time = worker(c, entry_on=date(2022, 1, 1))
    top = worker(c, grade=18)
    found = run(RULE, AS_OF)
    assert late.person.public_id not in found and top.person.public_id not in found
    assert on_time.person.public_id in found


def test_the_period_is_a_dated_parameter(c):
    job = worker(c, results=(None, "competent", "competent"))
    assert job.person.public_id not in run(RULE, AS_OF)
    from compliance.models import RuleParameter

    RuleParameter.objects.create(rule_id=RULE, name="grade_years", value=2, effective_from=date(2025, 6, 1),
                                 reason="测试")
    from compliance.parameters import params_for
    from compliance.rules import registry

    rule = registry.get(RULE)
    found = {r.key for r in rule.evaluate(rule.target_queryset(AS_OF), AS_OF, params_for(rule, AS_OF))}
    assert job.person.public_id in found
    before = date(2025, 5, 31)
    assert job.person.public_id not in {r.key for r in rule.evaluate(rule.target_queryset(before), before,
                                                                        params_for(rule, before))}
