"""M11.election_deadline exactly as docs/clauses.md reads it."""

import datetime as dt

import pytest

from approvals.rules import ElectionDeadline, add_months
from communities.models import Community

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.mark.parametrize(("start", "months", "expected"), [
    (D(2025, 1, 31), 3, D(2025, 4, 30)),
    (D(2023, 11, 30), 3, D(2024, 2, 29)),
    (D(2024, 11, 30), 3, D(2025, 2, 28)),
    (D(2024, 10, 15), 3, D(2025, 1, 15)),
    (D(2025, 4, 30), -2, D(2025, 2, 28)),
])
def test_calendar_months_clamp_at_month_end(start, months, expected):
    assert add_months(start, months) == expected


def judge(as_of, **fields):
    from communities.models import SubDistrict

    street = SubDistrict.objects.get_or_create(code="610104001", defaults={"name": "青年路街道"})[0]
    Community.objects.filter(code="610104001077").delete()
    c = Community.objects.create(code="610104001077", name="新社区", sub_district=street, households=1200,
                                 population=3600, **fields)
    rule = ElectionDeadline()
    results = [r for r in rule.evaluate(Community.objects.judged(), as_of, dict(rule.params))
               if r.target_pk == c.pk]
    return results[0] if results else None


APPROVED = D(2025, 1, 31)  # deadline 2025-04-30


@pytest.mark.parametrize(("as_of", "severity"), [
    (D(2025, 2, 1), None),
    (D(2025, 3, 30), None),        # deadline − 31
    (D(2025, 3, 31), "warning"),   # deadline − 30
    (D(2025, 4, 30), "warning"),   # the deadline itself
    (D(2025, 5, 1), "violation"),  # the day after
    (D(2026, 1, 1), "violation"),
    (D(2025, 1, 30), None),        # not yet approved on that date
])
def test_boundaries_around_clamped_deadline(as_of, severity):
    result = judge(as_of, approved_on=APPROVED)
    assert (result.severity if result else None) == severity
    if result:
        assert result.required == "2025-04-30"


def test_ninety_days_is_not_three_months():
    # 2024-11-30 + 90 days = 2025-02-28 too, so use a start where they differ: 2025-03-01 + 3 months = 06-01.
    result = judge(D(2025, 5, 31), approved_on=D(2025, 3, 1))  # 90 days would be 05-30: past; months: 06-01
    assert result.severity == "warning"


def test_nothing_once_the_election_is_recorded():
    assert judge(D(2025, 6, 1), approved_on=APPROVED, election_on=D(2025, 4, 20)) is None
    # Even late: the clause's clock stops when the election has happened.
    assert judge(D(2025, 8, 1), approved_on=APPROVED, election_on=D(2025, 7, 1)) is None


def test_election_after_as_of_has_not_happened():
    result = judge(D(2025, 5, 10), approved_on=APPROVED, election_on=D(2025, 5, 20))
    assert result.severity == "violation"


def test_revoked_or_unapproved_communities_are_not_judged():
    assert judge(D(2025, 6, 1)) is None
    assert judge(D(2025, 6, 1), approved_on=APPROVED, status="revoked", revoked_on=D(2025, 5, 1)) is None


def test_one_query_for_many_communities(django_assert_num_queries):
    from communities.models import SubDistrict

    street = SubDistrict.objects.create(code="610104001", name="青年路街道")
    Community.objects.bulk_create([
        Community(code=f"610104001{i:03d}", name=f"社区{i}", sub_district=street, households=1200, population=3600,
                  approved_on=D(2024, 1, 1) + dt.timedelta(days=i)) for i in range(1, 120)
    ])
    with django_assert_num_queries(1):
        results = list(ElectionDeadline().evaluate(Community.objects.judged(), D(2024, 6, 1), dict(ElectionDeadline.params)))
    assert len(results) > 50


def test_through_the_engine_sweep(clerk_qingnian):
    from compliance.engine import evaluate_rules
    from compliance.models import Finding
    from compliance.rules import registry

    judge(D(2025, 5, 1), approved_on=APPROVED)
    evaluate_rules(rules=registry.select(["M11.election_deadline"]), as_of=D(2025, 5, 1))
    f = Finding.objects.get(rule_id="M11.election_deadline", target_key="610104001077", status="open")
    assert f.severity == "violation"
    Community.objects.filter(code="610104001077").update(election_on=D(2025, 4, 28))
    evaluate_rules(rules=registry.select(["M11.election_deadline"]), as_of=D(2025, 5, 1))
    f.refresh_from_db()
    assert f.status == "resolved"
