"""Error pages that say what happened in Chinese and nothing about the code.

Django calls ``server_error`` inside its own ``except`` block, so the
exception is still at hand: a lost database connection gets its own page (503,
"数据库暂时不可用") instead of the generic 500. Both render without the request
context, because the context processors would query the very database that
is gone.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader

logger = logging.getLogger("lianhu.errors")

DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_lost(exc: BaseException | None) -> bool:
    # Django wraps driver errors; the chain may carry the database error underneath.
    while exc is not None:
        if isinstance(exc, DATABASE_ERRORS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if database_lost(exc):
        logger.error("数据库不可用：%s %s", request.method, request.path)
        response = HttpResponse(loader.render_to_string("db_unavailable.html"), status=503)
        response["Retry-After"] = "60"
        return response
    return HttpResponse(loader.render_to_string("500.html"), status=500)
