"""Retention: dated parameters, the 180-day floor for security events, deletion in batches."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import SecurityEvent
from compliance.models import Finding, FindingEvent, RuleParameter, SupervisionAction
from ops import retention

from ..compliance.pages import finding

pytestmark = pytest.mark.django_db


def _days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def _set(name: str, value: int, effective: dt.date) -> None:
    RuleParameter.objects.create(rule_id=retention.RETENTION_KEY, name=name, value=value, effective_from=effective,
                                 reason="测试")


def _deletes_on(table: str, queries) -> int:
    return sum(1 for q in queries if q["sql"].lstrip().upper().startswith("DELETE") and f'"{table}"' in q["sql"])


def test_security_events_keep_the_180_day_floor_whatever_the_parameter_says():
    _set("security_event_days", 30, dt.date(2020, 1, 1))
    young = SecurityEvent.objects.create(kind="login", username="a", when=_days_ago(100))
    old = SecurityEvent.objects.create(kind="login", username="b", when=_days_ago(200))
    assert retention.params(timezone.localdate())["security_event_days"] == 180
    results = {r.kind: r for r in retention.purge()}
    assert results["security_events"].deleted == 1
    assert SecurityEvent.objects.filter(pk=young.pk).exists()
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()


def test_security_events_deleted_in_batches():
    SecurityEvent.objects.bulk_create([SecurityEvent(kind="login", username=f"u{i}", when=_days_ago(400))
                                       for i in range(25)])
    with CaptureQueriesContext(connection) as ctx:
        results = {r.kind: r for r in retention.purge(batch=10)}
    assert results["security_events"].deleted == 25 and results["security_events"].batches == 3
    assert _deletes_on("audit_securityevent", ctx.captured_queries) == 3
    assert SecurityEvent.objects.count() == 0


def test_resolved_findings_past_retention_go_in_batches_with_their_events(streets):
    old = [finding(street=streets["qingnian"], status="resolved", resolved_at=_days_ago(1200)) for _ in range(25)]
    for f in old:
        FindingEvent.objects.create(finding=f, kind="opened")
    recent = finding(street=streets["qingnian"], status="resolved", resolved_at=_days_ago(100))
    still_open = finding(street=streets["qingnian"])
    with CaptureQueriesContext(connection) as ctx:
        results = {r.kind: r for r in retention.purge(batch=10)}
    assert results["findings"].deleted == 25 and results["findings"].batches == 3
    assert _deletes_on("compliance_finding", ctx.captured_queries) == 3
    assert set(Finding.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk}
    assert FindingEvent.objects.count() == 0


def test_a_dated_parameter_changes_the_period_from_its_day(streets):
    f = finding(street=streets["qingnian"], status="resolved", resolved_at=_days_ago(400))
    _set("finding_days", 365, timezone.localdate() + dt.timedelta(days=10))  # not yet in force
    assert {r.kind: r.deleted for r in retention.purge()}["findings"] == 0
    _set("finding_days", 365, timezone.localdate() - dt.timedelta(days=1))
    assert {r.kind: r.deleted for r in retention.purge()}["findings"] == 1
    assert not Finding.objects.filter(pk=f.pk).exists()


def test_supervised_findings_are_kept(streets, reviewer):
    f = finding(street=streets["qingnian"], status="resolved", resolved_at=_days_ago(2000))
    SupervisionAction.objects.create(finding=f, unit="青年路街道", sub_district=streets["qingnian"], level="remind",
                                     taken_on=dt.date(2020, 1, 1), note="提醒", taken_by=reviewer)
    retention.purge()
    assert Finding.objects.filter(pk=f.pk).exists()


def test_rectified_findings_are_kept_and_do_not_stop_the_purge(streets):
    from supervision.models import Rectification

    kept = finding(street=streets["qingnian"], status="resolved", resolved_at=_days_ago(2000))
    Rectification.objects.create(finding=kept, unit="青年路街道", measures="已补配")
    gone = finding(street=streets["qingnian"], status="resolved", resolved_at=_days_ago(2000))
    results = {r.kind: r for r in retention.purge()}
    assert results["findings"].deleted == 1
    assert Finding.objects.filter(pk=kept.pk).exists() and not Finding.objects.filter(pk=gone.pk).exists()


def test_purge_command_dry_run_deletes_nothing(capsys):
    SecurityEvent.objects.create(kind="login", username="b", when=_days_ago(400))
    call_command("ops_purge", "--dry-run")
    out = capsys.readouterr().out
    assert "安全审计记录：保存 180 天，可删除 1 条" in out
    assert SecurityEvent.objects.count() == 1


def test_the_purge_and_heartbeat_are_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"ops.purge", "ops.heartbeat", "compliance.nightly_sweep"} <= tasks
