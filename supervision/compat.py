"""What supervision reads from and asks of the compliance app, in one place.

The compliance app owns findings (their responsible unit, 整改期限, statuses,
history kinds and the service that closes a finding after review). These
adapters use those when present and fall back to an equivalent reading
otherwise, so this app never writes compliance's tables except through its
services (or, for the history, the FindingEvent rows the app defines).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from compliance import catalogue, escalation
from compliance.models import Finding, FindingEvent, FindingEventKind, FindingStatus

# Days to put a finding right when compliance records no 整改期限 of its own (by severity).
FALLBACK_DUE_DAYS = {catalogue.Severity.VIOLATION: 30, catalogue.Severity.WARNING: 60}


def _kind(name: str, fallback: str) -> str:
    return str(getattr(FindingEventKind, name, fallback))


def event_kind(action: str) -> str:
    """The FindingEvent kind a 整改 step is written as."""
    return {
        "measures": _kind("MEASURES", "measures"),
        "request": _kind("CLOSE_REQUESTED", "close_requested"),
        "return": _kind("RETURNED", "returned"),
        "close": _kind("CLOSED", "closed"),
    }[action]


def finding_units(finding: Finding) -> list[str]:
    """The unit(s) answering for a finding: compliance's 责任单位, or the ladder's reading of the clause."""
    unit = (finding.responsible_unit or "").strip()
    if not unit:
        street = finding.sub_district.name if finding.sub_district_id and finding.sub_district else None
        unit = escalation.unit_for(finding.clause, street)
    return [u for u in unit.split("、") if u]


def finding_unit(finding: Finding) -> str:
    return "、".join(finding_units(finding))


def due_date(finding: Finding) -> dt.date | None:
    """整改期限; notices have none."""
    if finding.severity == catalogue.Severity.NOTICE:
        return None
    own = getattr(finding, "due_date", None)
    if own is not None:
        return own
    return finding.first_seen + dt.timedelta(days=FALLBACK_DUE_DAYS.get(finding.severity, 30))


def closed_on(finding: Finding) -> dt.date | None:
    """The day a finding stopped being open (data resolved or 销号), in Asia/Shanghai."""
    if finding.status in (FindingStatus.OPEN, FindingStatus.WAIVED):
        return None
    stamp = getattr(finding, "closed_at", None) or finding.resolved_at
    return timezone.localdate(stamp) if stamp else finding.last_seen


def is_open(finding: Finding) -> bool:
    return finding.status == FindingStatus.OPEN


def closed_status_values() -> list[str]:
    """Every status meaning "no longer open and not waived"."""
    return [s for s in FindingStatus.values if s not in (FindingStatus.OPEN, FindingStatus.WAIVED)]


def close_by_review(*, finding: Finding, user, note: str) -> None:
    """销号: compliance's own service when it has one; otherwise the finding is marked 已整改 with a 销号 event."""
    from compliance import services

    closer: Any = getattr(services, "finding_close_by_review", None)
    if closer is not None:
        closer(finding=finding, user=user, note=note)
        return
    Finding.objects.filter(pk=finding.pk).update(status=FindingStatus.RESOLVED, resolved_at=timezone.now())
    FindingEvent.objects.create(finding=finding, kind=event_kind("close"), user=user, as_of=timezone.localdate(),
                                severity=finding.severity, note=note)


def record_event(*, finding: Finding, action: str, user, note: str) -> None:
    FindingEvent.objects.create(finding=finding, kind=event_kind(action), user=user, as_of=timezone.localdate(),
                                severity=finding.severity, note=note)
