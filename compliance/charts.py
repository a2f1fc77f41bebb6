"""The dashboard's charts: open findings per 街办 by severity, and open findings across sweeps.

Both are counted in the database within the user's scope (``findings_for_user``), a fixed number of
queries however many findings there are.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet, Sum

from accounts.models import units_of
from accounts.roles import is_admin, is_department, is_reviewer
from ui.charts import SEVERITY_COLORS, Chart

from . import catalogue
from .catalogue import Severity, Target
from .models import FindingDailyCount, FindingStatus, ResponsibleKind, Sweep, SweepStatus
from .selectors import findings_for_user, street_codes_for_user, streets_for_user

DISTRICT_LABEL = "全区/未划街办"
# Sweeps drawn on the trend (the latest ones).
TREND_SWEEPS = 30
# Days drawn from the daily counts (the latest ones that have counts).
TREND_DAYS = 90


def street_severity_chart(user) -> Chart:
    """Per 街办 and severity, how many communities have an open finding (the dashboard's column totals)."""
    streets = list(streets_for_user(user).order_by("code").values_list("code", "name"))
    rows = (
        findings_for_user(user)
        .filter(status=FindingStatus.OPEN)
        .values("sub_district_id", "severity")
        .annotate(communities=Count("community", distinct=True), orphans=Count("id", filter=Q(community__isnull=True)))
        .order_by()
    )
    counts: dict[tuple[str | None, str], int] = {}
    for row in rows:
        # Findings on no community (district-wide, unassigned compounds) count one each, as in the table above.
        counts[(row["sub_district_id"], row["severity"])] = row["communities"] + row["orphans"]
    categories = [name for _code, name in streets]
    codes: list[str | None] = [code for code, _name in streets]
    if any(street is None for street, _sev in counts):
        categories.append(DISTRICT_LABEL)
        codes.append(None)
    return {
        "id": "chart-street-severity",
        "kind": "bar",
        "title": "各街道办事处未整改问题（按严重程度，涉及社区数）",
        "x_label": "街道办事处",
        "y_label": "社区数",
        "categories": categories,
        "series": [
            {"name": label, "data": [counts.get((code, sev), 0) for code in codes], "color": SEVERITY_COLORS[sev]}
            for sev, label in Severity.CHOICES
        ],
        "stack": True,
        "band": None,
        "in_band": [],
    }


def _sweep_dates(limit: int) -> list[dt.date]:
    dates = (
        Sweep.objects.filter(status=SweepStatus.FINISHED)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .distinct()[:limit]
    )
    return sorted(dates)


def open_counts_from_sweeps(user, limit: int = TREND_SWEEPS) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Open findings on the day of each finished sweep, by severity, within the user's scope.

    A finding counts on day D if first seen by D and not resolved by then (resolved_at after D);
    waived findings are left out, as on the dashboard. Two queries.
    """
    dates = _sweep_dates(limit)
    if not dates:
        return [], {sev: [] for sev in Severity.ALL}
    aggregates = {}
    for i, day in enumerate(dates):
        open_on_day = Q(first_seen__lte=day) & (Q(resolved_at__isnull=True) | Q(resolved_at__date__gt=day))
        for sev in Severity.ALL:
            aggregates[f"{sev}_{i}"] = Count("id", filter=open_on_day & Q(severity=sev))
    totals = findings_for_user(user).exclude(status=FindingStatus.WAIVED).aggregate(**aggregates)
    return dates, {sev: [totals[f"{sev}_{i}"] for i in range(len(dates))] for sev in Severity.ALL}


def _daily_counts_for_user(user) -> QuerySet[FindingDailyCount]:
    """The daily counts within the same scope as ``findings_for_user`` (rows carry 街办, unit and rule)."""
    counts = FindingDailyCount.objects.all()
    if not user.is_authenticated:
        return counts.none()
    if is_admin(user) or is_reviewer(user):
        return counts
    person_rules = [rule_id for rule_id, spec in catalogue.RULES.items() if spec.target == Target.PERSON]
    if is_department(user):
        return counts.filter(responsible_kind=ResponsibleKind.DEPARTMENT,
                             responsible_unit__in=sorted(units_of(user))).exclude(rule_id__in=person_rules)
    district_rules = [rule_id for rule_id, spec in catalogue.RULES.items() if spec.target == Target.DISTRICT]
    streets = street_codes_for_user(user)
    return counts.filter(Q(sub_district_id__in=streets) | Q(sub_district__isnull=True, rule_id__in=district_rules))


def open_counts_from_daily(user, limit: int = TREND_DAYS) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Open findings per day by severity from the daily counts today's sweeps and re-judging keep. Two queries."""
    scoped = _daily_counts_for_user(user)
    days = sorted(scoped.order_by("-day").values_list("day", flat=True).distinct()[:limit])
    if not days:
        return [], {sev: [] for sev in Severity.ALL}
    totals = {(r["day"], r["severity"]): r["n"] for r in
              scoped.filter(day__gte=days[0]).values("day", "severity").annotate(n=Sum("open_count")).order_by()}
    return days, {sev: [totals.get((day, sev), 0) for day in days] for sev in Severity.ALL}


def open_counts_daily_or_sweeps(user) -> tuple[list[dt.date], dict[str, list[int]]]:
    """The daily counts where they exist (kept since they were introduced), else the sweep records."""
    days, counts = open_counts_from_daily(user)
    # One day is no trend: until the counts cover two days the sweeps tell more.
    if len(days) >= 2:
        return days, counts
    return open_counts_from_sweeps(user)


# Where the trend's counts come from (one line to switch).
open_counts = open_counts_daily_or_sweeps


def open_trend_chart(user) -> Chart:
    dates, by_severity = open_counts(user)
    return {
        "id": "chart-open-trend",
        "kind": "line",
        "title": "未整改问题数的变化",
        "x_label": "日期",
        "y_label": "问题数",
        "categories": [f"{day:%Y-%m-%d}" for day in dates],
        "series": [
            {"name": label, "data": by_severity[sev], "color": SEVERITY_COLORS[sev]}
            for sev, label in Severity.CHOICES
        ],
        "stack": False,
        "band": None,
        "in_band": [],
    }
