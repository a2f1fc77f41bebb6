"""措施二十's 提醒 → 督办 → 约谈: how long a finding has stayed open decides its level.

The level is derived, not stored: a finding open for at least ``remind_days``
is at 提醒, ``supervise_days`` at 督办, ``interview_days`` at 约谈. "Open for"
is measured from ``first_seen`` (the as-of date it was first found) to
the as-of date of the latest evaluation that still found it (``seen_until``:
the stored ``last_seen``, written when the finding was opened or changed, or
for an open finding the as-of date of the latest finished sweep, which
confirmed every open finding without rewriting it),
so a sweep replayed as of a past date shows the ladder of that date, and a
reopened finding keeps its age: the problem never went away.

The thresholds are dated parameters like the rules' own, stored in
``RuleParameter`` under the key ``escalation`` (not a rule id: rule ids start
with ``M``), so changing them keeps the old values and their dates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

from . import catalogue
from .models import Finding, FindingStatus, RuleParameter, SupervisionAction, SupervisionLevel, Sweep, SweepStatus

ESCALATION_KEY = "escalation"
ESCALATION_TITLE = "督导升级（措施二十）"
DEFAULTS: dict[str, int] = {"remind_days": 30, "supervise_days": 60, "interview_days": 90}
PARAM_LABELS = {
    "remind_days": "逾期未整改转“提醒”的天数",
    "supervise_days": "逾期未整改转“督办”的天数",
    "interview_days": "逾期未整改转“约谈”的天数",
}
# Highest first: the first threshold a finding reaches is its level.
ORDER = [
    (SupervisionLevel.INTERVIEW, "interview_days"),
    (SupervisionLevel.SUPERVISE, "supervise_days"),
    (SupervisionLevel.REMIND, "remind_days"),
]
LEVELS = [SupervisionLevel.REMIND, SupervisionLevel.SUPERVISE, SupervisionLevel.INTERVIEW]
STREETS_UNIT = "各街办"


def params(as_of: dt.date) -> dict[str, int]:
    """The thresholds in force on ``as_of``: defaults overridden by the latest dated value."""
    out = dict(DEFAULTS)
    rows = (
        RuleParameter.objects.filter(rule_id=ESCALATION_KEY, effective_from__lte=as_of)
        .order_by("name", "effective_from", "created_at", "id")
        .values_list("name", "value")
    )
    for name, value in rows:
        if name in out:
            out[name] = int(value)
    return out


def level_for(days_open: int, thresholds: dict[str, int]) -> str:
    for level, name in ORDER:
        if days_open >= thresholds[name]:
            return level
    return ""


def _latest_sweep_as_of() -> Subquery:
    latest = Sweep.objects.filter(status=SweepStatus.FINISHED).order_by("-finished_at", "-id").values("as_of")[:1]
    return Subquery(latest, output_field=DateField())


def seen_until_expression() -> Case:
    """The as-of date an open finding was last seen: a finished sweep confirms every open finding it leaves
    open, so the latest one's date counts without a write per finding."""
    return Case(
        When(status=FindingStatus.OPEN,
             then=Greatest(F("last_seen"), Coalesce(_latest_sweep_as_of(), F("last_seen")), output_field=DateField())),
        default=F("last_seen"), output_field=DateField(),
    )


def seen_until(finding: Finding) -> dt.date:
    if finding.status != FindingStatus.OPEN or finding.pk is None:
        return finding.last_seen
    return Finding.objects.filter(pk=finding.pk).annotate(seen=seen_until_expression()).values_list(
        "seen", flat=True).get()


def with_level(findings: QuerySet, thresholds: dict[str, int]) -> QuerySet:
    """Annotate ``open_for`` (a duration) and ``escalation`` (a level, or "" when not yet due)."""
    qs = findings.annotate(seen_until=seen_until_expression()).annotate(
        open_for=ExpressionWrapper(F("seen_until") - F("first_seen"), output_field=DurationField())
    )
    whens = [
        When(status=FindingStatus.OPEN, open_for__gte=dt.timedelta(days=thresholds[name]), then=Value(level.value))
        for level, name in ORDER
    ]
    return qs.annotate(escalation=Case(*whens, default=Value(""), output_field=CharField()))


def unit_for(clause: int, sub_district_name: str | None) -> str:
    """Who answers: the community's 街办; for a finding with no 街办, the 措施's departments."""
    if sub_district_name:
        return sub_district_name
    info = catalogue.CLAUSES.get(clause)
    if info is None:
        return "区民政局"
    departments = [u for u in info.responsible_units if u != STREETS_UNIT]
    return "、".join(departments) if departments else STREETS_UNIT


def ladder(findings: QuerySet, thresholds: dict[str, int]) -> list[dict[str, Any]]:
    """Each responsible unit with its open findings at 提醒/督办/约谈 and the actions taken (two queries)."""
    rows = (
        with_level(findings.filter(status=FindingStatus.OPEN), thresholds)
        .exclude(escalation="")
        .values("clause", "sub_district__name", "escalation")
        .annotate(n=Count("id"))
        .order_by()
    )
    units: dict[str, dict[str, Any]] = defaultdict(lambda: {"counts": dict.fromkeys(LEVELS, 0), "actions": 0})
    for row in rows:
        unit = unit_for(row["clause"], row["sub_district__name"])
        units[unit]["counts"][SupervisionLevel(row["escalation"])] += row["n"]
    if units:
        actions = (
            SupervisionAction.objects.filter(unit__in=list(units)).values("unit").annotate(n=Count("id")).order_by()
        )
        for row in actions:
            units[row["unit"]]["actions"] = row["n"]
    out = []
    for unit, data in units.items():
        counts = data["counts"]
        out.append({
            "unit": unit,
            "levels": [(level.label, counts[level], level.value) for level in LEVELS],
            "total": sum(counts.values()),
            "actions": data["actions"],
        })
    # The units furthest up the ladder first.
    out.sort(key=lambda u: (*(-c for _, c, _ in reversed(u["levels"])), u["unit"]))
    return out
