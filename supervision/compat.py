"""What supervision reads from and asks of the compliance app, in one place.

The compliance app owns findings: who answers (``responsible_kind``/
``responsible_unit`` from ``compliance.duties``), the 整改期限, the statuses,
the history kinds and the service that closes a finding after review. This
app never writes compliance's tables except through that service and the
FindingEvent rows compliance defines for the 整改 workflow.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from accounts.models import Unit
from compliance import catalogue
from compliance.models import Finding, FindingEvent, FindingEventKind, FindingStatus, ResponsibleKind

# Days to put a finding right when compliance records no 整改期限 of its own (by severity).
FALLBACK_DUE_DAYS = {catalogue.Severity.VIOLATION: 30, catalogue.Severity.WARNING: 60}


def event_kind(action: str) -> str:
    """The FindingEvent kind a 整改 step is written as."""
    return {
        "measures": FindingEventKind.MEASURES,
        "request": FindingEventKind.CLOSE_REQUESTED,
        "return": FindingEventKind.RETURNED,
        "close": FindingEventKind.CLOSED,
    }[action]


def finding_units(finding: Finding) -> list[str]:
    """The unit answering for a finding, by name: its 街办, or the department compliance.duties names."""
    name = finding.responsible_name
    if name:
        return [name]
    # A 街办-kind finding with no 街办 (a district-wide one): 区民政局 answers (措施二十's 牵头单位).
    return [str(Unit.CIVIL_AFFAIRS.label)]


def finding_unit(finding: Finding) -> str:
    return "、".join(finding_units(finding))


def unit_filter(unit: str) -> Q:
    """The findings answered for by the unit named ``unit`` (a 街办's or a department's name)."""
    codes = {str(u.label): u.value for u in Unit}
    if unit in codes:
        cond = Q(responsible_kind=ResponsibleKind.DEPARTMENT, responsible_unit=codes[unit])
        if codes[unit] == Unit.CIVIL_AFFAIRS.value:
            cond |= Q(responsible_kind=ResponsibleKind.STREET, sub_district__isnull=True)
        return cond
    return Q(responsible_kind=ResponsibleKind.STREET, sub_district__name=unit)


def due_date(finding: Finding) -> dt.date | None:
    """整改期限; notices have none."""
    if finding.severity == catalogue.Severity.NOTICE:
        return None
    if finding.due_date is not None:
        return finding.due_date
    # Findings written before 整改期限 were recorded: the default days by severity.
    return finding.first_seen + dt.timedelta(days=FALLBACK_DUE_DAYS.get(finding.severity, 30))


def closed_on(finding: Finding) -> dt.date | None:
    """The day a finding stopped being open (data resolved or 销号), in Asia/Shanghai."""
    if finding.status in (FindingStatus.OPEN, FindingStatus.WAIVED):
        return None
    stamp = finding.resolved_at
    return timezone.localdate(stamp) if stamp else finding.last_seen


def is_open(finding: Finding) -> bool:
    return finding.status == FindingStatus.OPEN


def closed_status_values() -> list[str]:
    """Every status meaning "no longer open and not waived"."""
    return [s for s in FindingStatus.values if s not in (FindingStatus.OPEN, FindingStatus.WAIVED)]


def close_by_review(*, finding: Finding, user, note: str) -> None:
    """销号: compliance's own service when it has one; otherwise the finding is marked 已整改 with a 销号 event."""
    from compliance.services import finding_close_by_review

    finding_close_by_review(finding=finding, user=user, note=note)


def record_event(*, finding: Finding, action: str, user, note: str) -> None:
    FindingEvent.objects.create(finding=finding, kind=event_kind(action), user=user, as_of=timezone.localdate(),
                                severity=finding.severity, note=note)
