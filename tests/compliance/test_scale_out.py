"""Scale-out (issue 17 item 5): two Celery workers, started as two separate ``celery worker`` commands as on two
machines, share one nightly sweep through Redis; its chunks are split between them, and the findings are the
same as one process running the sweep alone.

Like the single-worker test (test_celery_worker.py), it needs ``LIANHU_CI_REDIS_URL`` and PostgreSQL: the
workers are other processes reading the committed test database. Under CI a missing Redis fails the test.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest
from django.utils import timezone

from compliance import services
from compliance.models import Finding, FindingStatus, Sweep, SweepStatus
from ops.models import TaskRecord
from tests.celery_world import ready_producer, start_worker, stop_worker, worker_env

pytestmark = [pytest.mark.celery_worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 180
CHUNKS = 12


@pytest.fixture
def two_workers(transactional_db):
    producer = ready_producer()
    env = worker_env()
    names = [f"machine-a-{os.getpid()}@lianhu", f"machine-b-{os.getpid()}@lianhu"]
    procs = [start_worker(name, env) for name in names]
    try:
        # Both consume before the sweep is queued: otherwise the first one up would simply take everything.
        deadline = time.monotonic() + 60
        ready: set[str] = set()
        while ready != set(names):
            if time.monotonic() > deadline:
                pytest.fail(f"60 秒内两个 worker 未全部就绪：{sorted(ready)}")
            for proc in procs:
                if proc.poll() is not None:
                    pytest.fail(f"Celery worker 已退出（状态 {proc.returncode}）")
            replies = producer.control.ping(destination=names, timeout=1.0, limit=len(names)) or []
            ready = {name for reply in replies for name in reply}
        yield producer, procs, names
    finally:
        for proc in procs:
            stop_worker(proc)
        producer.control.purge()
        producer.close()


def _open_set() -> set[tuple[str, str, str]]:
    return set(Finding.objects.filter(status=FindingStatus.OPEN).values_list("rule_id", "target_key", "severity"))


def test_two_workers_share_one_sweep_and_find_what_one_process_finds(two_workers, make_community, make_compound):
    import datetime as dt

    producer, procs, names = two_workers
    # Communities that fail different rules (too small, too large, a compound owing its facility) and pass them.
    communities = []
    for i in range(CHUNKS * 2):
        households = (500, 6000, 3000)[i % 3]
        communities.append(make_community(street=("qingnian", "zaoyuan")[i % 2], households=households))
    make_compound(community=communities[2], built_on=dt.date(2015, 5, 1), must_provide_facility=True,
                  facility_provided=False)
    Finding.objects.all().delete()  # what the saves opened: the sweep alone must find everything
    as_of = timezone.localdate()

    producer.send_task("compliance.nightly_sweep", kwargs={"as_of": as_of.isoformat(), "chunks": CHUNKS})
    deadline = time.monotonic() + WAIT_SECONDS
    sweep = None
    while time.monotonic() < deadline:
        sweep = Sweep.objects.filter(status__in=[SweepStatus.FINISHED, SweepStatus.FAILED]).first()
        if sweep is not None:
            break
        if any(p.poll() is not None for p in procs):
            pytest.fail("一个 Celery worker 已退出，巡检未完成")
        time.sleep(0.5)
    else:
        running = Sweep.objects.first()
        pytest.fail(f"{WAIT_SECONDS} 秒内巡检未完成：{running and (running.chunks_done, running.chunks_total)}")

    assert sweep.status == SweepStatus.FINISHED, sweep.errors
    assert sweep.errors == []
    assert sweep.chunks_total == sweep.chunks_done == CHUNKS
    # Each chunk's task record names the worker that ran it: both machines took a share.
    chunks = TaskRecord.objects.filter(name="compliance.sweep_chunk", subject_type="sweep", subject_id=str(sweep.pk))
    by_worker = Counter(chunks.values_list("worker", flat=True))
    assert sum(by_worker.values()) == CHUNKS and set(chunks.values_list("state", flat=True)) == {"success"}
    assert set(by_worker) == set(names), f"每个 worker 都应处理至少一个分块：{dict(by_worker)}"
    print(f"\nchunks per worker: {dict(by_worker)}")

    found = _open_set()
    assert {r for r, _k, _s in found} >= {"M04.households", "M09.facility_debt"}
    assert sweep.still_open == len(found) and sweep.opened == len(found)

    # The same sweep run by one process alone (eager) finds exactly what the two workers wrote.
    Finding.objects.all().delete()
    alone = services.sweep_run(as_of=as_of, triggered_by="测试")
    assert alone.opened == len(found)
    assert _open_set() == found
