"""compliance.engine.reconcile: what to open, update and resolve, decided without the database.

No test here is marked ``django_db``: pytest-django refuses any query, so these also prove the step is pure."""

import datetime as dt

from django.utils import timezone

from compliance.engine import reconcile
from compliance.models import FindingEventKind, FindingStatus
from compliance.rules import Result, registry

AS_OF = dt.date(2025, 6, 30)
NOW = timezone.now()
RULE = registry.get("M04.households")


def days(name, first_seen):
    return 30


def result(pk, measured=500, severity=None):
    return Result(target_pk=pk, key=f"C{pk}", community_id=pk, passed=False, measured=measured, required=1000,
                  severity=severity, message=f"户数 {measured} 户，低于下限 1000 户", sub_district_id="610104001")


def run(results, existing=(), as_of=AS_OF):
    return reconcile(RULE, results, {f.target_pk: f for f in existing}, as_of=as_of, now=NOW, sweep_id=None,
                     params=dict(RULE.params), days=days)


def live(*results):
    """Findings as a first reconciliation opens them, given pks as if written."""
    plan = run(list(results))
    for i, f in enumerate(plan.create, start=1):
        f.pk = i
    return plan.create


def test_a_new_failing_target_opens_a_finding():
    plan = run([result(1)])
    (f,) = plan.create
    assert plan.opened == [f] and not plan.update and not plan.resolve and not plan.events
    assert (f.rule_id, f.target_pk, f.status, f.first_seen, f.measured) == (RULE.id, 1, FindingStatus.OPEN, AS_OF, 500)
    assert f.due_date == AS_OF + dt.timedelta(days=30)
    assert (f.responsible_kind, f.sub_district_id) == ("street", "610104001")


def test_an_unchanged_finding_is_not_rewritten():
    (f,) = live(result(1))
    plan = run([result(1)], [f], as_of=AS_OF + dt.timedelta(days=1))
    assert plan.still_open == [f] and not plan.create and not plan.update and not plan.resolve


def test_a_changed_measure_updates_in_place_and_keeps_first_seen():
    (f,) = live(result(1))
    later = AS_OF + dt.timedelta(days=5)
    plan = run([result(1, measured=400)], [f], as_of=later)
    assert plan.update == [f] and plan.still_open == [f] and not plan.opened and not plan.events
    assert (f.measured, f.last_seen, f.first_seen) == (400, later, AS_OF)


def test_a_target_no_longer_failing_is_resolved():
    a, b = live(result(1), result(2))
    plan = run([result(2)], [a, b])
    assert plan.resolve == [a] and plan.still_open == [b]


def test_a_waiver_that_ended_reopens_and_one_in_force_stays_waived():
    (f,) = live(result(1))
    f.status, f.waived_until = FindingStatus.WAIVED, AS_OF + dt.timedelta(days=10)
    in_force = run([result(1)], [f], as_of=AS_OF + dt.timedelta(days=10))
    assert f.status == FindingStatus.WAIVED and not in_force.update and not in_force.opened
    ended = run([result(1)], [f], as_of=AS_OF + dt.timedelta(days=11))
    assert f.status == FindingStatus.OPEN and ended.opened == [f] and ended.update == [f]
    assert [e.kind for e in ended.events] == [FindingEventKind.REOPENED]


def test_a_new_severity_is_an_event():
    (f,) = live(result(1))
    plan = run([result(1, severity="violation")], [f])
    assert f.severity == "violation" and [e.kind for e in plan.events] == [FindingEventKind.SEVERITY]
