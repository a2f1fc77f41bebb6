"""导入导出: upload a workbook, preview what it would do, confirm; templates and the error workbook.

The stored file is found by its uuid and the user together, never by a path
the browser sends; confirming re-reads and re-checks it from scratch.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from communities.selectors import own_sub_districts, sub_districts_for_user
from core.ledgers import LEDGERS
from core.sheets import registry
from core.writer import XLSX_TYPE, attachment
from exports.services import stream_max_rows as export_stream_max_rows
from lianhu.queue import QueueUnavailable

from . import services
from .models import StoredUpload, UploadState
from .workbooks import blank_template, error_workbook


def _require_importer(user) -> None:
    if not services.may_import(user):
        raise PermissionDenied("只有街办办事员（本街办）和管理员可以导入数据。")


def _upload_for(request: HttpRequest, pk) -> StoredUpload:
    upload = StoredUpload.objects.filter(pk=pk, user=request.user).first()  # type: ignore[misc]  # views are login_required
    if upload is None:
        raise Http404("没有找到这个上传的文件。")
    return upload


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    from accounts.roles import is_admin

    streets = list(sub_districts_for_user(request.user).order_by("code").values_list("code", "name"))
    return render(request, "imports/index.html", {
        "may_import": services.may_import(request.user),
        "sheets": registry.names(),
        "max_mb": services.max_upload_bytes() // services.MB,
        "large_rows": services.LARGE_IMPORT_ROWS,
        "ledgers": list(LEDGERS.items()),
        "export_limit": f"{export_stream_max_rows():,}",
        "streets": streets,
        "is_admin": is_admin(request.user),
        "recent": StoredUpload.objects.filter(user=request.user)[:10],  # type: ignore[misc]  # login_required
    })


@login_required
@require_GET
def template_download(request: HttpRequest) -> HttpResponse:
    _require_importer(request.user)
    from accounts.roles import is_admin

    streets = sub_districts_for_user(request.user) if is_admin(request.user) else own_sub_districts(request.user)
    data = blank_template(list(streets.order_by("code").values_list("name", flat=True)))
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = attachment("导入模板.xlsx")
    return response


@login_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    _require_importer(request.user)
    file = request.FILES.get("file")
    if file is None:
        messages.error(request, "请选择要上传的 .xlsx 或 .csv 文件。")
        return redirect("imports:index")
    stored = services.upload_store(user=request.user, file=file, sheet=request.POST.get("sheet", ""))
    try:
        services.upload_start(upload=stored, dry_run=True)
    except QueueUnavailable as unavailable:
        messages.error(request, unavailable.message)
    return redirect("imports:preview", pk=stored.pk)


@login_required
@require_GET
def preview(request: HttpRequest, pk) -> HttpResponse:
    _require_importer(request.user)
    stored = _upload_for(request, pk)
    summary = stored.summary or {}
    return render(request, "imports/preview.html", {
        "upload": stored,
        "summary": summary,
        "refused_total": sum(len(s["refused"]) for s in summary.get("sheets", [])),
        "may_confirm": stored.state == UploadState.CHECKED,
        "imported": stored.state == UploadState.IMPORTED,
        "progress_url": reverse("imports:progress", args=[stored.pk]),
    })


@login_required
@require_GET
def progress(request: HttpRequest, pk) -> JsonResponse:
    _require_importer(request.user)
    stored = _upload_for(request, pk)
    done = cache.get(services.progress_key(stored)) or {"done": 0, "total": max(stored.rows * 2, 1)}
    percent = 100 if not stored.running else min(99, int(100 * done["done"] / max(done["total"], 1)))
    return JsonResponse({"state": stored.state, "label": stored.get_state_display(), "running": stored.running,
                         "percent": percent})


@login_required
@require_POST
def confirm(request: HttpRequest, pk) -> HttpResponse:
    _require_importer(request.user)
    stored = _upload_for(request, pk)
    if stored.state != UploadState.CHECKED:
        messages.error(request, "这个文件尚未通过检查，或已经导入过，不能确认导入。")
        return redirect("imports:preview", pk=stored.pk)
    try:
        queued = services.upload_start(upload=stored, dry_run=False)
    except QueueUnavailable as unavailable:
        messages.error(request, f"{unavailable.message}文件仍为“已检查”，可稍后再确认导入。")
        return redirect("imports:preview", pk=stored.pk)
    if not queued:
        stored.refresh_from_db()
        if stored.state == UploadState.IMPORTED:
            messages.success(request, "导入完成。")
        elif any(i.get("code") == "stale_preview" for i in (stored.summary or {}).get("file_issues", [])):
            messages.error(request, "预览之后，本文件要修改的记录已被他人修改，未写入任何数据。请重新上传并预览后再确认导入。")
        else:
            messages.error(request, "确认导入时重新检查发现错误（数据可能已被他人修改），未写入任何数据。")
    return redirect("imports:preview", pk=stored.pk)


@login_required
@require_GET
def error_download(request: HttpRequest, pk) -> HttpResponse:
    _require_importer(request.user)
    stored = _upload_for(request, pk)
    if not stored.summary or not stored.path.exists():
        raise Http404("没有可下载的错误工作簿。")
    data = error_workbook(data=stored.path.read_bytes(), filename=stored.filename, sheet=stored.sheet or None,
                          summary=stored.summary)
    response = HttpResponse(data, content_type=XLSX_TYPE)
    stem = stored.filename.rsplit(".", 1)[0]
    response["Content-Disposition"] = attachment(f"{stem}-错误.xlsx")
    return response
