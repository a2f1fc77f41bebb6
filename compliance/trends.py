"""Counts per day of open live findings by 责任单位, rule and severity, so trends can be drawn.

Written by today's live sweep (the whole day) and by the re-judging of saves and a 销号 (only the (rule, 街办)
pairs they touched); a replay, or a judging as of any day but today, never writes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from .models import Finding, FindingDailyCount, FindingStatus


def daily_counts_refresh(*, day: dt.date, pairs: Iterable[tuple[str, str | None]] | None = None) -> int:
    """Rewrite the day's open-finding counts (per 责任单位, rule and severity) from the live findings: all of
    them (after today's sweep), or only the (rule, 街办) pairs a re-judging or a 销号 touched. A delete and one
    ``INSERT … SELECT`` whatever the number of findings or of count rows; a replay never calls this.

    The counts never pass through Python: a national sweep has some 80,000 (街办, rule, severity) rows, which
    bulk_create sent as one INSERT per 2,000 (a sweep's statements then grew with the country)."""
    if day != timezone.localdate():
        return 0  # counts are of today's record; a past or future day is never rewritten
    pairs = None if pairs is None else sorted(set(pairs), key=lambda p: (p[0], p[1] or ""))
    if pairs is not None and not pairs:
        return 0
    scope = Q()
    if pairs is not None:
        for rule_id, street in pairs:
            scope |= Q(rule_id=rule_id, sub_district_id=street)
    # values() then annotate(): the SELECT lists these columns in this order, then the count.
    counts = (Finding.objects.filter(scope, status=FindingStatus.OPEN)
              .values("responsible_kind", "responsible_unit", "sub_district_id", "rule_id", "severity")
              .annotate(n=Count("id")).order_by())
    select, params = counts.query.sql_with_params()
    meta = FindingDailyCount._meta
    column = {f.name: f.column for f in meta.concrete_fields}
    columns = ", ".join(connection.ops.quote_name(column[name]) for name in (
        "day", "responsible_kind", "responsible_unit", "sub_district", "rule_id", "severity", "open_count"))
    with transaction.atomic():
        FindingDailyCount.objects.filter(scope, day=day).delete()
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) "
                           f"SELECT %s, counted.* FROM ({select}) counted",
                           [connection.ops.adapt_datefield_value(day), *params])
            return cursor.rowcount
