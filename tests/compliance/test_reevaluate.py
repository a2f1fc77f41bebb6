"""reevaluate: an import's many targets are judged in slices with the same findings as all at once."""

import datetime as dt

import pytest
from django.utils import timezone

from communities.models import Community
from compliance import rejudge, services, sweeps
from compliance.models import Finding, FindingStatus

pytestmark = pytest.mark.django_db


def live(rule_id):
    return sorted(Finding.objects.filter(rule_id=rule_id, status=FindingStatus.OPEN)
                  .values_list("target_pk", "measured", "severity"))


def test_slices_open_update_and_resolve_like_one_evaluation(make_community, monkeypatch):
    small = [make_community(households=h) for h in (500, 800, 999, 1000, 4000, 6000, 700)]
    pks = [c.pk for c in small]
    monkeypatch.setattr(rejudge, "REEVALUATE_SLICE", 2)
    services.reevaluate({"M04.households": pks})
    # Below 1000 or above 5000 fail: 500, 800, 999, 6000, 700.
    assert [m for _pk, m, _s in live("M04.households")] == [500, 800, 999, 6000, 700]

    # An import changes every figure: measured values are rewritten, the fixed ones resolved.
    Community.objects.filter(pk__in=pks[:3]).update(households=1200)
    Community.objects.filter(pk=pks[5]).update(households=7000)
    services.reevaluate({"M04.households": pks})
    sliced = live("M04.households")
    assert [m for _pk, m, _s in sliced] == [7000, 700]

    monkeypatch.setattr(rejudge, "REEVALUATE_SLICE", 5_000)
    services.reevaluate({"M04.households": pks})
    assert live("M04.households") == sliced
    assert Finding.objects.filter(rule_id="M04.households", status=FindingStatus.RESOLVED).count() == 3


def test_past_the_threshold_a_sweep_of_the_rules_judges_instead(make_community, monkeypatch,
                                                                django_capture_on_commit_callbacks):
    from compliance.models import Sweep, SweepStatus

    communities = [make_community(households=h) for h in (500, 3000, 6000)]
    monkeypatch.setattr(rejudge, "SWEEP_INSTEAD_ABOVE", 2)
    with django_capture_on_commit_callbacks() as callbacks:
        services.reevaluate({"M04.households": [c.pk for c in communities]})
    # Like a save's re-judge, it mails no digest.
    assert not any(getattr(c, "func", None) is sweeps.queue_digest for c in callbacks)
    sweep = Sweep.objects.get()
    assert (sweep.status, sweep.triggered_by, sweep.rule_ids) == (
        SweepStatus.FINISHED, services.REJUDGE_SWEEP_TRIGGER, ["M04.households"])
    assert [m for _pk, m, _s in live("M04.households")] == [500, 6000]


def test_with_a_sweep_running_the_targets_are_judged_by_lists(make_community, monkeypatch):
    from compliance.models import Sweep, SweepStatus

    communities = [make_community(households=h) for h in (500, 3000, 6000)]
    monkeypatch.setattr(rejudge, "SWEEP_INSTEAD_ABOVE", 2)
    Sweep.objects.create(as_of="2026-01-01", rule_ids=["M04.households"], triggered_by="别人")
    services.reevaluate({"M04.households": [c.pk for c in communities]})
    assert Sweep.objects.filter(status=SweepStatus.RUNNING).count() == 1
    assert [m for _pk, m, _s in live("M04.households")] == [500, 6000]


def test_with_a_broker_the_sweep_of_the_rules_concerned_is_queued(make_community, monkeypatch, settings):
    from compliance import tasks

    queued = []
    monkeypatch.setattr(tasks.nightly_sweep, "apply_async",
                        lambda args=(), kwargs=None, **options: queued.append(tuple(args)))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    communities = [make_community(households=h) for h in (500, 3000, 6000)]
    monkeypatch.setattr(rejudge, "SWEEP_INSTEAD_ABOVE", 2)
    today = timezone.localdate()
    services.reevaluate({"M04.households": [c.pk for c in communities]}, as_of=today)
    assert queued == [(today.isoformat(), None, services.REJUDGE_SWEEP_TRIGGER, ["M04.households"])]


def test_a_past_day_is_judged_by_lists_not_by_a_replay(make_community, monkeypatch):
    from compliance.models import Sweep

    communities = [make_community(households=h) for h in (500, 3000, 6000)]
    monkeypatch.setattr(rejudge, "SWEEP_INSTEAD_ABOVE", 2)
    services.reevaluate({"M04.households": [c.pk for c in communities]}, as_of=dt.date(2026, 6, 30))
    assert not Sweep.objects.exists()
    assert [m for _pk, m, _s in live("M04.households")] == [500, 6000]


def test_with_the_broker_down_the_targets_are_judged_by_lists(make_community, monkeypatch, settings):
    from kombu.exceptions import OperationalError

    from compliance import tasks
    from compliance.models import Sweep

    def refused(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(tasks.nightly_sweep, "apply_async", refused)
    monkeypatch.setitem(tasks.nightly_sweep.app.conf, "task_always_eager", False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    communities = [make_community(households=h) for h in (500, 3000, 6000)]
    monkeypatch.setattr(rejudge, "SWEEP_INSTEAD_ABOVE", 2)
    services.reevaluate({"M04.households": [c.pk for c in communities]}, as_of=timezone.localdate())
    assert not Sweep.objects.exists()
    assert [m for _pk, m, _s in live("M04.households")] == [500, 6000]
