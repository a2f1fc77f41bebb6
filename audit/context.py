"""The request being served, so signals and services deep below a view can say where an action came from."""

from __future__ import annotations

from contextvars import ContextVar

from django.http import HttpRequest

current_request: ContextVar[HttpRequest | None] = ContextVar("audit_current_request", default=None)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    try:
        from axes.helpers import get_client_ip_address

        # The same address django-axes locks out, so the two logs agree.
        return get_client_ip_address(request) or request.META.get("REMOTE_ADDR") or None
    except Exception:  # an unreadable address is recorded as unknown
        return request.META.get("REMOTE_ADDR") or None
