"""The clerks' digest after a sweep (issue 3 item 9): one email per 街办 with what the sweep opened for it."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone

from communities.models import SubDistrict

from .models import FindingEvent, FindingEventKind, Sweep, SweepStatus

logger = logging.getLogger(__name__)


def queue_digest(sweep_id: int) -> None:
    """After a live sweep commits: its digest goes out from a worker."""
    try:
        sweep_digest.delay(sweep_id)
    except Exception:
        # A broker outage must not turn a finished sweep into a failed one.
        logger.exception("巡检 %s 的摘要邮件未能排队", sweep_id)


DIGEST_LIST_MAX = 200  # findings listed in one 街办's email; the rest are counted and on the findings page


def sweep_digest_send(*, sweep_id: int) -> int:
    """One email per 街办 to its clerks, listing what the sweep opened for their communities.

    Returns the number of emails sent. A sweep's digest goes out once: a
    redelivered task finds ``digest_sent_at`` set and sends nothing.
    """
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().get(pk=sweep_id)
        if sweep.status != SweepStatus.FINISHED or sweep.digest_sent_at is not None:
            return 0
        opened = FindingEvent.objects.filter(sweep_id=sweep_id,
                                             kind__in=[FindingEventKind.OPENED, FindingEventKind.REOPENED],
                                             finding__sub_district__isnull=False)
        # A first sweep opens hundreds of thousands: count per 街办, list the first DIGEST_LIST_MAX, and read
        # nothing for a 街办 whose clerks left no email.
        totals = dict(opened.values_list("finding__sub_district_id").annotate(n=Count("pk")).order_by())
        recipients: dict[str, list[str]] = {}
        clerks = SubDistrict.objects.filter(code__in=list(totals)).values_list(
            "code", "clerk_group__user__email", "clerk_group__user__is_active"
        )
        for code, email, active in clerks:
            if email and active:
                recipients.setdefault(code, []).append(email)
        for code in sorted(set(totals) - set(recipients)):
            logger.info("街办 %s 没有留有邮箱的办事员，巡检 %s 的摘要未发送", code, sweep_id)
        streets = {s.code: s for s in SubDistrict.objects.filter(code__in=list(recipients))}
        messages = []
        for code in sorted(recipients):
            street, total = streets[code], totals[code]
            findings = [event.finding for event in opened.filter(finding__sub_district__code=code)
                        .select_related("finding", "finding__community")
                        .order_by("finding__rule_id", "finding__target_key")[:DIGEST_LIST_MAX]]
            context = {"sweep": sweep, "street": street, "findings": findings, "total": total,
                       "more": total - len(findings), "base_url": getattr(settings, "SITE_URL", "").rstrip("/")}
            subject = f"【合规巡检】{street.name} {sweep.as_of:%Y-%m-%d}：新发现 {total} 项问题"
            messages.append(EmailMessage(subject=subject, body=render_to_string("compliance/email/digest.txt", context),
                                         to=sorted(set(recipients[code]))))
        sweep.digest_sent_at = timezone.now()
        sweep.save(update_fields=["digest_sent_at"])
    if messages:
        get_connection().send_messages(messages)
    return len(messages)


@shared_task(name="compliance.sweep_digest")
def sweep_digest(sweep_id: int) -> int:
    """Each 街办's clerks get one email with what the sweep opened for them."""
    return sweep_digest_send(sweep_id=sweep_id)
