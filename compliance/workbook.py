"""The compliance workbook: a summary (街办 × 措施, counts by severity) and one sheet per 措施.

Written by ``manage.py export_compliance`` and downloaded from the dashboard (a background export job when it
is large, see ``exports.jobs``); a clerk's copy holds their own 街办's rows (``findings_for_user``). Registered
with the exports registry in ``compliance/ledgers.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from communities.models import Community, SubDistrict
from compliance import requirements as reqs
from compliance.catalogue import CHINESE_NUMERALS, CLAUSES, RULES, Severity, Target
from compliance.models import Finding, FindingStatus, Sweep, SweepStatus
from compliance.names import rule_name
from compliance.policy import NO_RULE_REASONS
from compliance.selectors import findings_for_user, streets_for_user, sweep_findings_for_user
from core.writer import DATE, Col, XlsxBook, is_dangerous, text_width

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


def _street_communities(user, streets: list[tuple[str, str]], findings) -> tuple[dict, dict]:
    """Per 街办: judged communities, and those with an open violation (two queries)."""

    codes = [code for code, _name in streets]
    total = dict(Community.objects.judged().filter(sub_district_id__in=codes).order_by()
                 .values_list("sub_district_id").annotate(n=Count("id")))
    failing = dict(findings.filter(severity=Severity.VIOLATION, community__isnull=False).order_by()
                   .values_list("community__sub_district_id").annotate(n=Count("community_id", distinct=True)))
    return total, failing


def findings_count(user, as_of: dt.date | None) -> int:
    """The finding rows the workbook of ``user`` as of ``as_of`` will hold (the 措施 sheets' rows)."""
    return findings_as_of(user, as_of)[0].count()


def write_compliance_workbook(book: XlsxBook, *, user=None, as_of: dt.date | None = None,
                              progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Fill ``book``; returns the number of findings per 措施 sheet (keyed by sheet name). ``progress(n)`` is
    called now and then with the finding rows written so far (a background export's progress bar).

    汇总 is written row by row, top to bottom (constant-memory mode drops a cell written to a row
    above the current one): title lines, the 措施 heading row (each merged over its severity
    columns), the severity row, one row per 街办, the row of findings that belong to no 街办,
    and the 全区 row.
    """

    findings, as_of, sweep = findings_as_of(user, as_of)
    book.footer = f"&L评估日期 {as_of:%Y-%m-%d}&R第 &P 页，共 &N 页"
    streets = list((SubDistrict.objects.all() if user is None else streets_for_user(user))
                   .order_by("code").values_list("code", "name"))
    counts: dict[tuple[str | None, int, str], int] = defaultdict(int)
    for street, clause, severity, n in (findings.order_by().values("sub_district_id", "clause", "severity")
                                        .annotate(n=Count("id")).values_list("sub_district_id", "clause", "severity",
                                                                             "n")):
        counts[(street, clause, severity)] += n
    communities, failing = _street_communities(user, streets, findings)

    source = (f"{'回放' if not sweep.live else ''}巡检 #{sweep.pk}（评估日期 {sweep.as_of:%Y-%m-%d}，"
              f"{timezone.localtime(sweep.finished_at):%Y-%m-%d %H:%M} 完成）"
              + ("：回放当日的问题快照，不是实时问题清单" if not sweep.live else "")
              if sweep is not None and sweep.finished_at else "尚无完成的巡检：为保存时即时评估的结果")
    scope = "全区" if user is None or len(streets) == SubDistrict.objects.count() else "、".join(n for _c, n in streets)
    severities = Severity.CHOICES
    clauses = list(CLAUSES.values())
    ruled = {spec.clause for spec in _rules()}
    summary = book.book.add_worksheet(book.unique_name("汇总"))
    head, bold = book.head, book.bold
    group_head = book.book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center",
                                       "valign": "vcenter", "text_wrap": True})
    share = book.book.add_format({"num_format": "0.0%"})
    share_bold = book.book.add_format({"num_format": "0.0%", "bold": True})
    int_bold = book.book.add_format({"num_format": "#,##0", "bold": True})
    summary.write_string(0, 0, "莲湖区社区管理合规情况（未整改问题数，按严重程度）", bold)
    summary.write_string(1, 0, "评估日期")
    summary.write_datetime(1, 1, as_of, book.date)
    summary.write_string(2, 0, "数据来源")
    summary.write_string(2, 1, source)
    summary.write_string(3, 0, "范围")
    summary.write_string(3, 1, scope, book.quoted if is_dangerous(scope) else None)
    no_rule = "、".join(f"措施{c.numeral}" for c in clauses if c.number not in ruled)
    summary.write_string(4, 0, (f"{no_rule}没有可从台账数据判断的量化规则，其列恒为 0，原因见各自工作表。" if no_rule else "")
                         + "“无违规社区占比”按未撤销社区计。", book.note)
    width = len(severities)
    extra = 1 + (len(clauses) + 1) * width  # first column after the 合计 group
    extra_heads = ("社区数", "无违规社区数", "无违规社区占比")
    # Row 6 (index 5): the 措施 headings, each over its severity columns.
    for i, clause in enumerate([*clauses, None]):
        first = 1 + i * width
        title = f"措施{clause.numeral}·{clause.title}" if clause is not None else "合计"
        summary.merge_range(5, first, 5, first + width - 1, title, group_head)
    summary.merge_range(5, extra, 5, extra + len(extra_heads) - 1, "社区", group_head)
    summary.merge_range(5, 0, 6, 0, "街道办事处", group_head)  # last cell of row 6: row 7 starts below
    for i in range(len(clauses) + 1):
        for j, (_sev, label) in enumerate(severities):
            summary.write_string(6, 1 + i * width + j, label, head)
    for j, label in enumerate(extra_heads):
        summary.write_string(6, extra + j, label, head)
    summary.set_row(5, 48)
    row = 7
    district_totals: defaultdict[tuple[int, str], int] = defaultdict(int)
    for code, name in [*streets, (None, NO_STREET)]:
        summary.write_string(row, 0, name, book.quoted if is_dangerous(name) else None)
        totals: defaultdict[str, int] = defaultdict(int)
        for i, clause in enumerate(clauses):
            for j, (sev, _label) in enumerate(severities):
                n = counts.get((code, clause.number, sev), 0)
                totals[sev] += n
                district_totals[(clause.number, sev)] += n
                summary.write_number(row, 1 + i * width + j, n, book.integer)
        for j, (sev, _label) in enumerate(severities):
            summary.write_number(row, 1 + len(clauses) * width + j, totals[sev], book.integer)
        if code is not None:
            n_all, n_bad = communities.get(code, 0), failing.get(code, 0)
            summary.write_number(row, extra, n_all, book.integer)
            summary.write_number(row, extra + 1, n_all - n_bad, book.integer)
            if n_all:
                summary.write_number(row, extra + 2, (n_all - n_bad) / n_all, share)
        row += 1
    summary.write_string(row, 0, "全区", bold)
    for i, clause in enumerate(clauses):
        for j, (sev, _label) in enumerate(severities):
            summary.write_number(row, 1 + i * width + j, district_totals[(clause.number, sev)], int_bold)
    for j, (sev, _label) in enumerate(severities):
        summary.write_number(row, 1 + len(clauses) * width + j,
                             sum(v for (_c, s), v in district_totals.items() if s == sev), int_bold)
    n_all, n_bad = sum(communities.values()), sum(failing.values())
    summary.write_number(row, extra, n_all, int_bold)
    summary.write_number(row, extra + 1, n_all - n_bad, int_bold)
    if n_all:
        summary.write_number(row, extra + 2, (n_all - n_bad) / n_all, share_bold)
    last_col = extra + len(extra_heads) - 1
    summary.set_column(0, 0, max(14, *(text_width(n) + 2 for _c, n in [*streets, (None, NO_STREET)])))
    summary.set_column(1, extra - 1, 7)
    summary.set_column(extra, extra + 1, 9)
    summary.set_column(extra + 2, extra + 2, 12)
    summary.freeze_panes(7, 1)
    summary.autofilter(6, 0, row, last_col)
    book.print_setup(summary, header_rows=(5, 6))
    summary.repeat_columns(0)

    cols: list[str | Col] = [
        Col("社区代码", width=14), Col("社区名称"), Col("街道办事处"), "对象类型", Col("对象编号"), Col("规则"),
        Col("规则编号"), "严重程度", Col("实测", "any"), Col("应达", "any"), Col("说明", width=40),
        Col("责任单位"), Col("整改期限", DATE), Col("首次发现", DATE),
    ]
    rule_names: dict[int, list[str]] = defaultdict(list)
    for spec in _rules():
        rule_names[spec.clause].append(rule_name(spec.id))
    sheets = {}
    for c in clauses:
        lines: list[list[Any]] = [[f"措施{c.numeral}·{c.title}（牵头：{c.lead_text}；责任：{c.responsible_text}）"]]
        if c.number in NO_RULE_REASONS or not rule_names.get(c.number):
            lines.append([f"本措施没有合规规则，本表不会有问题记录。{NO_RULE_REASONS.get(c.number, '')}"])
        else:
            lines.append([f"规则：{'、'.join(rule_names[c.number])}；评估日期 {as_of:%Y-%m-%d}"])
        sheets[c.number] = book.sheet(f"措施{c.numeral}", cols, preamble=lines)
    target_label, severity_label = dict(Target.CHOICES), dict(Severity.CHOICES)
    rows = findings.order_by("clause", "sub_district_id", "community__code", "rule_id", "target_key").values_list(
        "clause", "community__code", "community__name", "sub_district__name", "target_type", "target_key", "rule_id",
        "severity", "measured", "required", "message", "responsible_unit", "due_date", "first_seen",
    )
    names = {spec.id: rule_name(spec.id) for spec in _rules()}
    written: dict[str, int] = {}
    done = 0
    for (clause, c_code, c_name, s_name, t_type, t_key, rule_id, severity, measured, required, message, unit, due,
         first_seen) in rows.iterator(chunk_size=CHUNK):
        if clause not in sheets:
            continue
        ws = sheets[clause]
        done += 1
        if progress is not None and done % CHUNK == 0:
            progress(done)
        # A district-wide finding's key is the word "district": people read 全区.
        key = "全区" if t_type == Target.DISTRICT else t_key
        ws.append([c_code, c_name, s_name or NO_STREET, target_label.get(t_type, t_type), key,
                   names.get(rule_id, rule_id), rule_id, severity_label.get(severity, severity), _cell(measured),
                   _cell(required), message, unit, due, first_seen])
    for ws in sheets.values():
        written[ws.name] = ws.rows_written
    _requirements_sheet(book, names)
    return written


def _requirements_sheet(book: XlsxBook, names: dict[str, str]) -> None:
    """The policy sub-clause by sub-clause (issue 15): each requirement quoted, with what the system does about it.
    Not a measure sheet: the count of findings written leaves it out."""

    counts = "；".join(f"{reqs.STATUS_LABELS[k]} {n} 项" for k, n in reqs.status_counts().items())
    ws = book.sheet("条款要求", [
        Col("编号", width=8), Col("措施", width=10), Col("政策原文", width=60), Col("状态", width=10),
        Col("检查的规则", width=36), Col("规则编号", width=26), Col("记录位置或不可检查的理由", width=60),
    ], preamble=[[f"20 条措施和审批流程八步共 {len(reqs.REQUIREMENTS)} 项要求：{counts}"]])
    for r in reqs.REQUIREMENTS:
        clause = "附件·审批流程" if r.clause == reqs.ATTACHMENT else f"措施{CHINESE_NUMERALS[r.clause]}"
        ws.append([r.id, clause, r.quote, r.status_label, "、".join(names.get(i, i) for i in r.rules),
                   "、".join(r.rules), r.where or r.reason])


def _rules():

    return sorted(RULES.values(), key=lambda s: (s.clause, s.id))
