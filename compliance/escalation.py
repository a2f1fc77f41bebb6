"""措施二十's 提醒 → 督办 → 约谈: how long a finding has been overdue decides its level.

A violation or warning has a 整改期限 (``Finding.due_date``, see
``compliance.duties``); a notice has none and never escalates. The level is
derived, not stored: a finding still open on its deadline is at 提醒
(``remind_overdue_days`` = 0 days overdue), ``supervise_overdue_days`` past it
at 督办, ``interview_overdue_days`` past it at 约谈. A finding not yet due is at
no level, however long ago it was found.

"On" a date means the as-of date of the latest evaluation that still found the
finding open (``seen_until``: the stored ``last_seen``, written when the
finding was opened or changed, or for an open finding the as-of date of the
latest finished *live* sweep, which confirmed every open finding without
rewriting it). A replay's snapshot is read as of the replay's own date.

The thresholds are dated parameters like the rules' own, stored in
``RuleParameter`` under the key ``escalation`` (not a rule id: rule ids start
with ``M``), so changing them keeps the old values and their dates. (Before
issue 12 the ladder counted days since first found under the names
``remind_days``/``supervise_days``/``interview_days``; rows under those old
names are ignored, not reinterpreted.)
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

from .models import (
    Finding,
    FindingStatus,
    SupervisionAction,
    SupervisionLevel,
    Sweep,
    SweepStatus,
    responsible_name,
)

ESCALATION_KEY = "escalation"
ESCALATION_TITLE = "督导升级（措施二十）"
DEFAULTS: dict[str, int] = {"remind_overdue_days": 0, "supervise_overdue_days": 30, "interview_overdue_days": 90}
PARAM_LABELS = {
    "remind_overdue_days": "超过整改期限多少天“提醒”（0：期限当日）",
    "supervise_overdue_days": "超过整改期限多少天“督办”",
    "interview_overdue_days": "超过整改期限多少天“约谈”",
}
# Highest first: the first threshold a finding reaches is its level.
ORDER = [
    (SupervisionLevel.INTERVIEW, "interview_overdue_days"),
    (SupervisionLevel.SUPERVISE, "supervise_overdue_days"),
    (SupervisionLevel.REMIND, "remind_overdue_days"),
]
LEVELS = [SupervisionLevel.REMIND, SupervisionLevel.SUPERVISE, SupervisionLevel.INTERVIEW]


def params(as_of: dt.date) -> dict[str, int]:
    """The thresholds in force on ``as_of``: defaults overridden by the latest dated value."""
    from .parameters import dated_values

    out = dict(DEFAULTS)
    for _key, name, value in dated_values([ESCALATION_KEY], as_of):
        if name in out:
            out[name] = int(value)
    return out


def days_overdue(due_date: dt.date | None, on: dt.date) -> int | None:
    """Days past the deadline on a date (0 on the deadline, negative before it); None without a deadline."""
    return None if due_date is None else (on - due_date).days


def level_for(overdue: int | None, thresholds: dict[str, int]) -> str:
    if overdue is None:
        return ""
    for level, name in ORDER:
        if overdue >= thresholds[name]:
            return level
    return ""


def _latest_live_sweep_as_of() -> Subquery:
    latest = (Sweep.objects.filter(status=SweepStatus.FINISHED, live=True).order_by("-finished_at", "-id")
              .values("as_of")[:1])
    return Subquery(latest, output_field=DateField())


def seen_until_expression() -> Case:
    """The as-of date an open finding was last seen: a finished live sweep confirms every open finding it
    leaves open, so the latest one's date counts without a write per finding."""
    return Case(
        When(status=FindingStatus.OPEN,
             then=Greatest(F("last_seen"), Coalesce(_latest_live_sweep_as_of(), F("last_seen")),
                           output_field=DateField())),
        default=F("last_seen"), output_field=DateField(),
    )


