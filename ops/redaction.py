"""Personal data out of everything operators see: log lines (plain and JSON), admin mail, task errors.

The ID-number pattern itself belongs to staffing (staffing/idnumbers.py); this
module applies it wherever text leaves the application.
"""

from __future__ import annotations

import logging

from django.utils.log import AdminEmailHandler
from pythonjsonlogger.json import JsonFormatter

from staffing.idnumbers import redact

__all__ = ["RedactingAdminEmailHandler", "RedactingJsonFormatter", "redact"]


class RedactingJsonFormatter(JsonFormatter):
    """python-json-logger formats the traceback itself instead of reusing the filter's redacted text."""

    def formatException(self, ei):  # type: ignore[override]
        return redact(logging.Formatter.formatException(self, ei))


class RedactingAdminEmailHandler(AdminEmailHandler):
    """Django's 500 mail quotes the request and the frames' local variables: mask ID numbers in both."""

    def send_mail(self, subject, message, *args, **kwargs):
        html = kwargs.get("html_message")
        if html:
            kwargs["html_message"] = redact(html)
        super().send_mail(redact(subject), redact(message), *args, **kwargs)
