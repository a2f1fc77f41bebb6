"""Findings made directly, for page tests that need exact counts without running the rules."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from compliance import catalogue, duties
from compliance.models import Finding

_counter = {"n": 0}


def finding(*, community=None, rule_id="M04.households", severity=None, status="open", street=None,
            target_type=None, first_seen=date(2025, 1, 1), last_seen=None, message="户数 500 户，低于下限 1000 户",
            by_duty=False, **extra) -> Finding:
    _counter["n"] += 1
    spec = catalogue.RULES[rule_id]
    target_type = target_type or spec.target
    if community is not None:
        key, pk = community.code, community.pk
        street_code = community.sub_district_id
    else:
        key = "district" if target_type == "district" else f"XQ{_counter['n']:05d}"
        pk = 0 if target_type == "district" else 100000 + _counter["n"]
        street_code = street.code if street is not None else None
    if target_type not in ("community", "district") and community is not None:
        key, pk = f"T{_counter['n']:05d}", 200000 + _counter["n"]
    severity = severity or spec.severity
    if by_duty:
        # Who answers, as the engine would file it (compliance.duties); otherwise the 街办 (the model default).
        kind, unit = duties.duty(rule_id).unit_for(street_code)
        extra.setdefault("responsible_kind", kind)
        extra.setdefault("responsible_unit", unit)
        extra.setdefault("lead_unit", duties.duty(rule_id).lead_code)
    # By when: the default days by severity from first found, unless the test says; notices none.
    if "due_date" not in extra and severity != "notice":
        extra["due_date"] = first_seen + timedelta(days=duties.DEADLINE_DEFAULTS.get(f"{severity}_days", 30))
    return Finding.objects.create(
        rule_id=rule_id, clause=spec.clause, target_type=target_type, target_key=key, target_pk=pk,
        community=community, sub_district_id=street_code, severity=severity, measured=500,
        required=1000, message=message, status=status, first_seen=first_seen, last_seen=last_seen or first_seen,
        opened_at=timezone.now(), **extra,
    )