def seen_until(finding: Finding) -> dt.date:
    if finding.status != FindingStatus.OPEN or finding.pk is None:
        return finding.last_seen
    return Finding.objects.filter(pk=finding.pk).annotate(seen=seen_until_expression()).values_list(
        "seen", flat=True).get()


def with_level(findings: QuerySet, thresholds: dict[str, int], *, as_of: dt.date | None = None) -> QuerySet:
    """Annotate ``escalation`` (a level, or "" when not overdue or without a deadline).

    Live findings (``as_of`` None) are read on their ``seen_until``; a replay's snapshot (``SweepFinding``,
    every row open on the replay's date) on ``as_of``."""
    if as_of is not None:
        whens = [When(due_date__lte=as_of - dt.timedelta(days=thresholds[name]), then=Value(level.value))
                 for level, name in ORDER]
        return findings.annotate(escalation=Case(*whens, default=Value(""), output_field=CharField()))
    qs = findings.annotate(seen_until=seen_until_expression()).annotate(
        overdue_for=ExpressionWrapper(F("seen_until") - F("due_date"), output_field=DurationField())
    )
    whens = [
        When(Q(status=FindingStatus.OPEN, due_date__isnull=False,
               overdue_for__gte=dt.timedelta(days=thresholds[name])), then=Value(level.value))
        for level, name in ORDER
    ]
    return qs.annotate(escalation=Case(*whens, default=Value(""), output_field=CharField()))


def set_levels(findings: Iterable[Finding], thresholds: dict[str, int], latest_as_of: dt.date | None) -> None:
    """``escalation`` on findings already read, as ``with_level`` annotates live ones: for the rows of one page
    of the findings list, where the annotation's CASE cost more to compile than the 50 rows to judge here.
    ``latest_as_of``: the date of the latest finished live sweep (``seen_until_expression``'s), None without one.
    Each row needs its status, due_date and last_seen."""
    for finding in findings:
        level = ""
        if finding.status == FindingStatus.OPEN and finding.due_date is not None:
            seen = finding.last_seen if latest_as_of is None else max(finding.last_seen, latest_as_of)
            level = level_for(days_overdue(finding.due_date, seen), thresholds)
        finding.escalation = str(level)  # type: ignore[attr-defined]  # the annotation's name


def unit_for(finding: Any) -> str:
    """Who answers, as people read it: the 街办's name or the department's (compliance.duties)."""
    return finding.responsible_name


def ladder(findings: QuerySet, thresholds: dict[str, int], *, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Each responsible unit with its open findings at 提醒/督办/约谈 and the actions taken (two queries).

    ``findings``: live findings, or with ``as_of`` a replay's snapshot read on that date."""
    if as_of is None:
        findings = findings.filter(status=FindingStatus.OPEN)
    rows = (
        with_level(findings.filter(due_date__isnull=False), thresholds, as_of=as_of)
        .exclude(escalation="")
        .values("responsible_kind", "responsible_unit", "sub_district__name", "escalation")
        .annotate(n=Count("id"))
        .order_by()
    )
    units: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"counts": dict.fromkeys(LEVELS, 0), "actions": 0, "kind": ""})
    for row in rows:
        street = row["sub_district__name"]
        unit = responsible_name(row["responsible_kind"], row["responsible_unit"],
                                _Named(street) if street else None)
        units[unit]["counts"][SupervisionLevel(row["escalation"])] += row["n"]
        units[unit]["kind"] = row["responsible_kind"]
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
            "kind": data["kind"],
            "levels": [(level.label, counts[level], level.value) for level in LEVELS],
            "total": sum(counts.values()),
            "actions": data["actions"],
            "top": next((level.value for level in reversed(LEVELS) if counts[level]), ""),
        })
    # The units furthest up the ladder first.
    out.sort(key=lambda u: (*(-c for _, c, _ in reversed(u["levels"])), u["unit"]))
    return out


class _Named:
    """A 街办 read as a name only (the ladder groups by name, not by row)."""

    def __init__(self, name: str) -> None:
        self.name = name
