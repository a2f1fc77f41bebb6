"""措施十一's election clock for communities approved through the eight steps."""

from __future__ import annotations

import calendar
import datetime as dt

from django.db.models import Q

from communities.models import Community
from communities.rules import community_columns
from compliance.catalogue import Severity
from compliance.rules import Result, Rule, register

# add_months is not invertible at month ends (01-31 + 1 month = 02-28 = 01-28 + 1 month);
# the SQL bound is widened by this many days and Python decides exactly.
CLAMP_SLACK_DAYS = 3


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months; a day the target month lacks clamps to its last day (2025-01-31 + 3 → 2025-04-30)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def election_deadline(approved_on: dt.date, months: int) -> dt.date:
    return add_months(approved_on, months)


@register
class ElectionDeadline(Rule):
    id = "M11.election_deadline"
    reading = (
        "措施十一：新设立的社区在批复后三个月内完成“两委”选举。口径：有批复日期而没有两委选举日期的社区；"
        "期限为批复日期加三个日历月（不是90天；月末顺延到该月最后一天，如 2025-01-31 → 2025-04-30）。"
        "期限前30天（参数）起（含）至期限当日为预警，过期限为违规，更早不提示；选举一经登记即无发现。"
        "评估日之后的选举日期视为尚未选举，评估日之后的批复视为尚未批复。"
    )
    reads = {Community: community_columns("election_on")}

    def target_queryset(self, as_of):
        return Community.objects.judged(as_of)

    def evaluate(self, queryset, as_of, params):
        months = int(params["election_months"])
        warn = dt.timedelta(days=int(params["warning_days"]))
        # deadline − warn ≤ as_of  ⇔  add_months(批复, m) ≤ as_of + warn
        latest = add_months(as_of + warn, -months) + dt.timedelta(days=CLAMP_SLACK_DAYS)
        rows = queryset.filter(
            Q(election_on__isnull=True) | Q(election_on__gt=as_of),
            approved_on__isnull=False,
            approved_on__lte=min(as_of, latest),
        ).values("pk", "code", "approved_on", "sub_district_id")
        for row in rows:
            deadline = election_deadline(row["approved_on"], months)
            if as_of > deadline:
                severity = Severity.VIOLATION
                message = (f"批复日期 {row['approved_on']:%Y-%m-%d}，应于 {deadline:%Y-%m-%d} 前完成“两委”选举，"
                           f"已逾期 {(as_of - deadline).days} 天仍未选举")
            elif deadline - warn <= as_of:
                severity = Severity.WARNING
                message = (f"批复日期 {row['approved_on']:%Y-%m-%d}，应于 {deadline:%Y-%m-%d} 前完成“两委”选举，"
                           f"还剩 {(deadline - as_of).days} 天")
            else:
                continue
            yield Result(target_pk=row["pk"], key=row["code"], community_id=row["pk"], passed=False,
                         severity=severity, measured="未选举", required=deadline, message=message,
                         sub_district_id=row["sub_district_id"])
