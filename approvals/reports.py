"""The 台账 of new communities and the year-end report to the 市民政局 (step 8)."""

from __future__ import annotations

import io

import xlsxwriter
from django.db.models import QuerySet

from .models import Action, ProposedCommunity, State, StepRecord

LEDGER_STATES = (State.CERTIFICATION, State.COMPLETED)

COLUMNS = ("序号", "社区名称", "社区代码", "街道办事处", "设立方式", "原社区", "批复日期", "批复文号",
           "两委选举日期", "户数", "常住人口", "统一社会信用代码")


def ledger(year: int | None = None) -> QuerySet[ProposedCommunity]:
    """Communities entered in the 台账: elected and inspected (step 7 passed)."""
    qs = ProposedCommunity.objects.filter(request__state__in=LEDGER_STATES, community__isnull=False)
    if year is not None:
        qs = qs.filter(community__approved_on__year=year)
    return qs.select_related("community", "request", "request__sub_district").prefetch_related(
        "request__sources").order_by("community__approved_on", "code")


def ledger_rows(year: int | None = None) -> list[dict]:
    parts = list(ledger(year))
    approvals = {
        r.request_id: r.document_no
        for r in StepRecord.objects.filter(request__in={p.request_id for p in parts}, step=6, action=Action.ADVANCE)
        .order_by("acted_at")
    }
    return [
        {
            "name": p.community.name, "code": p.community.code, "street": p.request.sub_district.name,
            "kind": p.request.get_kind_display(), "sources": "、".join(s.name for s in p.request.sources.all()),
            "approved_on": p.community.approved_on, "document_no": approvals.get(p.request_id, ""),
            "election_on": p.community.election_on, "households": p.community.households,
            "population": p.community.population, "credit_code": p.credit_code, "request_id": p.request_id,
        }
        for p in parts
    ]


def year_end_workbook(year: int) -> bytes:
    rows = ledger_rows(year)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(f"{year}年新设社区")
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#F2F2F2", "text_wrap": True})
    cell = book.add_format({"border": 1})
    date = book.add_format({"border": 1, "num_format": "yyyy-mm-dd"})
    sheet.write(0, 0, f"莲湖区{year}年度新设立社区情况表（报市民政局）", title)
    sheet.write(1, 0, f"共 {len(rows)} 个社区；以区政府批复日期计入年度")
    for col, name in enumerate(COLUMNS):
        sheet.write(2, col, name, head)
    keys = ("name", "code", "street", "kind", "sources", "approved_on", "document_no", "election_on",
            "households", "population", "credit_code")
    for i, row in enumerate(rows, start=1):
        sheet.write_number(2 + i, 0, i, cell)
        for col, key in enumerate(keys, start=1):
            value = row[key]
            if key in ("approved_on", "election_on"):
                if value:
                    sheet.write_datetime(2 + i, col, value, date)
                else:
                    sheet.write_blank(2 + i, col, None, cell)
            elif key == "code":
                sheet.write_string(2 + i, col, value, cell)  # 12 digits must not become a number
            else:
                sheet.write(2 + i, col, value if value not in (None, "") else "", cell)
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, 2, 15)
    sheet.set_column(3, 5, 14)
    sheet.set_column(6, 8, 13)
    sheet.set_column(11, 11, 22)
    book.close()
    return out.getvalue()
