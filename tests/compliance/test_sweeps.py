"""Sweeps: records, refusal while one runs, errors, stability, the command and the Celery path."""

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Community
from compliance import services
from compliance.models import Finding, FindingStatus, Sweep, SweepStatus
from compliance.rules import registry

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _live_on_as_of(today):
    """These sweeps are today's (live) sweeps: "today" is the as-of date."""
    today(AS_OF)
MINE = ["M04.households", "M09.facility_debt"]


def open_set(rule_ids=None):
    qs = Finding.objects.filter(status=FindingStatus.OPEN)
    if rule_ids:
        qs = qs.filter(rule_id__in=rule_ids)
    return set(qs.values_list("rule_id", "target_key", "severity", "message"))


def test_sweep_records_counts_and_timings(make_community, make_compound):
    small = make_community(households=500)
    make_community(households=3000)
    make_compound(community=small, built_on=date(2012, 1, 1), must_provide_facility=True)
    sweep = services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    assert sweep.status == SweepStatus.FINISHED
    assert (sweep.opened, sweep.resolved, sweep.still_open) == (2, 0, 2)
    assert set(sweep.rule_timings) == set(MINE)
    assert sweep.errors == []
    assert sweep.finished_at >= sweep.started_at
    assert Finding.objects.filter(last_sweep=sweep).count() == 2


def test_sweep_resolves_what_no_longer_fails(make_community):
    c = make_community(households=500)
    services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    Community.objects.filter(pk=c.pk).update(households=1500)  # no signal: only the sweep can see it
    sweep = services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    assert (sweep.opened, sweep.resolved, sweep.still_open) == (0, 1, 0)
    assert Finding.objects.get(rule_id="M04.households").status == FindingStatus.RESOLVED


def test_rerun_gives_same_open_set(make_community, make_compound):
    for h in (10, 999, 1000, 5000, 5001, 90000):
        c = make_community(households=h)
    make_compound(community=c, built_on=date(2011, 2, 1), must_provide_facility=True)
    make_compound(street=c.sub_district, built_on=date(2011, 2, 1), must_provide_facility=True)
    services.sweep_run(as_of=AS_OF, chunks=4)
    first = open_set()
    second_sweep = services.sweep_run(as_of=AS_OF, chunks=2)
    assert open_set() == first
    assert second_sweep.opened == 0
    assert second_sweep.resolved == 0
    assert {k for r, k, *_ in first if r in MINE} >= {"XQ00001", "XQ00002"}


def test_raising_rule_does_not_stop_the_sweep(make_community, make_compound, monkeypatch):
    c = make_community(households=500)
    services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    make_compound(community=c, built_on=date(2012, 1, 1), must_provide_facility=True)

    def boom(queryset, as_of, params):
        raise RuntimeError("规则内部错误")

    monkeypatch.setattr(registry.get("M04.households"), "evaluate", boom)
    Community.objects.filter(pk=c.pk).update(households=1500)
    sweep = services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    assert sweep.status == SweepStatus.FINISHED
    assert [e["rule"] for e in sweep.errors] == ["M04.households"]  # one community: one chunk recorded it
    assert "规则内部错误" in sweep.errors[0]["error"]
    # the other rule ran; the failed rule's finding is left alone, not resolved
    assert Finding.objects.get(rule_id="M09.facility_debt").status == FindingStatus.OPEN
    assert Finding.objects.get(rule_id="M04.households").status == FindingStatus.OPEN


def test_overlapping_sweep_refused(streets):
    running = Sweep.objects.create(as_of=AS_OF)
    with pytest.raises(ValidationError) as exc:
        services.sweep_run(as_of=AS_OF)
    assert exc.value.code == "sweep_running"
    assert "正在进行" in exc.value.messages[0]
    assert Sweep.objects.count() == 1
    with pytest.raises(CommandError, match="正在进行"):
        call_command("compliance_sweep", "--as-of", "2025-06-30")
    running.refresh_from_db()
    assert running.status == SweepStatus.RUNNING


def test_stale_running_sweep_is_given_up(streets):
    stale = Sweep.objects.create(as_of=AS_OF)
    Sweep.objects.filter(pk=stale.pk).update(started_at=timezone.now() - timedelta(hours=4))
    sweep = services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    stale.refresh_from_db()
    assert stale.status == SweepStatus.FAILED
    assert sweep.status == SweepStatus.FINISHED


