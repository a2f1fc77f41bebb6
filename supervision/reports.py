"""Figures drawn from the record for the documents and the 通报, and the Chinese date they carry."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count
from django.utils import timezone

from accounts.models import Unit
from compliance import catalogue, escalation
from compliance.catalogue import Severity
from compliance.duties import unit_label
from compliance.models import Finding, FindingStatus, ResponsibleKind, SupervisionLevel

from . import compat
from .models import DocKind, SupervisionDocument

DIGITS = "〇一二三四五六七八九"
LEVEL_RANK = {SupervisionLevel.REMIND: 1, SupervisionLevel.SUPERVISE: 2, SupervisionLevel.INTERVIEW: 3}
STREET = "街办"
DEPARTMENT = "部门"


def chinese_date(day: dt.date) -> str:
    """二〇二六年十二月三日, as a 公文 is dated."""
    year = "".join(DIGITS[int(c)] for c in str(day.year))
    return f"{year}年{catalogue.CHINESE_NUMERALS[day.month]}月{_day(day.day)}日"


def _day(n: int) -> str:
    if n <= 20:
        return catalogue.CHINESE_NUMERALS[n]
    tens, ones = divmod(n, 10)
    return f"{DIGITS[tens]}十{DIGITS[ones] if ones else ''}"


def street_names() -> set[str]:
    from communities.models import SubDistrict

    return set(SubDistrict.objects.values_list("name", flat=True))


def unit_kind(unit: str, streets: set[str]) -> str:
    return STREET if unit in streets else DEPARTMENT


def rule_title(rule_id: str) -> str:
    spec = catalogue.RULES.get(rule_id)
    return spec.title if spec else rule_id


def clause_label(number: int) -> str:
    info = catalogue.CLAUSES.get(number)
    numeral = catalogue.CHINESE_NUMERALS.get(number, str(number))
    return f"措施{numeral}" + (f"（{info.title}）" if info else "")


# ---------------------------------------------------------------- documents


def unit_findings_at_level(unit: str, level: str, *, as_of: dt.date) -> list[dict[str, Any]]:
    """The unit's open findings at ``level`` or above, frozen as the document will print them."""
    if not unit:
        return []
    thresholds = escalation.params(as_of)
    wanted = [lv.value for lv, rank in LEVEL_RANK.items() if rank >= LEVEL_RANK[SupervisionLevel(level)]]
    qs = escalation.with_level(
        Finding.objects.filter(compat.unit_filter(unit), status=FindingStatus.OPEN)
        .select_related("sub_district", "community"),
        thresholds,
    ).filter(escalation__in=wanted).order_by("clause", "rule_id", "target_key", "pk")
    items = []
    for f in qs:
        due = compat.due_date(f)
        items.append({
            "id": f.pk, "rule_id": f.rule_id, "rule": rule_title(f.rule_id), "clause": clause_label(f.clause),
            "target": f.target_label if f.target_type != catalogue.Target.PERSON else "人员（见系统）",
            "community": f.community.name if f.community else "",
            "severity": Severity.label(f.severity), "message": f.message if f.target_type != catalogue.Target.PERSON
            else rule_title(f.rule_id),
            "first_seen": f.first_seen.isoformat(), "due": due.isoformat() if due else "",
            "overdue_days": max((as_of - due).days, 0) if due else 0,
            "level": SupervisionLevel(f.escalation).label,
        })
    return items


def unit_ladder(as_of: dt.date) -> list[dict[str, Any]]:
    """Each 责任单位 with its open findings at 提醒/督办/约谈 (one query), furthest up the ladder first."""
    rows = (
        escalation.with_level(Finding.objects.filter(status=FindingStatus.OPEN), escalation.params(as_of))
        .exclude(escalation="")
        .values("responsible_kind", "responsible_unit", "sub_district__name", "escalation")
        .annotate(n=Count("id")).order_by()
    )
    units: dict[str, dict[str, int]] = defaultdict(lambda: {lv.value: 0 for lv in LEVEL_RANK})
    for r in rows:
        name = (unit_label(r["responsible_unit"]) if r["responsible_kind"] == ResponsibleKind.DEPARTMENT
                else r["sub_district__name"] or str(Unit.CIVIL_AFFAIRS.label))
        units[name][r["escalation"]] += r["n"]
    out: list[dict[str, Any]] = [{"unit": name, **counts} for name, counts in units.items()]
    out.sort(key=lambda u: (-u["interview"], -u["supervise"], -u["remind"], u["unit"]))
    return out


