"""Keeps ID numbers out of the logs: installed on the console handler in settings.

Kept free of model imports because logging is configured before apps load.
"""

from __future__ import annotations

import logging

from .idnumbers import redact


class RedactIdNumbers(logging.Filter):
    """Masks any ID-number-like text in a record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            # Database errors quote the offending row, which may hold an ID number.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
