"""Time that tells the truth (issue 12 item 6): replays never rewrite today, communities are judged by their
dates, a new community's election window, and the daily counts."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from communities.services import community_revoke, community_update
from compliance import services
from compliance.engine import ELECTION_WINDOW_RULES, evaluate_rules, window_opened_since
from compliance.models import Finding, FindingDailyCount, FindingEvent, FindingStatus, SweepFinding
from compliance.rules import registry

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
PAST = date(2026, 3, 1)
RULES = ["M04.households", "M04.boundaries", "M16.embedded_services", "M19.work_funds"]


def live_rows():
    """Every live finding and its history, column by column: what "byte-identical" compares."""
    return (list(Finding.objects.order_by("pk").values_list()),
            list(FindingEvent.objects.order_by("pk").values_list()))


@pytest.fixture
def world(make_community, today):
    today(TODAY)
    a = make_community(households=500, founded_on=date(2020, 1, 1))
    b = make_community(households=3000, founded_on=date(2020, 1, 1), east="东", south="南", west="西", north="北")
    return a, b


def test_live_sweep_is_marked_and_a_past_one_is_a_replay(world):
    live = services.sweep_run(rule_ids=RULES)
    replay = services.sweep_run(as_of=PAST, rule_ids=RULES)
    ahead = services.sweep_run(as_of=TODAY + timedelta(days=30), rule_ids=RULES)
    assert (live.live, replay.live, ahead.live) == (True, False, False)
    assert replay.still_open == SweepFinding.objects.filter(sweep=replay).count() > 0
    assert not FindingEvent.objects.filter(sweep__in=[replay, ahead]).exists()


def test_replay_after_todays_sweep_leaves_live_findings_byte_identical(world, django_capture_on_commit_callbacks):
    _a, b = world
    services.sweep_run(rule_ids=RULES)
    with django_capture_on_commit_callbacks(execute=True):
        community_update(community=b, east="")  # a save re-judges now: a live change, before the replays
    before = live_rows()
    assert Finding.objects.filter(rule_id="M04.boundaries", target_key=b.code, status="open").exists()
    out = io.StringIO()
    call_command("compliance_sweep", "--as-of", PAST.isoformat(), stdout=out)
    call_command("compliance_sweep", "--as-of", (TODAY + timedelta(days=400)).isoformat(), stdout=io.StringIO())
    assert live_rows() == before
    assert "回放" in out.getvalue()


def test_replay_json_prints_its_own_snapshot_in_the_contract(world, django_capture_on_commit_callbacks):
    a, _b = world
    services.sweep_run(rule_ids=RULES)
    with django_capture_on_commit_callbacks(execute=True):
        community_update(community=a, households=1500)  # fixed today; a replay of the past still finds it
    out = io.StringIO()
    call_command("compliance_sweep", "--as-of", PAST.isoformat(), "--json", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines and all(set(row) == {"rule", "clause", "severity", "target", "key", "community", "measured",
                                      "required", "message"} for row in lines)
    # The replay reads the record as it stood then? The communities table has no history of 户数 by date here,
    # so it judges today's 1500: no M04.households. The live one stayed resolved by the save.
    assert not Finding.objects.filter(rule_id="M04.households", status=FindingStatus.OPEN).exists()
    assert {row["rule"] for row in lines} >= {"M19.work_funds"}


def test_export_without_as_of_is_todays_and_the_replay_is_exportable(world, tmp_path,
                                                                   django_capture_on_commit_callbacks):
    a, _b = world
    services.sweep_run(rule_ids=RULES)
    live_open = Finding.objects.filter(status=FindingStatus.OPEN).count()
    with django_capture_on_commit_callbacks(execute=True):
        community_update(community=a, households=1500)  # today resolves M04.households for a
    services.sweep_run(as_of=PAST, rule_ids=RULES)
    replay_rows = SweepFinding.objects.filter(sweep__as_of=PAST).count()

    def rows(path):
        import re

        book = load_workbook(path, read_only=True)
        rule = re.compile(r"^M\d\d\.\w+$")
        # A finding's row carries its rule id in a cell of its own (sheets also hold headings and notes).
        total = sum(1 for ws in book.worksheets if ws.title.startswith("措施") for row in ws.iter_rows(values_only=True)
                    if any(isinstance(v, str) and rule.match(v) for v in row))
        source = next(v for row in book["汇总"].iter_rows(values_only=True) for v in row
                      if isinstance(v, str) and "巡检 #" in v)
        return total, source

    now_file, past_file = tmp_path / "now.xlsx", tmp_path / "past.xlsx"
    call_command("export_compliance", str(now_file), stdout=io.StringIO())
    call_command("export_compliance", str(past_file), "--as-of", PAST.isoformat(), stdout=io.StringIO())
    now_total, now_source = rows(now_file)
    past_total, past_source = rows(past_file)
    assert now_total == Finding.objects.filter(status=FindingStatus.OPEN).count() > 0
    assert not Finding.objects.filter(rule_id="M04.households", status=FindingStatus.OPEN).exists()
    assert live_open > 0
    assert "回放" not in now_source
    assert past_total == replay_rows and "回放" in past_source


def test_replay_carries_first_seen_so_its_deadlines_hold(world):
    a, _b = world
    first = services.sweep_run(as_of=PAST, rule_ids=["M04.households"])
    later = services.sweep_run(as_of=PAST + timedelta(days=100), rule_ids=["M04.households"])
    f1 = SweepFinding.objects.get(sweep=first, target_key=a.code)
    f2 = SweepFinding.objects.get(sweep=later, target_key=a.code)
    assert f1.first_seen == f2.first_seen == PAST
    assert f2.due_date == PAST + timedelta(days=60)
    assert (f2.responsible_kind, f2.responsible_unit, f2.lead_unit) == ("street", "", "civil_affairs")


def test_daily_counts_written_by_today_never_by_a_replay(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_run(rule_ids=RULES)
    today_rows = {(r.rule_id, r.severity, r.sub_district_id): r.open_count
                  for r in FindingDailyCount.objects.filter(day=TODAY)}
    assert today_rows[("M04.households", "warning", "610104001")] == 1
    assert sum(today_rows.values()) == Finding.objects.filter(status=FindingStatus.OPEN).count()
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_run(as_of=PAST, rule_ids=RULES)
    assert not FindingDailyCount.objects.exclude(day=TODAY).exists()
    # A save's re-judging keeps today's point true.
    a, _b = world
    with django_capture_on_commit_callbacks(execute=True):
        community_update(community=a, households=1500)
    assert not FindingDailyCount.objects.filter(day=TODAY, rule_id="M04.households").exists()


def test_replay_pages_list_view_and_export(world, reviewer, clerk_zaoyuan):
    services.sweep_run(rule_ids=RULES)
    replay = services.sweep_run(as_of=PAST, rule_ids=RULES)
    rv = Client()
    rv.force_login(reviewer)
    listing = rv.get(reverse("compliance:sweep_list")).content.decode()
    assert "回放" in listing
    page = rv.get(reverse("compliance:sweep_detail", args=[replay.pk]))
    text = page.content.decode()
    assert 'id="replay-note"' in text and f"?as_of={PAST:%Y-%m-%d}" in text
    assert len(page.context["page"]) == SweepFinding.objects.filter(sweep=replay).count()
    zy = Client()
    zy.force_login(clerk_zaoyuan)  # another 街办's clerk sees none of 青年路's rows
    assert len(zy.get(reverse("compliance:sweep_detail", args=[replay.pk])).context["page"]) == 0
    download = rv.get(reverse("exports:compliance"), {"as_of": PAST.isoformat()})
    assert download.status_code == 200
    # The dashboard's "last sweep" is the live one.
    assert rv.get(reverse("compliance:dashboard")).context["sweep"].live


class TestWhichCommunitiesAreJudged:
    def test_not_yet_founded_is_not_judged_revoked_later_still_is(self, make_community, today):
        today(TODAY)
        new = make_community(households=500, founded_on=date(2026, 5, 1))
        gone = make_community(households=500, founded_on=date(2020, 1, 1))
        community_revoke(community=gone, on=date(2026, 4, 1))
        replay = services.sweep_run(as_of=PAST, rule_ids=["M04.households"])
        judged = set(SweepFinding.objects.filter(sweep=replay).values_list("target_key", flat=True))
        assert judged == {gone.code}  # founded after D: not judged; revoked after D: judged on D
        services.sweep_run(rule_ids=["M04.households"])
        live = set(Finding.objects.filter(status=FindingStatus.OPEN).values_list("target_key", flat=True))
        assert live == {new.code}


class TestElectionWindow:
    APPROVED = date(2025, 1, 31)  # three calendar months later, clamped: 2025-04-30
    LAST = date(2025, 4, 30)

    def test_window_bound(self):
        assert window_opened_since(self.LAST, 3) == date(2025, 1, 30)  # 01-30 + 3 months = 04-30 too
        assert window_opened_since(date(2025, 5, 1), 3) == date(2025, 2, 1)

    @pytest.mark.parametrize(("as_of", "in_window"), [
        (date(2025, 4, 29), True), (date(2025, 4, 30), True), (date(2025, 5, 1), False),
    ])
    def test_window_rules_wait_until_the_day_after(self, make_community, as_of, in_window):
        c = make_community(households=500, approved_on=self.APPROVED, status="preparing")
        rules = ["M10.party_size", "M10.committee_size", "M11.worker_ratio", "M17.social_orgs", "M04.households"]
        evaluate_rules(rules=registry.select(rules), as_of=as_of)
        found = set(Finding.objects.filter(status=FindingStatus.OPEN, community=c).values_list("rule_id", flat=True))
        assert "M04.households" in found  # not a window rule: judged as usual
        window_found = found & ELECTION_WINDOW_RULES
        if in_window:
            assert window_found == set()
        else:
            assert window_found >= {"M10.party_size", "M10.committee_size", "M17.social_orgs"}

    def test_approved_yesterday_has_none_of_the_window_rules_by_sweep(self, make_community, today):
        today(TODAY)
        c = make_community(households=500, approved_on=TODAY - timedelta(days=1), status="preparing")
        services.sweep_run()
        found = set(Finding.objects.filter(status=FindingStatus.OPEN, community=c).values_list("rule_id", flat=True))
        assert found and not found & ELECTION_WINDOW_RULES


def test_replay_snapshot_is_scoped_like_the_live_findings(make_community, today, department_user):
    from accounts.access import forget_access
    from accounts.models import DepartmentMembership, Unit
    from compliance.selectors import sweep_findings_for_user

    today(TODAY)
    make_community(households=500, founded_on=date(2020, 1, 1))
    replay = services.sweep_run(as_of=PAST, rule_ids=RULES)
    assert not sweep_findings_for_user(department_user, replay).exists()  # no unit: nothing
    DepartmentMembership.objects.create(user=department_user, unit=Unit.FINANCE)
    forget_access(department_user)
    mine = sweep_findings_for_user(department_user, replay)
    assert {f.rule_id for f in mine} == {"M19.work_funds"}
