"""export_compliance FILE.xlsx [--as-of D] and the dashboard's download of the same workbook."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from compliance.catalogue import CLAUSES
from compliance.models import Finding, FindingStatus, Sweep
from compliance.names import rule_name
from compliance.selectors import findings_for_user

pytestmark = pytest.mark.django_db

AS_OF = "2025-06-30"


@pytest.fixture(autouse=True)
def _live_on_as_of(today):
    """These sweeps are today's (live) sweeps: "today" is the as-of date."""
    today(dt.date.fromisoformat(AS_OF))
SHEETS = ["汇总", *(f"措施{c.numeral}" for c in CLAUSES.values())]
HEADERS = ("社区代码", "社区名称", "街道办事处", "对象类型", "对象编号", "规则", "规则编号", "严重程度", "实测", "应达",
           "说明", "责任单位", "整改期限", "首次发现")
HEADER_ROW = 3  # two lines about the 措施 above the table
RULE_ID = 6  # column of the rule id


@pytest.fixture
def swept(district):
    call_command("compliance_sweep", "--as-of", AS_OF, stdout=io.StringIO())
    assert Finding.objects.filter(status=FindingStatus.OPEN).exists()
    return Sweep.objects.get()


def findings(book) -> list[tuple]:
    return [row for name in SHEETS[1:] for row in book[name].iter_rows(min_row=HEADER_ROW + 1, values_only=True)]


def test_command_writes_summary_and_one_sheet_per_clause(tmp_path, swept):
    path = tmp_path / "合规.xlsx"
    out = io.StringIO()
    call_command("export_compliance", str(path), "--as-of", AS_OF, stdout=out)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [*SHEETS, "条款要求"]
    summary = book["汇总"]
    assert summary["B2"].value == dt.datetime(2025, 6, 30)
    assert f"巡检 #{swept.pk}" in summary["B3"].value and AS_OF in summary["B3"].value
    open_findings = Finding.objects.filter(status=FindingStatus.OPEN)
    rows = findings(book)
    assert len(rows) == open_findings.count() and f"{len(rows)} 条问题" in out.getvalue()
    for name in SHEETS[1:]:
        assert next(book[name].iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, values_only=True)) == HEADERS
    by_rule = Counter(r[RULE_ID] for r in rows)
    assert by_rule == Counter(open_findings.values_list("rule_id", flat=True))
    finding = open_findings.filter(community__isnull=False).select_related("community").first()
    row = next(r for r in rows if r[RULE_ID] == finding.rule_id and r[4] == finding.target_key)
    assert row[:3] == (finding.community.code, finding.community.name, finding.community.sub_district.name)
    assert row[5] == rule_name(finding.rule_id)
    assert row[13] == dt.datetime.combine(finding.first_seen, dt.time())
    assert not isinstance(finding.measured, int | float) or isinstance(row[8], int | float)
    assert "district" not in {r[4] for r in rows}

    # The summary's 全区 row, 合计 columns: violations/warnings/notices over the whole district.
    table = list(summary.iter_rows(min_row=8, values_only=True))
    total = next(r for r in table if r[0] == "全区")
    by_severity = Counter(open_findings.values_list("severity", flat=True))
    total_col = 1 + len(CLAUSES) * 3
    assert total[total_col:total_col + 3] == (by_severity["violation"], by_severity["warning"], by_severity["notice"])
    street_rows = {r[0] for r in table}
    assert {"青年路街道", "枣园街道", "全区/未划街办", "全区"} <= street_rows


def test_workbook_lists_every_requirement_with_its_status(tmp_path, swept):
    """Issue 15: the policy sub-clause by sub-clause, as the catalogue page lists it."""
    from compliance import requirements as reqs

    path = tmp_path / "合规.xlsx"
    call_command("export_compliance", str(path), stdout=io.StringIO())
    sheet = openpyxl.load_workbook(path)["条款要求"]
    assert f"共 {len(reqs.REQUIREMENTS)} 项要求" in sheet["A1"].value
    rows = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True) if r[0]}
    assert set(rows) == {r.id for r in reqs.REQUIREMENTS}
    r042 = rows["R04.2"]
    assert r042[1] == "措施四" and r042[3] == "规则检查" and r042[5] == "M04.households、M04.population"
    assert rule_name("M04.households") in r042[4]
    assert rows["A1"][1] == "附件·审批流程" and rows["A1"][3] == "系统记录" and rows["A1"][6]
    assert all(row[3] in reqs.STATUS_LABELS.values() for row in rows.values())


