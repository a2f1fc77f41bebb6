"""Downloads: the registered ledgers and workbooks, scoped by the same selectors as the pages.

Small exports stream inside the request as before. One above ``EXPORT_STREAM_MAX_ROWS`` rows is a background
job (exports.services): a GET link answers with a page that offers to start it (a GET never queues work), the
导入导出 page's buttons POST to ``start``, which streams a small one at once and queues a large one, then
shows the job's page with its progress bar; the file is offered there and in 我的导出 (``jobs``), to the user
who asked and nobody else.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.ledgers import registry, workbooks
from core.writer import CSV_TYPE, DATE, NUMBER, XLSX_TYPE, Col, XlsxBook, attachment, columns, csv_response
from lianhu.queue import QueueUnavailable

from . import services
from .models import ExportJob


def _street(request: HttpRequest, code: str | None) -> str | None:
    code = (code or "").strip()
    if not code:
        return None
    if code not in dict(registry.streets(request.user)):
        raise Http404("没有找到这个街道办事处，或您无权查看。")
    return code


def _as_of(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Http404("评估日期应为 YYYY-MM-DD。") from None


def _print_column(col: Col) -> dict[str, str]:
    """A ledger column on paper: figures and dates on one line, text at least as wide as the workbook's
    column suggests (a CSS class: no inline styles under the CSP), so no column reads one character a line."""
    if col.kind in (NUMBER, DATE):
        return {"header": col.header, "css": "lw-3", "cell": "text-end text-nowrap"}
    ems = max(3, min(8, round((col.width or 6) * 0.35)))
    return {"header": col.header, "css": f"lw-{ems}", "cell": ""}


def _plan(request: HttpRequest, params, kind: str) -> services.ExportPlan:
    if kind not in registry and kind not in workbooks:
        raise Http404("没有这种台账。")
    return services.export_plan(user=request.user, kind=kind, street=_street(request, params.get("street")),
                                fmt=params.get("format") or "xlsx", reveal=params.get("reveal") == "1",
                                as_of=_as_of(params.get("as_of")))


def _record_reveal(request: HttpRequest, plan: services.ExportPlan) -> None:
    if plan.options.get("reveal") and plan.spec is not None and plan.spec.record_reveal is not None:
        plan.spec.record_reveal(user=request.user, request=request, where=f"{plan.kind}_ledger", count=None)


def _stream(request: HttpRequest, plan: services.ExportPlan, fmt: str) -> HttpResponseBase:
    """The file (or the print page) of a small export, written while it is sent."""
    if plan.workbook is not None:
        book = XlsxBook()
        plan.workbook.write(book, user=request.user, as_of=plan.as_of)
        return book.response(plan.filename)
    data = plan.ledger
    assert data is not None
    street = plan.options.get("street")
    _record_reveal(request, plan)
    if fmt == "csv":
        return csv_response(data.filename("csv", street), data.columns, data.rows)
    if fmt == "print":
        cols = [_print_column(c) for c in columns(data.columns)]
        cell_css = [c["cell"] for c in cols]
        rows = [list(zip(row, cell_css, strict=False)) for row in data.rows]
        scope = dict(registry.streets(request.user))[street] if street else "全部（本人可查看的）"
        return render(request, "exports/ledger_print.html", {
            "ledger": data, "cols": cols, "rows": rows, "count": len(rows), "scope": scope,
            "today": timezone.localdate(),
        })
    book = XlsxBook()
    sheet = book.sheet(data.title, data.columns)
    sheet.extend(data.rows)
    return book.response(data.filename("xlsx", street))


def _offer(request: HttpRequest, plan: services.ExportPlan, fmt: str) -> HttpResponse:
    """A large export asked for by a GET link: say so and offer to start the job (a GET never queues work)."""
    options = {k: v for k, v in plan.options.items() if v not in (None, False, "")}
    if options.get("reveal"):
        options["reveal"] = "1"
    return render(request, "exports/offer.html", {
        "plan": plan, "options": options, "limit": services.stream_max_rows(), "printing": fmt == "print",
        "scope": _scope_label(request, plan.options.get("street")),
    })


def _scope_label(request: HttpRequest, street: str | None) -> str:
    return dict(registry.streets(request.user)).get(street, street) if street else "全部（本人可查看的）"


@login_required
@require_GET
def ledger(request: HttpRequest, kind: str) -> HttpResponseBase:
    if kind not in registry:
        raise Http404("没有这种台账。")
    fmt = request.GET.get("format") or "xlsx"
    plan = _plan(request, request.GET, kind)
    if plan.large:
        return _offer(request, plan, fmt)
    return _stream(request, plan, fmt)


@login_required
@require_GET
def compliance_workbook(request: HttpRequest) -> HttpResponseBase:
    plan = _plan(request, request.GET, "compliance")
    if plan.large:
        return _offer(request, plan, "xlsx")
    return _stream(request, plan, "xlsx")


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponseBase:
    """The 导入导出 page's buttons: a small export is the file itself, a large one a job to watch."""
    kind = request.POST.get("kind", "")
    fmt = request.POST.get("format") or "xlsx"
    plan = _plan(request, request.POST, kind)
    if not plan.large:
        return _stream(request, plan, fmt)
    _record_reveal(request, plan)
    job = services.export_create(user=request.user, plan=plan)
    try:
        services.export_start(job=job)
    except QueueUnavailable as unavailable:
        messages.error(request, unavailable.message)
    return redirect("exports:job_detail", pk=job.pk)


def _job_for(request: HttpRequest, pk) -> ExportJob:
    job = services.exports_for_user(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404("没有找到这个导出，或它不是您导出的。")
    return job


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = list(services.exports_for_user(request.user)[:50])
    streets = dict(registry.streets(request.user))
    for job in jobs:
        street = (job.options or {}).get("street")
        job.scope = streets.get(street, street) if street else "全部"  # type: ignore[attr-defined]
    return render(request, "exports/job_list.html", {
        "jobs": jobs, "retention_days": services.retention_days(), "limit": services.stream_max_rows(),
    })


@login_required
@require_GET
def job_detail(request: HttpRequest, pk) -> HttpResponse:
    job = _job_for(request, pk)
    return render(request, "exports/job_detail.html", {
        "job": job, "progress_url": reverse("exports:job_progress", args=[job.pk]),
        "scope": _scope_label(request, (job.options or {}).get("street")),
        "retention_days": services.retention_days(),
    })


@login_required
@require_GET
def job_progress(request: HttpRequest, pk) -> JsonResponse:
    job = _job_for(request, pk)
    return JsonResponse({"state": job.state, "label": job.get_state_display(), "running": job.running,
                         "percent": job.percent, "rows_done": job.rows_done, "rows_total": job.rows_total})


@login_required
@require_GET
def job_download(request: HttpRequest, pk) -> FileResponse:
    job = _job_for(request, pk)
    if job.state != "done" or not job.file:
        raise Http404("这个导出尚未完成，或文件已按保存期限删除。")
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404("文件已按保存期限删除，请重新导出。") from None
    content_type = CSV_TYPE if job.file.name.endswith(".csv") else XLSX_TYPE
    response = FileResponse(handle, content_type=content_type, as_attachment=True)
    response["Content-Disposition"] = attachment(job.filename)
    return response