def test_command_json_contract(make_community, make_compound, capsys):
    c = make_community(households=999)
    x = make_compound(street=c.sub_district, built_on=date(2011, 2, 1), must_provide_facility=True)
    call_command("compliance_sweep", "--as-of", "2025-06-30", "--json")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(list(o) == ["rule", "clause", "severity", "target", "key", "community", "measured", "required",
                           "message"] for o in lines)
    mine = {o["rule"]: o for o in lines if o["rule"] in MINE}
    assert mine["M04.households"] == {
        "rule": "M04.households", "clause": "四", "severity": "warning", "target": "community", "key": c.code,
        "community": c.code, "measured": 999, "required": "1000~5000",
        "message": "户数 999 户，低于下限 1000 户（微型社区）",
    }
    debt = mine["M09.facility_debt"]
    assert (debt["clause"], debt["target"], debt["key"], debt["community"]) == ("九", "compound", x.code, None)
    # a second run prints the same set
    call_command("compliance_sweep", "--as-of", "2025-06-30", "--json")
    again = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(map(json.dumps, again)) == sorted(map(json.dumps, lines))
    assert Sweep.objects.filter(status="finished").count() == 2


def test_command_summary_in_chinese(make_community, capsys):
    make_community(households=999)
    call_command("compliance_sweep", "--as-of", "2025-06-30")
    out = capsys.readouterr().out
    assert "巡检完成：评估日期 2025-06-30" in out
    assert "仍未整改" in out


def test_command_rejects_bad_date(streets):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("compliance_sweep", "--as-of", "2025/13/01")


def _communities(streets, n, failing):
    """n communities; ``failing`` of them fail, the first ones and the last, so that with two chunks
    each chunk has failing communities whatever n (a chunk where a rule finds nothing skips its writes)."""
    street = streets["qingnian"]
    bad = {*range(1, failing), n}
    Community.objects.bulk_create([
        Community(code=f"{street.code}{i:03d}", name=f"批量{i}", sub_district=street,
                  households=500 if i in bad else 3000, population=9000)
        for i in range(1, n + 1)
    ])


def _sweep_queries(rule_ids=None):
    with CaptureQueriesContext(connection) as ctx:
        services.sweep_run(as_of=AS_OF, rule_ids=rule_ids)
    return len(ctx.captured_queries)


def _counts(streets, rule_ids, settings):
    # Chunks are a fixed number of pk ranges: the queries of a sweep must not depend on the communities.
    settings.COMPLIANCE_SWEEP_CHUNKS = 2
    settings.COMPLIANCE_SWEEP_MIN_CHUNK = 1  # two chunks for 10 communities as for 500
    counts = {}
    for n in (10, 500):
        Finding.objects.all().delete()
        Sweep.objects.all().delete()
        Community.objects.all().delete()
        _communities(streets, n, failing=3)
        counts[n] = (_sweep_queries(rule_ids), _sweep_queries(rule_ids))
    return counts


def test_sweep_query_count_does_not_grow(streets, settings):
    """10 and 500 communities, three failing: the same number of queries, for the
    first sweep and for a re-run (every finding already there)."""
    counts = _counts(streets, MINE, settings)
    assert counts[10] == counts[500]


def test_sweep_query_count_all_rules(streets, settings):
    """Every registered rule. Rules of other apps may fail every community here,
    and SQLite caps an INSERT at 999 parameters, so the first sweep's inserts grow
    with the findings it opens; the re-run, where targets grow but nothing
    changes, must cost the same."""
    counts = _counts(streets, None, settings)
    assert counts[10][1] == counts[500][1]


def test_replay_query_count_does_not_grow(streets, settings):
    """A replay (as of a day other than today) writes its own snapshot: 10 and 500 communities, three failing,
    cost the same, for a first replay and for one that carries first_seen from the previous replay."""
    settings.COMPLIANCE_SWEEP_CHUNKS = 2
    settings.COMPLIANCE_SWEEP_MIN_CHUNK = 1
    counts = {}
    for n in (10, 500):
        Finding.objects.all().delete()
        Sweep.objects.all().delete()
        Community.objects.all().delete()
        _communities(streets, n, failing=3)
        runs = []
        for day in (AS_OF - timedelta(days=60), AS_OF - timedelta(days=30)):
            with CaptureQueriesContext(connection) as ctx:
                sweep = services.sweep_run(as_of=day, rule_ids=MINE)
            assert not sweep.live and sweep.still_open == 3
            runs.append(len(ctx.captured_queries))
        counts[n] = runs
    assert counts[10] == counts[500]
    assert not Finding.objects.exists()


