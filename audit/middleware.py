"""Keeps the request at hand for the audit log and records every file download as an export."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from .context import current_request
from .models import Kind
from .services import security_event_record


def _is_download(response: HttpResponse) -> bool:
    return response.get("Content-Disposition", "").lower().startswith("attachment")


class SecurityAuditMiddleware:
    """Every successful attachment (workbook, CSV, roster, attachment file) is an export event.

    Done here rather than in each export view so that a download added later is
    recorded without anyone remembering to.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        try:
            response = self.get_response(request)
            if response.status_code == 200 and _is_download(response):
                self._record_export(request, response)
            elif response.status_code in (403, 404):
                self._record_refusal(request, response)
            return response
        finally:
            current_request.reset(token)

    @staticmethod
    def _record_export(request: HttpRequest, response: HttpResponse) -> None:
        try:
            match = resolve(request.path_info)
            view = match.view_name
            kwargs = {k: str(v) for k, v in match.kwargs.items()}
        except Resolver404:
            view, kwargs = "", {}
        if view.startswith("admin:"):
            return
        security_event_record(
            kind=Kind.EXPORT, request=request,
            detail={"view": view, "kwargs": kwargs, "path": request.path, "query": request.GET.dict(),
                    "disposition": response.get("Content-Disposition", "")},
        )

    @staticmethod
    def _record_refusal(request: HttpRequest, response: HttpResponse) -> None:
        """A signed-in user refused a page: 403 anywhere, 404 on an object URL (another 街办's record answers 404,
        so probing for records shows here). A 404 for a path that names no object (a typo) is not recorded."""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return
        if match.view_name.startswith("admin:") or (response.status_code == 404 and not match.kwargs):
            return
        security_event_record(
            kind=Kind.ACCESS_DENIED, request=request,
            detail={"view": match.view_name, "kwargs": {k: str(v) for k, v in match.kwargs.items()},
                    "path": request.path[:300], "method": request.method, "status": response.status_code},
        )
