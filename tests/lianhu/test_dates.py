"""lianhu/dates.py writes YYYY-MM-DD (HH:MM[:SS]) itself: the same text as Django's ``date`` filter, for dates,
naive and aware datetimes (in local time, as the engine hands them over), empty values and other formats."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Engine, engines
from django.utils import timezone

FORMATS = ["Y-m-d", "Y-m-d H:i", "Y-m-d H:i:s", "Y年n月j日", "D Y-m-d"]
SOURCE = "".join(f'[{{{{ v|date:"{f}" }}}}]' for f in FORMATS) + '[{{ v|date:"Y-m-d"|default:"—" }}][{{ v|date }}]'


def _values():
    rnd = random.Random(7)
    yield from [None, "", "2026-12-04", 0, dt.date(1, 1, 1), dt.date(2026, 12, 4), dt.datetime(2026, 1, 2, 3, 4, 5),
                dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=dt.UTC)]
    for _ in range(200):
        yield dt.date(rnd.randint(1000, 9999), rnd.randint(1, 12), rnd.randint(1, 28))
        yield dt.datetime(rnd.randint(1000, 9999), rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 23),
                          rnd.randint(0, 59), rnd.randint(0, 59), tzinfo=ZoneInfo("UTC"))


def _render(template, value) -> str:
    try:
        return template.render(Context({"v": value}))
    except Exception as error:  # a date with a time format: Django refuses, and so must we
        return f"{type(error).__name__}: {error}"


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC"])
def test_same_text_as_djangos_date_filter(zone):
    reference = Engine(builtins=["django.template.defaulttags", "django.template.defaultfilters"])
    # Each filter alone too: a date with a time format raises, in Django's filter and in ours.
    pairs = [(engines["django"].engine.from_string(source), reference.from_string(source))
             for source in (SOURCE, *(piece + "]" for piece in SOURCE.split("]")[:-1]))]
    with timezone.override(zone):
        for value in _values():
            for ours, djangos in pairs:
                assert _render(ours, value) == _render(djangos, value), value


def test_the_pages_use_it():
    from lianhu import dates

    library = engines["django"].engine.template_builtins
    assert [lib.filters["date"] for lib in library if "date" in lib.filters][-1] is dates.date
