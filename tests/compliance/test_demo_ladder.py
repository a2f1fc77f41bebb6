"""Issue 12's done-when on the demo: after sweeps as of 03-01 and 06-15 of one year, notices are at no level,
warnings not yet due at no level, and the units at 约谈 are only those with findings overdue past the 约谈
threshold (before, every open finding and every 街办 sat at 约谈).

The demo loads once per module inside an outer transaction rolled back at the end (as test_demo_all_apps)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from compliance import escalation, services
from compliance.models import Finding, FindingEvent, FindingStatus, Sweep

YEAR = 2026
MARCH, JUNE = date(YEAR, 3, 1), date(YEAR, 6, 15)


def _live_sweep_on(day):
    real = timezone.localdate
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.utils.timezone.localdate",
                   lambda value=None, timezone=None: day if value is None else real(value, timezone))
        return services.sweep_run(triggered_by="测试：演示数据")


@pytest.fixture(scope="module")
def swept_demo(whole_demo_rows, django_db_setup, django_db_blocker):
    from ..demo_world import restore

    with django_db_blocker.unblock(), transaction.atomic():
        restore(whole_demo_rows)
        # Whatever the loading's own re-judging wrote is as of the real today: start the record on 03-01.
        FindingEvent.objects.all().delete()
        Finding.objects.all().delete()
        Sweep.objects.all().delete()
        march = _live_sweep_on(MARCH)
        june = _live_sweep_on(JUNE)
        # The same two dates replayed later (compliance_sweep --as-of): snapshots, today untouched.
        live = list(Finding.objects.order_by("pk").values_list())
        replays = [services.sweep_run(as_of=MARCH), services.sweep_run(as_of=JUNE)]
        assert list(Finding.objects.order_by("pk").values_list()) == live
        yield march, june, replays
        transaction.set_rollback(True)


@pytest.fixture
def demo(swept_demo, db):
    return swept_demo


def test_the_ladder_tells_units_apart(demo):
    march, june, _replays = demo
    assert march.live and june.live
    thresholds = escalation.params(JUNE)
    open_findings = Finding.objects.filter(status=FindingStatus.OPEN)
    levels = dict(escalation.with_level(open_findings, thresholds).values_list("pk", "escalation"))
    assert levels, "the demo finds something"
    notices = set(open_findings.filter(severity="notice").values_list("pk", flat=True))
    assert notices and all(levels[pk] == "" for pk in notices)
    not_due = set(open_findings.filter(due_date__gt=JUNE).values_list("pk", flat=True))
    assert all(levels[pk] == "" for pk in not_due)
    # M12 training warnings are due 12-01: not yet on the ladder in June.
    training = open_findings.filter(rule_id="M12.worker_training", severity="warning")
    assert training.exists() and all(levels[pk] == "" for pk in training.values_list("pk", flat=True))

    ladder = escalation.ladder(Finding.objects.all(), thresholds)
    at_interview = {u["unit"] for u in ladder if u["levels"][2][1]}
    limit = JUNE - timedelta(days=thresholds["interview_overdue_days"])
    expected = {f.responsible_name for f in open_findings.filter(due_date__lte=limit).select_related("sub_district")}
    assert at_interview == expected
    counts = {level: sum(1 for v in levels.values() if v == level) for level in ("", "remind", "supervise",
                                                                                   "interview")}
    # Not everything at 约谈 any more: most findings are not yet due or only overdue a little.
    assert counts["interview"] < len(levels) / 2, counts
    print("demo ladder 06-15:", counts, "units at 约谈:", sorted(at_interview))


def test_the_replay_of_june_reads_its_own_ladder(demo):
    from compliance.models import SweepFinding

    _march, _june, (r_march, r_june) = demo
    assert not r_march.live and not r_june.live
    thresholds = escalation.params(JUNE)
    snapshot = SweepFinding.objects.filter(sweep=r_june)
    levels = dict(escalation.with_level(snapshot, thresholds, as_of=JUNE).values_list("pk", "escalation"))
    assert levels and all(levels[pk] == "" for pk in snapshot.filter(severity="notice").values_list("pk", flat=True))
    assert all(levels[pk] == "" for pk in snapshot.filter(due_date__gt=JUNE).values_list("pk", flat=True))
    ladder = escalation.ladder(snapshot, thresholds, as_of=JUNE)
    limit = JUNE - timedelta(days=thresholds["interview_overdue_days"])
    expected = {f.responsible_name for f in snapshot.filter(due_date__lte=limit).select_related("sub_district")}
    assert {u["unit"] for u in ladder if u["levels"][2][1]} == expected
    # First found carried from March's replay: a problem seen then keeps its deadline.
    assert snapshot.filter(first_seen=MARCH).exists()
