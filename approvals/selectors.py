"""Who sees which establishment requests: clerks their own 街办's, reviewers all."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accounts.roles import is_reviewer
from communities.selectors import own_sub_districts
from core.shortcuts import one_or_404

from . import flow
from .models import EstablishmentRequest, State


def requests_for_user(user) -> QuerySet[EstablishmentRequest]:
    if not user.is_authenticated:
        return EstablishmentRequest.objects.none()
    qs = EstablishmentRequest.objects.select_related("sub_district", "created_by", "submitted_by")
    if is_reviewer(user):
        return qs
    return qs.filter(sub_district__in=own_sub_districts(user))


def request_for_user(user, pk) -> EstablishmentRequest:
    return one_or_404(requests_for_user(user), "没有找到这份申请，或您无权查看。", pk=pk)


def waiting_for(user, qs: QuerySet[EstablishmentRequest]) -> QuerySet[EstablishmentRequest]:
    """Requests whose next step is this user's to take."""
    states: list[str] = []
    if own_sub_districts(user).exists():
        states.append(State.DRAFT)
    if is_reviewer(user):
        states += [s.state for s in flow.STEPS if s.actor == flow.REVIEWER]
    qs = qs.filter(state__in=states)
    return qs.exclude(submitted_by=user) if is_reviewer(user) else qs


def overdue_info(requests, now=None) -> None:
    """Marks each request with ``due_at`` and ``is_overdue`` (one query for the configured days)."""
    now = now or timezone.now()
    days = flow.deadlines()
    for req in requests:
        limit = days.get(req.state)
        req.due_at = req.state_since + timedelta(days=limit) if limit else None
        req.is_overdue = bool(req.due_at and now > req.due_at)
