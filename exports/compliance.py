"""The compliance workbook: a summary (街办 × 措施, counts by severity) and one sheet per 措施.

Written by ``manage.py export_compliance`` and downloaded from the dashboard;
a clerk's copy holds their own 街办's rows (``findings_for_user``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from .writer import DATE, Col, XlsxBook, is_dangerous

CHUNK = 5_000
NO_STREET = "全区/未划街办"


def _cell(value: Any) -> Any:
    """A JSON measured/required value: numbers stay numbers, text stays text, anything else as JSON."""
    if value is None or isinstance(value, int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False)


def findings_as_of(user, as_of: dt.date | None):
    """(findings, as_of, sweep) that ``user`` sees.

    Without ``as_of``: the live findings open now, as of today, with the last live sweep as the source. With
    ``as_of`` D: the snapshot of the latest finished replay as of D (``compliance_sweep --as-of D``); with no
    replay of D, the live records read as they stood on D (found by then, not closed by then)."""
    from compliance.models import Finding, FindingStatus, Sweep, SweepStatus
    from compliance.selectors import findings_for_user, sweep_findings_for_user

    finished = Sweep.objects.filter(status=SweepStatus.FINISHED)
    if as_of is None:
        sweep = finished.filter(live=True).order_by("-finished_at", "-id").first()
        qs = Finding.objects.all() if user is None else findings_for_user(user)
        return qs.filter(status=FindingStatus.OPEN), timezone.localdate(), sweep
    replay = finished.filter(live=False, as_of=as_of).order_by("-finished_at", "-id").first()
    if replay is not None:
        return sweep_findings_for_user(user, replay), as_of, replay
    sweep = finished.filter(live=True, as_of__lte=as_of).order_by("-as_of", "-finished_at", "-id").first()
    qs = Finding.objects.all() if user is None else findings_for_user(user)
    # Open on that day: seen by then and neither closed (data passing, or 销号) by then nor waived.
    qs = qs.filter(first_seen__lte=as_of).filter(
        Q(status=FindingStatus.OPEN)
        | Q(status__in=[FindingStatus.RESOLVED, FindingStatus.CLOSED], resolved_at__date__gt=as_of)
    )
    return qs, as_of, sweep


def write_compliance_workbook(book: XlsxBook, *, user=None, as_of: dt.date | None = None) -> dict[str, int]:
    """Fill ``book``; returns the number of findings per 措施 sheet (keyed by sheet name)."""
    from communities.models import SubDistrict
    from compliance.catalogue import CLAUSES, Severity, Target
    from compliance.selectors import streets_for_user

    findings, as_of, sweep = findings_as_of(user, as_of)
    streets = list((SubDistrict.objects.all() if user is None else streets_for_user(user))
                   .order_by("code").values_list("code", "name"))
    counts: dict[tuple[str | None, int, str], int] = defaultdict(int)
    for street, clause, severity, n in (findings.order_by().values("sub_district_id", "clause", "severity")
                                        .annotate(n=Count("id")).values_list("sub_district_id", "clause", "severity",
                                                                             "n")):
        counts[(street, clause, severity)] += n

    source = (f"{'回放' if not sweep.live else ''}巡检 #{sweep.pk}（评估日期 {sweep.as_of:%Y-%m-%d}，"
              f"{timezone.localtime(sweep.finished_at):%Y-%m-%d %H:%M} 完成）"
              + ("：回放当日的问题快照，不是实时问题清单" if not sweep.live else "")
              if sweep is not None and sweep.finished_at else "尚无完成的巡检：为保存时即时评估的结果")
    scope = "全区" if user is None or len(streets) == SubDistrict.objects.count() else "、".join(n for _c, n in streets)
    severities = Severity.CHOICES
    summary = book.book.add_worksheet(book.unique_name("汇总"))
    head, bold = book.head, book.bold
    summary.write_string(0, 0, "莲湖区社区管理合规情况（未整改问题数，按严重程度）", bold)
    summary.write_string(1, 0, "评估日期")
    summary.write_datetime(1, 1, as_of, book.date)
    summary.write_string(2, 0, "数据来源")
    summary.write_string(2, 1, source)
    summary.write_string(3, 0, "范围")
    summary.write_string(3, 1, scope, book.quoted if is_dangerous(scope) else None)
    clauses = list(CLAUSES.values())
    summary.write_string(5, 0, "街道办事处", head)
    summary.write_string(6, 0, "", head)
    for i, clause in enumerate([*clauses, None]):
        first = 1 + i * len(severities)
        title = f"措施{clause.numeral}" if clause is not None else "合计"
        summary.merge_range(5, first, 5, first + len(severities) - 1, title, head)
        for j, (_sev, label) in enumerate(severities):
            summary.write_string(6, first + j, label, head)
    summary.set_column(0, 0, 16)
    summary.freeze_panes(7, 1)
    row = 7
    for code, name in [*streets, (None, NO_STREET), ("*", "合计")]:
        summary.write_string(row, 0, name, bold if code == "*" else (book.quoted if is_dangerous(name) else None))
        totals: defaultdict[str, int] = defaultdict(int)
        for i, clause in enumerate(clauses):
            for j, (sev, _label) in enumerate(severities):
                if code == "*":
                    n = sum(v for (_s, c, sv), v in counts.items() if c == clause.number and sv == sev)
                else:
                    n = counts.get((code, clause.number, sev), 0)
                totals[sev] += n
                summary.write_number(row, 1 + i * len(severities) + j, n)
        for j, (sev, _label) in enumerate(severities):
            summary.write_number(row, 1 + len(clauses) * len(severities) + j, totals[sev])
        row += 1

    cols: list[str | Col] = [Col("社区代码", width=15), Col("社区名称", width=22), Col("街道办事处", width=14), "对象类型",
            Col("对象编号", width=18), Col("规则编号", width=22), "严重程度", Col("实测", "any"), Col("应达", "any"),
            Col("说明", width=60), Col("首次发现", DATE)]
    sheets = {c.number: book.sheet(f"措施{c.numeral}", cols) for c in clauses}
    for ws in sheets.values():
        ws.freeze_header()
    target_label, severity_label = dict(Target.CHOICES), dict(Severity.CHOICES)
    rows = findings.order_by("clause", "sub_district_id", "community__code", "rule_id", "target_key").values_list(
        "clause", "community__code", "community__name", "sub_district__name", "target_type", "target_key", "rule_id",
        "severity", "measured", "required", "message", "first_seen",
    )
    written: dict[str, int] = {}
    for (clause, c_code, c_name, s_name, t_type, t_key, rule_id, severity, measured, required, message,
         first_seen) in rows.iterator(chunk_size=CHUNK):
        if clause not in sheets:
            continue
        ws = sheets[clause]
        ws.append([c_code, c_name, s_name or NO_STREET, target_label.get(t_type, t_type), t_key, rule_id,
                   severity_label.get(severity, severity), _cell(measured), _cell(required), message, first_seen])
    for ws in sheets.values():
        written[ws.name] = ws.rows_written
    return written