def default_requirement(kind: DocKind, days: int) -> str:
    if kind == DocKind.INTERVIEW:
        return (f"上述问题逾期未整改，已达到约谈条件。请贵单位主要负责同志按通知时间到区民政局接受约谈，"
                f"并于 {days} 日内书面报送整改方案和整改进度。")
    return (f"上述问题逾期未整改。请贵单位高度重视，逐项落实整改措施，于 {days} 日内将整改情况书面报区民政局，"
            f"整改完成后在系统中申请销号。")


# ---------------------------------------------------------------- 通报


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month before a calendar month; otherwise the same number of days just before."""
    if (start, end) == month_bounds(start):
        return month_bounds(start - dt.timedelta(days=1))
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def bulletin_title(start: dt.date, end: dt.date) -> str:
    if (start, end) == month_bounds(start):
        return f"关于{start.year}年{start.month}月社区管理问题整改情况的通报"
    return f"关于{start:%Y-%m-%d}至{end:%Y-%m-%d}社区管理问题整改情况的通报"


def _period_counts(findings: list[Finding], start: dt.date, end: dt.date) -> dict[str, dict[str, int]]:
    """Per unit: found in the period, closed in the period, open and past their 整改期限 at its end."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"new": 0, "closed": 0, "overdue": 0})
    for f in findings:
        closed = compat.closed_on(f)
        due = compat.due_date(f)
        new = start <= f.first_seen <= end
        closed_in = closed is not None and start <= closed <= end
        open_at_end = f.first_seen <= end and (closed is None or closed > end) and f.status != FindingStatus.WAIVED
        overdue = open_at_end and due is not None and due < end
        if not (new or closed_in or overdue):
            continue
        for unit in compat.finding_units(f):
            row = out[unit]
            row["new"] += new
            row["closed"] += closed_in
            row["overdue"] += overdue
    return out


def bulletin_figures(start: dt.date, end: dt.date) -> dict[str, Any]:
    """Everything a 通报 prints, computed once; an issued 通报 keeps these and never recomputes them.

    Notices (提示) carry no 整改期限 and are not counted."""
    prev_start, prev_end = previous_period(start, end)
    findings = list(
        Finding.objects.exclude(severity=Severity.NOTICE).filter(first_seen__lte=end)
        .select_related("sub_district")
        .only("id", "clause", "severity", "status", "first_seen", "last_seen", "resolved_at", "responsible_kind",
              "responsible_unit", "sub_district__name", "due_date")
    )
    current = _period_counts(findings, start, end)
    previous = _period_counts(findings, prev_start, prev_end)
    streets = street_names()
    units = sorted(set(current) | set(previous) | streets,
                   key=lambda u: (unit_kind(u, streets) != STREET, u))
    rows: list[dict[str, Any]] = []
    for unit in units:
        cur, prev = current.get(unit, {}), previous.get(unit, {})
        rows.append({
            "unit": unit, "kind": unit_kind(unit, streets),
            **{k: cur.get(k, 0) for k in ("new", "closed", "overdue")},
            **{f"prev_{k}": prev.get(k, 0) for k in ("new", "closed", "overdue")},
        })
    totals = {k: sum(r[k] for r in rows) for k in ("new", "closed", "overdue", "prev_new", "prev_closed",
                                                   "prev_overdue")}
    documents = [
        {"unit": d.unit, "kind": d.get_kind_display(), "doc_no": d.doc_no, "issued_on": d.issued_on.isoformat(),
         "items": len(d.findings)}
        for d in SupervisionDocument.objects.filter(issued_on__range=(start, end)).order_by("issued_on", "id")
    ]
    ladder = [u for u in unit_ladder(end) if u["supervise"] or u["interview"]]
    return {
        "period": [start.isoformat(), end.isoformat()],
        "previous": [prev_start.isoformat(), prev_end.isoformat()],
        "units": rows, "totals": totals, "documents": documents, "ladder": ladder,
        "computed_at": timezone.now().isoformat(timespec="seconds"),
    }
