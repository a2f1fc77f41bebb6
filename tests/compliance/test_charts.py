"""The dashboard's charts: figures counted in the database within the user's scope, printed beside the chart."""

from datetime import date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance import charts
from compliance.models import Sweep, SweepStatus

from .pages import finding

pytestmark = pytest.mark.django_db


def _series(chart):
    return {s["name"]: s["data"] for s in chart["series"]}


def _sweep(as_of):
    return Sweep.objects.create(as_of=as_of, status=SweepStatus.FINISHED, finished_at=timezone.now())


def test_street_chart_counts_communities_per_street_and_severity(reviewer, clerk_qingnian, make_community):
    a = make_community("qingnian", households=500)
    b = make_community("qingnian", households=600)
    z = make_community("zaoyuan", households=700)
    finding(community=a)
    finding(community=b)
    finding(community=b, rule_id="M04.population")  # same community, same severity: once
    finding(community=b, rule_id="M04.boundaries")  # 违规
    finding(community=z)
    finding(community=z, rule_id="M07.facility_area", status="resolved")  # not open
    chart = charts.street_severity_chart(reviewer)
    qingnian = chart["categories"].index("青年路街道")
    zaoyuan = chart["categories"].index("枣园街道")
    series = _series(chart)
    assert (series["违规"][qingnian], series["预警"][qingnian]) == (1, 2)
    assert (series["违规"][zaoyuan], series["预警"][zaoyuan]) == (0, 1)
    # A clerk's chart has its own 街办 only.
    assert charts.street_severity_chart(clerk_qingnian)["categories"] == ["青年路街道"]


def test_trend_counts_what_was_open_on_each_sweep_day(reviewer, clerk_qingnian, make_community):
    a = make_community("qingnian", households=500)
    z = make_community("zaoyuan", households=700)
    finding(community=a, first_seen=date(2025, 1, 1))
    # Open on 03-01, resolved before 06-15.
    finding(community=a, rule_id="M07.facility_area", first_seen=date(2025, 2, 1), status="resolved",
            resolved_at=timezone.make_aware(datetime(2025, 4, 1, 10)))
    finding(community=z, first_seen=date(2025, 5, 1))  # another 街办, seen after 03-01
    finding(community=z, rule_id="M04.population", first_seen=date(2025, 1, 1), status="waived",
            waived_reason="已批准", waived_until=date(2026, 1, 1))
    _sweep(date(2025, 3, 1))
    _sweep(date(2025, 6, 15))
    _sweep(date(2025, 6, 15))  # the same day twice: one point
    chart = charts.open_trend_chart(reviewer)
    assert chart["categories"] == ["2025-03-01", "2025-06-15"]
    total = [sum(s["data"][i] for s in chart["series"]) for i in range(2)]
    assert total == [2, 2]
    mine = charts.open_trend_chart(clerk_qingnian)
    assert [sum(s["data"][i] for s in mine["series"]) for i in range(2)] == [2, 1]


def test_dashboard_shows_both_charts_with_their_tables(client, reviewer, make_community):
    a = make_community("qingnian", households=500)
    finding(community=a)
    _sweep(date(2025, 3, 1))
    client.force_login(reviewer)
    html = client.get(reverse("compliance:dashboard")).content.decode()
    for chart_id in ("chart-street-severity", "chart-open-trend"):
        assert f'data-chart="{chart_id}-data"' in html
        assert f'<script id="{chart_id}-data" type="application/json">' in html
        assert f'data-chart-table="{chart_id}"' in html
    assert "echarts.min.js" in html and "js/charts.js" in html


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["clerk_qingnian", "reviewer"])
def test_chart_queries_stay_constant_as_findings_and_sweeps_grow(request, make_community, who):
    user = request.getfixturevalue(who)

    def grow(n, day):
        for i in range(n):
            c = make_community("qingnian" if i % 2 else "zaoyuan", households=500)
            finding(community=c, first_seen=day)
        _sweep(day)

    grow(3, date(2025, 1, 1))
    charts.street_severity_chart(user)  # warms the per-process caches (content types, permissions)
    small = (_queries(lambda: charts.street_severity_chart(user)), _queries(lambda: charts.open_trend_chart(user)))
    for month in range(2, 8):
        grow(10, date(2025, month, 1))
    assert (_queries(lambda: charts.street_severity_chart(user)),
            _queries(lambda: charts.open_trend_chart(user))) == small


def _daily(day, street, severity, n, rule_id="M04.households", kind="street"):
    from compliance.models import FindingDailyCount

    return FindingDailyCount.objects.create(day=day, responsible_kind=kind, responsible_unit=street.name if street else "",
                                            sub_district=street, rule_id=rule_id, severity=severity, open_count=n)


def test_trend_reads_the_daily_counts_once_they_cover_two_days(reviewer, clerk_qingnian, streets):
    _sweep(date(2025, 3, 1))
    _daily(date(2025, 6, 1), streets["qingnian"], "warning", 4)
    # One day of counts is no trend yet: the sweeps still draw it.
    assert charts.open_trend_chart(reviewer)["categories"] == ["2025-03-01"]
    _daily(date(2025, 6, 2), streets["qingnian"], "warning", 3)
    _daily(date(2025, 6, 2), streets["qingnian"], "violation", 2, rule_id="M04.boundaries")
    _daily(date(2025, 6, 2), streets["zaoyuan"], "warning", 7)
    chart = charts.open_trend_chart(reviewer)
    assert chart["categories"] == ["2025-06-01", "2025-06-02"]
    assert _series(chart)["预警"] == [4, 10] and _series(chart)["违规"] == [0, 2]
    # A clerk counts their own 街办 only.
    assert _series(charts.open_trend_chart(clerk_qingnian))["预警"] == [4, 3]
