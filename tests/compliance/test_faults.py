"""Faults: a sweep whose worker dies half-way, and Redis gone when a clerk saves.

Celery runs a sweep as chunk tasks with ``acks_late`` and
``reject_on_worker_lost``: when a worker is killed, its unacknowledged chunk
goes back to the queue and runs again, and chunks that finished may run twice
if their acknowledgement was lost. These tests do the same at the service
level and compare with an undisturbed sweep over the same data.
"""

from __future__ import annotations

import socket
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from compliance import services
from compliance.models import Finding, FindingEvent, FindingStatus, Sweep, SweepStatus
from compliance.rules import registry

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _live_on_as_of(today):
    """These sweeps are today's (live) sweeps: "today" is the as-of date."""
    today(AS_OF)


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: not an Exception, so no rule-level handler swallows it."""


def _world(make_community, make_compound):
    for i, households in enumerate((10, 999, 1000, 3000, 5001, 90000, 400, 2500)):
        c = make_community(households=households, street="qingnian" if i % 2 else "zaoyuan")
        make_compound(community=c, built_on=date(2011, 2, 1), must_provide_facility=True)
    make_compound(street=c.sub_district, built_on=date(2011, 2, 1), must_provide_facility=True)


def _findings():
    rows = Finding.objects.filter(status=FindingStatus.OPEN).values_list(
        "rule_id", "target_type", "target_key", "severity", "measured", "required", "message")
    found = sorted(map(repr, rows))
    assert len(found) == len(set(found)), "a finding was written twice"
    return found


def _forget_findings():
    FindingEvent.objects.all().delete()
    Finding.objects.all().delete()
    Sweep.objects.all().delete()


def _undisturbed():
    _forget_findings()
    sweep = services.sweep_run(as_of=AS_OF, chunks=4)
    assert sweep.status == SweepStatus.FINISHED and sweep.errors == []
    return _findings()


def test_sweep_killed_half_way_completes_on_retry_with_the_same_findings(make_community, make_compound,
                                                                         monkeypatch):
    _world(make_community, make_compound)
    sweep = services.sweep_start(as_of=AS_OF)
    chunks = services.sweep_plan(sweep=sweep, chunks=4)
    assert len(chunks) >= 4
    half = len(chunks) // 2
    for bounds in chunks[:half]:
        services.sweep_chunk_run(sweep_id=sweep.pk, rule_ids=sweep.rule_ids, bounds=bounds, as_of=AS_OF)

    # The worker dies inside the next chunk, after some rules have written their findings.
    victim = registry.get(sweep.rule_ids[len(sweep.rule_ids) // 2])
    original = victim.evaluate

    def killed(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(victim, "evaluate", killed)
    with pytest.raises(WorkerKilled):
        services.sweep_chunk_run(sweep_id=sweep.pk, rule_ids=sweep.rule_ids, bounds=chunks[half], as_of=AS_OF)
    monkeypatch.setattr(victim, "evaluate", original)
    assert Sweep.objects.get(pk=sweep.pk).status == SweepStatus.RUNNING

    # Redelivery: the killed chunk again, one finished chunk a second time (its ack was lost), the rest, finish.
    for bounds in [chunks[half], chunks[0], *chunks[half + 1 :]]:
        services.sweep_chunk_run(sweep_id=sweep.pk, rule_ids=sweep.rule_ids, bounds=bounds, as_of=AS_OF)
    finished = services.sweep_finish(sweep_id=sweep.pk)
    assert finished.status == SweepStatus.FINISHED
    assert finished.errors == []
    retried = _findings()
    assert retried, "the data must give the sweep something to find"

    assert _undisturbed() == retried


def test_abandoned_sweep_is_given_up_and_the_next_one_finds_the_same(make_community, make_compound):
    _world(make_community, make_compound)
    sweep = services.sweep_start(as_of=AS_OF)
    chunks = services.sweep_plan(sweep=sweep, chunks=4)
    services.sweep_chunk_run(sweep_id=sweep.pk, rule_ids=sweep.rule_ids, bounds=chunks[0], as_of=AS_OF)
    # Nobody retries (the whole worker host is gone); the next sweep takes over once its heartbeat is older
    # than the lease (minutes, not hours).
    Sweep.objects.filter(pk=sweep.pk).update(heartbeat_at=timezone.now() - services.sweep_lease() - timedelta(seconds=1))
    later = services.sweep_run(as_of=AS_OF, chunks=3)
    assert later.status == SweepStatus.FINISHED
    assert Sweep.objects.get(pk=sweep.pk).status == SweepStatus.FAILED
    after = _findings()
    assert _undisturbed() == after


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.fixture
def redis_down():
    """Celery publishes to a broker that refuses connections, as when Redis is down."""
    from lianhu.celery import app

    url = f"redis://127.0.0.1:{_closed_port()}/0"
    down = {"task_always_eager": False, "broker_url": url, "result_backend": "cache+memory://",
            "broker_connection_retry": False, "broker_connection_max_retries": 0}
    saved = {key: app.conf.get(key) for key in down}
    app.conf.update(down)
    _close_pool(app)
    yield url
    app.conf.update(saved)
    _close_pool(app)


def _close_pool(app):
    # The producer pools remember their broker; forget them (as Celery does after a fork) so the next
    # publish connects to the broker configured now. The old pools are left to the garbage collector:
    # closing them would leave kombu's global registry holding closed pools.
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def test_redis_down_at_save_time_the_save_succeeds_and_the_next_sweep_catches_up(
    client, clerk_qingnian, make_community, redis_down
):
    c = make_community(households=3000)
    client.force_login(clerk_qingnian)
    data = {"code": c.code, "name": c.name, "sub_district": c.sub_district_id, "status": "active",
            "households": 500, "population": 9000, "party_org_type": "branch", "social_org_count": 0}
    response = client.post(reverse("communities:community_edit", args=[c.pk]), data)
    assert response.status_code == 302, response.content.decode()[:500]
    c.refresh_from_db()
    assert c.households == 500

    sweep = services.sweep_run(as_of=timezone.localdate(), rule_ids=["M04.households"])
    assert sweep.status == SweepStatus.FINISHED
    assert Finding.objects.filter(rule_id="M04.households", target_key=c.code, status=FindingStatus.OPEN).exists()


def test_redis_down_when_a_reviewer_starts_a_sweep_says_so_in_chinese(client, reviewer, redis_down):
    client.force_login(reviewer)
    response = client.post(reverse("compliance:sweep_start"), {"as_of": "2025-06-30"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "任务队列暂时不可用" in page
    assert not Sweep.objects.filter(status=SweepStatus.RUNNING).exists()


def test_a_sweep_with_a_fresh_heartbeat_is_not_taken_over_and_a_dead_one_is_within_the_lease(streets, settings):
    settings.COMPLIANCE_SWEEP_LEASE_SECONDS = 300
    alive = services.sweep_start(as_of=AS_OF)
    Sweep.objects.filter(pk=alive.pk).update(started_at=timezone.now() - timedelta(hours=2),
                                            heartbeat_at=timezone.now() - timedelta(minutes=4))
    with pytest.raises(ValidationError) as refused:
        services.sweep_start(as_of=AS_OF)
    assert refused.value.code == "sweep_running"
    assert services.sweep_running() == alive

    # Six minutes without a heartbeat: the worker is dead; a new sweep takes over at once, not after hours.
    Sweep.objects.filter(pk=alive.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=6))
    assert services.sweep_running() is None
    taker = services.sweep_start(as_of=AS_OF)
    alive.refresh_from_db()
    assert alive.status == SweepStatus.FAILED and taker.status == SweepStatus.RUNNING
    assert "已由新的巡检接替" in alive.errors[-1]["error"]

    # The dead sweep's chunk, redelivered late, writes nothing under it and does not finish it.
    before = FindingEvent.objects.count()
    services.sweep_chunk_run(sweep_id=alive.pk, rule_ids=alive.rule_ids, bounds=[None, None], as_of=AS_OF)
    assert FindingEvent.objects.count() == before
    assert services.sweep_finish(sweep_id=alive.pk).status == SweepStatus.FAILED


def test_each_chunk_renews_the_heartbeat(streets):
    sweep = services.sweep_start(as_of=AS_OF)
    plan = services.sweep_plan(sweep=sweep, chunks=2)
    Sweep.objects.filter(pk=sweep.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    services.sweep_chunk_run(sweep_id=sweep.pk, rule_ids=sweep.rule_ids, bounds=plan[0], as_of=AS_OF)
    sweep.refresh_from_db()
    assert timezone.now() - sweep.heartbeat_at < timedelta(minutes=1)