def test_a_small_district_is_swept_in_one_chunk_and_a_large_one_in_at_most_the_setting(streets, settings):
    """Each chunk runs every rule: 142 communities in eight chunks cost eight times the queries of one."""
    settings.COMPLIANCE_SWEEP_CHUNKS = 3
    settings.COMPLIANCE_SWEEP_MIN_CHUNK = 4
    _communities(streets, 7, failing=1)
    assert services.sweep_run(as_of=AS_OF, rule_ids=MINE).chunks_total == 2  # 7 communities, at least 4 a chunk
    street = streets["qingnian"]
    Community.objects.bulk_create([Community(code=f"{street.code}{i:03d}", name=f"又一{i}", sub_district=street,
                                             households=3000, population=9000) for i in range(101, 121)])
    assert services.sweep_run(as_of=AS_OF, rule_ids=MINE).chunks_total == 3  # 27: as many as the setting allows
    assert services.sweep_run(as_of=AS_OF, rule_ids=MINE, chunks=5).chunks_total == 5  # asked for: as asked


def test_celery_nightly_sweep_runs_eagerly(make_community, monkeypatch):
    from compliance.tasks import nightly_sweep
    from lianhu.celery import app

    # The embedded default (no broker): the chord runs in-process.
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    make_community(households=500)
    sweep_id = nightly_sweep.delay(as_of="2025-06-30", chunks=3).get()
    sweep = Sweep.objects.get(pk=sweep_id)
    assert sweep.status == SweepStatus.FINISHED
    assert sweep.chunks_done == sweep.chunks_total == 1  # one community: one tile
    assert sweep.triggered_by == "定时任务"
    assert ("M04.households", "warning") in set(
        Finding.objects.filter(status="open").values_list("rule_id", "severity"))


def test_beat_schedule_at_two(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["compliance-nightly-sweep"]
    assert entry["task"] == "compliance.nightly_sweep"
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {0}
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


def test_a_rerun_reads_unchanged_findings_only_as_far_as_their_digest(streets):
    """A nightly sweep reads every live finding of its rules, nearly all unchanged: those only as far as their
    digest, so no query of a re-run over unchanged data reads a finding's figures or message."""
    _communities(streets, 20, failing=5)
    services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    before = open_set(MINE)
    with CaptureQueriesContext(connection) as ctx:
        services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    assert not [q["sql"] for q in ctx.captured_queries if '"compliance_finding"."message"' in q["sql"]]
    assert open_set(MINE) == before and len(before) == 5


def test_findings_from_before_digests_get_theirs_from_the_next_sweep_and_nothing_else(streets):
    from compliance.models import FindingEvent

    _communities(streets, 20, failing=5)
    services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    digests = dict(Finding.objects.values_list("pk", "data_digest"))
    assert all(len(d) == 16 for d in digests.values())
    Finding.objects.update(data_digest="")  # rows written before the column existed
    state = set(Finding.objects.values_list("pk", "status", "last_seen", "last_sweep_id", "message"))
    events = FindingEvent.objects.count()
    services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    assert dict(Finding.objects.values_list("pk", "data_digest")) == digests
    assert set(Finding.objects.values_list("pk", "status", "last_seen", "last_sweep_id", "message")) == state
    assert FindingEvent.objects.count() == events


def test_sweep_chunk_judges_without_cyclic_collection(make_community, monkeypatch):
    """A chunk's rules run with the collector paused (core.collector) and leave it on, a failing rule included."""
    import gc

    make_community(households=500)
    rule = registry.get("M04.households")
    original = rule.evaluate
    seen = []

    def watching(queryset, as_of, params):
        seen.append(gc.isenabled())
        return original(queryset, as_of, params)

    monkeypatch.setattr(rule, "evaluate", watching)
    services.sweep_run(as_of=AS_OF, rule_ids=MINE)
    assert seen and not any(seen) and gc.isenabled()
    assert Finding.objects.filter(rule_id="M04.households", status=FindingStatus.OPEN).exists()

    def boom(queryset, as_of, params):
        raise RuntimeError("规则内部错误")

    monkeypatch.setattr(rule, "evaluate", boom)
    assert services.sweep_run(as_of=AS_OF, rule_ids=MINE).errors
    assert gc.isenabled()
