"""Malformed requests answered 400 before any view reads them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template import loader

MAX_QUERY_STRING = 8_192  # a filter form's longest honest query is well under 1 kB


class RejectMalformedQueryMiddleware:
    """A NUL byte in a query parameter (name or value) cannot be stored or searched for (PostgreSQL refuses it in
    any string), and an over-long query string is not a person typing: both answer 400 with a Chinese page,
    so no view, filter or export has to guard against them one by one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("QUERY_STRING", "")
        if len(raw) > MAX_QUERY_STRING or "\x00" in request.path or self._has_nul(request):
            return HttpResponseBadRequest(loader.render_to_string("400.html", {
                "reason": "查询参数无效（含有不可见的控制字符或过长），请检查网址或重新搜索。"}))
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        return any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists())
