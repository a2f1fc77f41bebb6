"""措施十五: 备案 needs the 街办's approval (or decision) first (M15.approval_before_filing), and a short-notice
resignation stays a recorded breach after filing: its finding closes, nothing is deleted, the person's page
still says what happened."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from compliance.engine import evaluate_rules
from compliance.models import Finding
from compliance.rules import registry

from . import builders as b
from .test_person_rules import run
from .test_views import login

pytestmark = pytest.mark.django_db

FILED = date(2025, 6, 10)
RULE = "M15.approval_before_filing"


@pytest.fixture
def c(make_community):
    return make_community()


def leaver(c, *, approved_on=None, filed_on=FILED, leave_way="resignation"):
    return b.worker(c, entry_on=date(2020, 1, 1), leave_on=date(2025, 5, 31), leave_way=leave_way,
                    resignation_submitted_on=date(2025, 5, 1), approved_on=approved_on, filed_on=filed_on).person


@pytest.mark.parametrize(("approved_on", "fails"), [
    (date(2025, 6, 9), False),  # the day before filing
    (FILED, False),  # the same day: 批准 then 备案
    (date(2025, 6, 11), True),  # the day after filing
    (None, True),
])
def test_approval_on_or_before_the_filing_day(c, approved_on, fails):
    p = leaver(c, approved_on=approved_on)
    found = run(RULE, date(2025, 6, 30))
    assert (p.public_id in found) is fails
    if fails:
        assert found[p.public_id].severity == "violation"


def test_dismissal_needs_the_decision_and_not_yet_filed_is_not_judged(c):
    dismissed = leaver(c, leave_way="dismissal")
    unfiled = leaver(c, filed_on=None)
    found = run(RULE, date(2025, 6, 30))
    assert dismissed.public_id in found and unfiled.public_id not in found
    # Judged from the filing day, not before.
    assert dismissed.public_id not in run(RULE, date(2025, 6, 9))
    assert dismissed.public_id in run(RULE, FILED)


def test_short_notice_stays_a_recorded_breach_after_filing(c, client, reviewer):
    job = b.worker(c, entry_on=date(2020, 1, 1), leave_on=date(2025, 5, 31), leave_way="resignation",
                   resignation_submitted_on=date(2025, 5, 28), approved_on=date(2025, 5, 29))
    rule = registry.get("M15.resignation_notice")
    evaluate_rules(rules=[rule], as_of=date(2025, 6, 5))
    assert Finding.objects.get(rule_id=rule.id, target_key=job.person.public_id).status == "open"
    from staffing import services
    services.employment_update(employment=job, filed_on=date(2025, 6, 10))
    evaluate_rules(rules=[rule], as_of=date(2025, 6, 30))
    finding = Finding.objects.get(rule_id=rule.id, target_key=job.person.public_id)
    assert finding.status == "resolved"  # closed, the row and its events kept
    login(client, reviewer)
    page = client.get(reverse("staffing:person_detail", args=[job.person.public_id])).content.decode()
    assert "exit-breach" in page and "仅提前 3 天" in page and "2025-06-10 备案" in page


def test_an_exit_with_enough_notice_and_approval_shows_no_breach(c, client, reviewer):
    p = leaver(c, approved_on=date(2025, 5, 10))
    login(client, reviewer)
    page = client.get(reverse("staffing:person_detail", args=[p.public_id])).content.decode()
    assert "exit-breach" not in page
