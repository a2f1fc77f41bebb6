"""Downloads: the ledgers and the compliance workbook, scoped by the same selectors as the pages."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from communities.selectors import sub_districts_for_user
from staffing.privacy import may_see_id_numbers, record_reveal

from .compliance import write_compliance_workbook
from .ledgers import BUILDERS
from .writer import DATE, NUMBER, Col, XlsxBook, columns, csv_response


def _street(request: HttpRequest) -> str | None:
    code = (request.GET.get("street") or "").strip()
    if not code:
        return None
    if not sub_districts_for_user(request.user).filter(code=code).exists():
        raise Http404("没有找到这个街道办事处，或您无权查看。")
    return code


def _print_column(col: Col) -> dict[str, str]:
    """A ledger column on paper: figures and dates on one line, text at least as wide as the workbook's
    column suggests (a CSS class: no inline styles under the CSP), so no column reads one character a line."""
    if col.kind in (NUMBER, DATE):
        return {"header": col.header, "css": "lw-3", "cell": "text-end text-nowrap"}
    ems = max(3, min(8, round((col.width or 6) * 0.35)))
    return {"header": col.header, "css": f"lw-{ems}", "cell": ""}


@login_required
@require_GET
def ledger(request: HttpRequest, kind: str) -> HttpResponseBase:
    builder = BUILDERS.get(kind)
    if builder is None:
        raise Http404("没有这种台账。")
    street = _street(request)
    extra = {"reveal": request.GET.get("reveal") == "1"} if kind == "people" else {}
    data = builder(request.user, street, **extra)
    if extra.get("reveal") and may_see_id_numbers(request.user):
        record_reveal(user=request.user, request=request, where="people_ledger", count=None)
    if request.GET.get("format") == "csv":
        return csv_response(data.filename("csv", street), data.columns, data.rows)
    if request.GET.get("format") == "print":
        cols = [_print_column(c) for c in columns(data.columns)]
        cell_css = [c["cell"] for c in cols]
        rows = [list(zip(row, cell_css, strict=False)) for row in data.rows]
        scope = sub_districts_for_user(request.user).get(code=street).name if street else "全部（本人可查看的）"
        return render(request, "exports/ledger_print.html", {
            "ledger": data, "cols": cols, "rows": rows, "count": len(rows), "scope": scope,
            "today": timezone.localdate(),
        })
    book = XlsxBook()
    sheet = book.sheet(data.title, data.columns)
    sheet.freeze_header()
    sheet.extend(data.rows)
    return book.response(data.filename("xlsx", street))


@login_required
@require_GET
def compliance_workbook(request: HttpRequest) -> HttpResponseBase:
    as_of = None
    if request.GET.get("as_of"):
        try:
            as_of = dt.date.fromisoformat(request.GET["as_of"])
        except ValueError:
            raise Http404("评估日期应为 YYYY-MM-DD。") from None
    book = XlsxBook()
    write_compliance_workbook(book, user=request.user, as_of=as_of)
    return book.response(f"合规情况-{(as_of or timezone.localdate()):%Y%m%d}.xlsx")
