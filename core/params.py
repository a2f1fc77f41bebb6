"""Reading query parameters that are numbers: one place that knows a URL may carry anything.

A year or a count typed into the address bar may be negative, 24 digits long, a float or text; passed on to
``date()`` or to the database it ends in a 500 (OverflowError, "integer out of range"). These helpers answer the
default instead, as an empty parameter would.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

FIRST_YEAR = 1949  # nothing the bureau keeps is older
LAST_YEAR = 2100


def int_param(request: HttpRequest, name: str, *, default: int, low: int, high: int) -> int:
    """``request.GET[name]`` as an int in [low, high]; ``default`` when missing, not a whole number or out of range."""
    raw = (request.GET.get(name) or "").strip()
    if not raw or len(raw) > 12:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if low <= value <= high else default


def year_param(request: HttpRequest, name: str = "year", *, default: int | None = None,
               low: int = FIRST_YEAR, high: int = LAST_YEAR) -> int:
    """A year from the query string; this year when missing or absurd (negative, 24 digits, text…)."""
    fallback = default if default is not None else timezone.localdate().year
    return int_param(request, name, default=fallback, low=low, high=high)
