"""compliance/trends.py: a day's open-finding counts, rewritten from the live findings in a fixed number of
statements however many findings and count rows there are."""

import itertools
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import Finding, FindingDailyCount, FindingStatus
from compliance.trends import daily_counts_refresh

DAY = date(2026, 6, 15)
_TARGETS = itertools.count(1)  # one live finding per rule and target: every finding its own target


def _open(rules: list[str], street: str | None = None, status: str = FindingStatus.OPEN) -> None:
    Finding.objects.bulk_create([
        Finding(rule_id=rule, clause=4, target_type="community", target_key=str(pk), target_pk=pk,
                sub_district_id=street, severity="warning", message="不达标", status=status, first_seen=DAY,
                last_seen=DAY, opened_at=timezone.now())
        for rule, pk in zip(rules, _TARGETS, strict=False)  # the counter never ends
    ])


@pytest.mark.django_db
def test_the_statements_do_not_grow_with_the_count_rows(today):
    today(DAY)
    _open([f"A.{i}" for i in range(3)])
    with CaptureQueriesContext(connection) as few:
        assert daily_counts_refresh(day=DAY) == 3
    # More count rows than one INSERT batch of bulk_create held (2,000): a national sweep writes some 80,000.
    _open([f"B.{i}" for i in range(2500)])
    with CaptureQueriesContext(connection) as many:
        assert daily_counts_refresh(day=DAY) == 2503
    assert len(many) == len(few)
    assert FindingDailyCount.objects.filter(day=DAY).count() == 2503
    row = FindingDailyCount.objects.get(day=DAY, rule_id="B.7")
    assert (row.open_count, row.severity, row.responsible_kind, row.sub_district_id) == (1, "warning", "street", None)


@pytest.mark.django_db
def test_counts_per_unit_rule_and_severity_and_a_pair_rewrites_only_itself(today, streets):
    today(DAY)
    _open(["M04.households", "M04.households", "M07.facility_area"], street="610104001")
    _open(["M04.households"], street="610104009")
    _open(["M04.households"], street="610104001", status=FindingStatus.RESOLVED)  # closed: not counted
    daily_counts_refresh(day=DAY)
    counts = {(r.rule_id, r.sub_district_id): r.open_count for r in FindingDailyCount.objects.filter(day=DAY)}
    assert counts == {("M04.households", "610104001"): 2, ("M07.facility_area", "610104001"): 1,
                      ("M04.households", "610104009"): 1}
    Finding.objects.filter(rule_id="M04.households").update(status=FindingStatus.RESOLVED)
    assert daily_counts_refresh(day=DAY, pairs={("M04.households", "610104001")}) == 0
    counts = {(r.rule_id, r.sub_district_id): r.open_count for r in FindingDailyCount.objects.filter(day=DAY)}
    # The other 街办's row was not touched: only the pair re-judged is rewritten.
    assert counts == {("M07.facility_area", "610104001"): 1, ("M04.households", "610104009"): 1}


@pytest.mark.django_db
def test_no_day_but_today_is_rewritten(today):
    today(DAY)
    _open(["A.1"])
    assert daily_counts_refresh(day=date(2026, 6, 14)) == 0
    assert not FindingDailyCount.objects.exists()