def test_as_of_before_any_finding_gives_empty_sheets(tmp_path, swept):
    path = tmp_path / "早.xlsx"
    call_command("export_compliance", str(path), "--as-of", "2000-01-01", stdout=io.StringIO())
    book = openpyxl.load_workbook(path)
    assert findings(book) == []
    assert "尚无完成的巡检" in book["汇总"]["B3"].value


def test_bad_arguments(tmp_path):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_compliance", str(tmp_path / "a.xlsx"), "--as-of", "30/06/2025")
    with pytest.raises(CommandError, match=r"\.xlsx"):
        call_command("export_compliance", str(tmp_path / "a.csv"))


def test_dashboard_download_is_scoped_to_the_clerk(client, swept, clerk_qingnian, admin_user):
    client.force_login(clerk_qingnian)
    assert reverse("exports:compliance") in client.get(reverse("compliance:dashboard")).content.decode()
    response = client.get(reverse("exports:compliance"))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = findings(book)
    assert {r[2] for r in rows} <= {"青年路街道", "全区/未划街办"}
    visible = findings_for_user(clerk_qingnian).filter(status=FindingStatus.OPEN)
    assert len(rows) == visible.count()
    assert "枣园街道" not in [r[0] for r in book["汇总"].iter_rows(values_only=True)]

    client.force_login(admin_user)
    book = openpyxl.load_workbook(io.BytesIO(b"".join(client.get(reverse("exports:compliance")).streaming_content)))
    assert len(findings(book)) == Finding.objects.filter(status=FindingStatus.OPEN).count() > len(rows)


def _columns_with_width(ws) -> set[int]:
    """Column indexes (1-based) that a <col> element gives a width (openpyxl groups equal neighbours)."""
    out: set[int] = set()
    for dim in ws.column_dimensions.values():
        if dim.width:
            out |= set(range(dim.min, dim.max + 1))
    return out


def assert_readable_and_printable(ws, header_row: int, date_text: str) -> None:
    """Widths on every used column, header frozen, autofilter over the header, A4 landscape, footer."""
    used = set(range(1, ws.max_column + 1))
    assert used <= _columns_with_width(ws), (ws.title, sorted(used - _columns_with_width(ws)))
    assert ws.freeze_panes is not None and int(ws.freeze_panes[1:]) == header_row + 1
    assert ws.auto_filter.ref and ws.auto_filter.ref.split(":")[0].endswith(str(header_row))
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.print_title_rows and str(header_row) in ws.print_title_rows
    assert date_text in ws.oddFooter.left.text and "&P" in ws.oddFooter.right.text


def test_workbook_reads_and_prints(tmp_path, swept):
    """汇总: each 措施's heading merged over its three severity columns; per 街办 the share of communities
    without a violation; every sheet sized, filtered, frozen and set up for A4 landscape printing."""
    path = tmp_path / "合规.xlsx"
    call_command("export_compliance", str(path), "--as-of", AS_OF, stdout=io.StringIO())
    book = openpyxl.load_workbook(path)
    summary = book["汇总"]
    merged = {(r.min_row, r.min_col, r.max_col): summary.cell(r.min_row, r.min_col).value
              for r in summary.merged_cells.ranges}
    for i, clause in enumerate(CLAUSES.values()):
        first = 2 + i * 3
        assert merged[(6, first, first + 2)] == f"措施{clause.numeral}·{clause.title}"
        assert [summary.cell(7, first + j).value for j in range(3)] == ["违规", "预警", "提示"]
    assert summary["A6"].value == "街道办事处"
    heads = [c.value for c in summary[7]]
    assert heads[-3:] == ["社区数", "无违规社区数", "无违规社区占比"]
    district = next(r for r in summary.iter_rows(min_row=8, values_only=True) if r[0] == "全区")
    assert district[-3] >= district[-2] >= 0 and 0 <= district[-1] <= 1
    assert_readable_and_printable(summary, 7, AS_OF)
    for name in SHEETS[1:]:
        assert_readable_and_printable(book[name], HEADER_ROW, AS_OF)
    # Dates never ########: the date column is wide enough for YYYY-MM-DD.
    first_seen = book["措施四"].column_dimensions["N"]
    assert (first_seen.width or 0) >= 10 or any(
        d.min <= 14 <= d.max and d.width >= 10 for d in book["措施四"].column_dimensions.values())
    # A 措施 without a rule says why on its sheet.
    assert "没有合规规则" in book["措施二"]["A2"].value and "共管共建" in book["措施二"]["A2"].value
    assert "措施四·户数规模" in book["措施四"]["A2"].value
