"""compliance.engine.reconcile: what to open, update and resolve.

No test here is marked ``django_db``: pytest-django refuses any query, so these also prove that reconcile reads
nothing but, through ``whole``, the findings read in part that it cannot settle by digest."""

import datetime as dt

from django.utils import timezone

from compliance.engine import _COMPARED_COLUMNS, reconcile
from compliance.models import Finding, FindingEventKind, FindingStatus
from compliance.rules import Result, registry

AS_OF = dt.date(2025, 6, 30)
NOW = timezone.now()
RULE = registry.get("M04.households")


def days(name, first_seen):
    return 30


def result(pk, measured=500, severity=None):
    return Result(target_pk=pk, key=f"C{pk}", community_id=pk, passed=False, measured=measured, required=1000,
                  severity=severity, message=f"户数 {measured} 户，低于下限 1000 户", sub_district_id="610104001")


def run(results, existing=(), as_of=AS_OF, whole=None):
    return reconcile(RULE, results, {f.target_pk: f for f in existing}, as_of=as_of, now=NOW, sweep_id=None,
                     params=dict(RULE.params), days=days, **({"whole": whole} if whole else {}))


def in_part(f):
    """The finding as a sweep reads it: only the columns a comparison by digest needs."""
    part = Finding.__new__(Finding)
    part.__dict__.update({name: f.__dict__[name] for name in _COMPARED_COLUMNS}, _state=f._state)
    return part


class Reader:
    """``whole`` for the tests: the findings by pk, and which pks were asked for."""

    def __init__(self, *findings):
        self.findings = {f.pk: f for f in findings}
        self.asked: list[list[int]] = []

    def __call__(self, pks):
        self.asked.append(sorted(pks))
        return {pk: self.findings[pk] for pk in pks}


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


def test_a_finding_read_in_part_that_still_says_the_same_is_not_read_whole():
    (f,) = live(result(1))
    part, reader = in_part(f), Reader(f)
    plan = run([result(1)], [part], as_of=AS_OF + dt.timedelta(days=1), whole=reader)
    assert reader.asked == [] and plan.still_open == [part] and not plan.update and not plan.redigest


def test_findings_read_in_part_that_change_or_resolve_are_read_whole_in_one_go():
    a, b, c = live(result(1), result(2), result(3))
    reader = Reader(a, b, c)
    plan = run([result(1, measured=400), result(2)], [in_part(a), in_part(b), in_part(c)], whole=reader)
    assert reader.asked == [[1, 3]]  # 1 changed, 3 no longer fails; 2 is settled by its digest
    assert plan.update == [a] and a.measured == 400 and plan.resolve == [c]
    assert a.message == "户数 400 户，低于下限 1000 户"


def test_a_changed_finding_gets_the_digest_of_its_new_data():
    (f,) = live(result(1))
    before = f.data_digest
    run([result(1, measured=400)], [f])
    (fresh,) = live(result(1, measured=400))
    assert f.data_digest == fresh.data_digest != before


def test_a_finding_without_a_digest_is_compared_in_full_and_only_its_digest_written():
    (f,) = live(result(1))
    digest, f.data_digest = f.data_digest, ""  # a row written before digests
    later = AS_OF + dt.timedelta(days=1)
    plan = run([result(1)], [f], as_of=later)
    assert plan.redigest == [f] and f.data_digest == digest and plan.still_open == [f]
    assert not plan.update and not plan.events and f.last_seen == AS_OF
