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
from compliance.selectors import findings_for_user

pytestmark = pytest.mark.django_db

AS_OF = "2025-06-30"


@pytest.fixture(autouse=True)
def _live_on_as_of(today):
    """These sweeps are today's (live) sweeps: "today" is the as-of date."""
    today(dt.date.fromisoformat(AS_OF))
SHEETS = ["汇总", *(f"措施{c.numeral}" for c in CLAUSES.values())]
HEADERS = ("社区代码", "社区名称", "街道办事处", "对象类型", "对象编号", "规则编号", "严重程度", "实测", "应达", "说明",
           "首次发现")


@pytest.fixture
def swept(district):
    call_command("compliance_sweep", "--as-of", AS_OF, stdout=io.StringIO())
    assert Finding.objects.filter(status=FindingStatus.OPEN).exists()
    return Sweep.objects.get()


def findings(book) -> list[tuple]:
    return [row for name in SHEETS[1:] for row in list(book[name].iter_rows(values_only=True))[1:]]


def test_command_writes_summary_and_one_sheet_per_clause(tmp_path, swept):
    path = tmp_path / "合规.xlsx"
    out = io.StringIO()
    call_command("export_compliance", str(path), "--as-of", AS_OF, stdout=out)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == SHEETS
    summary = book["汇总"]
    assert summary["B2"].value == dt.datetime(2025, 6, 30)
    assert f"巡检 #{swept.pk}" in summary["B3"].value and AS_OF in summary["B3"].value
    open_findings = Finding.objects.filter(status=FindingStatus.OPEN)
    rows = findings(book)
    assert len(rows) == open_findings.count() and f"{len(rows)} 条问题" in out.getvalue()
    for name in SHEETS[1:]:
        assert next(book[name].iter_rows(max_row=1, values_only=True)) == HEADERS
    by_rule = Counter(r[5] for r in rows)
    assert by_rule == Counter(open_findings.values_list("rule_id", flat=True))
    finding = open_findings.filter(community__isnull=False).select_related("community").first()
    row = next(r for r in rows if r[5] == finding.rule_id and r[4] == finding.target_key)
    assert row[:3] == (finding.community.code, finding.community.name, finding.community.sub_district.name)
    assert row[10] == dt.datetime.combine(finding.first_seen, dt.time())
    assert not isinstance(finding.measured, int | float) or isinstance(row[7], int | float)

    # The summary's 合计 row, 合计 columns: violations/warnings/notices over the whole district.
    table = list(summary.iter_rows(min_row=8, values_only=True))
    total = next(r for r in table if r[0] == "合计")
    by_severity = Counter(open_findings.values_list("severity", flat=True))
    assert total[-3:] == (by_severity["violation"], by_severity["warning"], by_severity["notice"])
    street_rows = {r[0] for r in table}
    assert {"青年路街道", "枣园街道", "全区/未划街办", "合计"} <= street_rows


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
