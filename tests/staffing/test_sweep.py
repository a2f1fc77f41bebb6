"""Staffing rules in a real sweep: chunked by community, keyed by the opaque id, resolved when fixed."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from compliance.models import Finding
from compliance.services import sweep_run
from staffing import services
from staffing.models import Body

from . import builders as b

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _live_on_as_of(today):
    """These sweeps are today's (live) sweeps: "today" is the as-of date."""
    today(date(2025, 6, 30))

STAFFING_RULES = ["M10.committee_size", "M11.worker_ratio", "M13.post_grade", "M14.annual_assessment"]


def test_chunked_sweep_finds_and_resolves(make_community):
    communities = [make_community(households=1500, population=4500) for _ in range(3)]
    jobs = [b.worker(c, entry_on=date(2020, 1, 1), grade=None) for c in communities]
    sweep_run(as_of=date(2025, 6, 30), chunks=8, rule_ids=STAFFING_RULES)
    open_ = Finding.objects.filter(status="open")
    grade = {f.target_key: f for f in open_.filter(rule_id="M13.post_grade")}
    assert set(grade) == {j.person.public_id for j in jobs}
    assert {f.community_id for f in grade.values()} == {c.pk for c in communities}
    assert open_.filter(rule_id="M10.committee_size").count() == 3

    services.employment_update(employment=jobs[0], grade=5)
    sweep_run(as_of=date(2025, 6, 30), chunks=8, rule_ids=STAFFING_RULES)
    still = set(Finding.objects.filter(status="open", rule_id="M13.post_grade").values_list("target_key", flat=True))
    assert still == {j.person.public_id for j in jobs[1:]}


def test_json_output_never_shows_id_numbers(make_community):
    c = make_community()
    job = b.worker(c, entry_on=date(2020, 1, 1), grade=None)
    b.seat(c, Body.PARTY, "secretary", who=job.person)
    out = StringIO()
    call_command("compliance_sweep", "--as-of", "2025-06-30", "--json", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    person_lines = [x for x in lines if x["target"] == "person"]
    assert {"M13.post_grade", "M12.leader_training"} <= {x["rule"] for x in person_lines}
    assert all(x["key"] == job.person.public_id and x["community"] == c.code for x in person_lines)
    assert job.person.id_number not in out.getvalue()
