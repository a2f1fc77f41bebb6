"""The 台账 of new communities and the year-end report to the 市民政局 (step 8)."""

from __future__ import annotations

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
        if p.community is not None  # always, as ledger() filters; this tells the type checker
    ]


def year_end_workbook(year: int) -> bytes:
    from core.writer import DATE, NUMBER, Col, XlsxBook

    rows = ledger_rows(year)
    book = XlsxBook(in_memory=True)
    kinds = {"序号": NUMBER, "批复日期": DATE, "两委选举日期": DATE, "户数": NUMBER, "常住人口": NUMBER}
    widths = {"序号": 6, "社区名称": 24, "社区代码": 15, "统一社会信用代码": 22}
    sheet = book.sheet(
        f"{year}年新设社区",
        [Col(name, kinds.get(name, "text"), widths.get(name, 13)) for name in COLUMNS],
        preamble=[[f"莲湖区{year}年度新设立社区情况表（报市民政局）"], [f"共 {len(rows)} 个社区；以区政府批复日期计入年度"]],
    )
    keys = ("name", "code", "street", "kind", "sources", "approved_on", "document_no", "election_on",
            "households", "population", "credit_code")
    for i, row in enumerate(rows, start=1):
        sheet.append([i, *(row[key] for key in keys)])
    return book.close()
