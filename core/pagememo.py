"""Reads a page repeats, done once per page: a memo that lives for one GET or HEAD request.

A community page read the rule parameters four times (its three panels and the 规模 label) and asked which
records the user holds object permissions on once per selector call. Within a GET or HEAD request (which
writes neither parameters nor permissions) those reads are kept in this memo; everywhere else — saves, the
admin, imports, sweeps, Celery tasks, management commands, tests calling selectors without a request —
``memo()`` is None and every call reads the database as before. Started and ended by Django's
request_started/request_finished signals (connected in core/apps.py); a context variable, so each thread of a
threaded server has its own.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

_memo: ContextVar[dict[Any, Any] | None] = ContextVar("page_memo", default=None)


def memo() -> dict[Any, Any] | None:
    """This request's memo, or None outside a GET/HEAD request."""
    return _memo.get()


def start(sender=None, environ=None, scope=None, **kwargs) -> None:
    method = (environ or {}).get("REQUEST_METHOD") or (scope or {}).get("method") or ""
    _memo.set({} if method.upper() in ("GET", "HEAD") else None)


def end(sender=None, **kwargs) -> None:
    _memo.set(None)
