"""/healthz for the proxy and monitors; the status and task pages for administrators."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import is_admin
from ui.listing import paginate

from . import health
from .models import TaskRecord, TaskState

PAGE_SIZE = 50


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """No login, no personal data, no session: two cheap checks, 200 or 503."""
    checks = health.liveness()
    ok = all(c.ok for c in checks)
    body = {"status": "ok" if ok else "fail", "checks": {c.key: "ok" if c.ok else "fail" for c in checks}}
    return _not_an_error(JsonResponse(body, status=200 if ok else 503))


def _not_an_error(response: HttpResponse) -> HttpResponse:
    """A 503 here reports an outage, it is not one: Django would log it as an error, and django.request's
    errors mail ADMINS, once per poll of a monitor. The status command's mail (ops_status --mail) is throttled."""
    # django.utils.log.log_response's own marker for a response already logged.
    setattr(response, "_has_been_logged", True)  # noqa: B010
    return response


def _admin_only(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise PermissionDenied


@never_cache
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    _admin_only(request)
    checks = health.full_status()
    failed = TaskRecord.objects.filter(state__in=[TaskState.FAILURE, TaskState.RETRY]).order_by("-updated_at")[:10]
    return _not_an_error(render(request, "ops/status.html",
                                {"checks": checks, "ok": all(c.ok for c in checks), "failed": failed},
                                status=200 if all(c.ok for c in checks) else 503))


SUBJECT_PARAMS = {"sweep": "巡检", "upload": "导入"}


@never_cache
@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    _admin_only(request)
    records = TaskRecord.objects.order_by("-updated_at", "-id")
    state = request.GET.get("state", "")
    if state in TaskState.values:
        records = records.filter(state=state)
    elif state == "problems":
        records = records.filter(state__in=[TaskState.FAILURE, TaskState.RETRY])
    subject = None
    for key, label in SUBJECT_PARAMS.items():
        value = request.GET.get(key, "").strip()[:64]
        if value:
            records = records.filter(subject_type=key, subject_id=value)
            subject = (label, value)
            break
    page = paginate(request, records, PAGE_SIZE)
    return render(request, "ops/tasks.html", {"page": page, "state": state, "subject": subject,
                                              "states": TaskState.choices})
