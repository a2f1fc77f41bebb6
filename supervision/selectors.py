"""Reads scoped by who asks: whose findings a user answers for, their 待我办理, documents and 通报."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import Unit, units_of
from accounts.roles import is_reviewer
from communities.models import SubDistrict
from communities.selectors import own_sub_districts
from compliance.duties import DAXING_SUB_DISTRICTS
from compliance.models import Finding, FindingStatus, ResponsibleKind
from compliance.selectors import findings_for_unit
from core.shortcuts import one_or_404

from . import compat
from .models import Bulletin, BulletinState, RectState, SupervisionDocument


def unit_names(user) -> set[str]:
    """The units a user answers for, by name: their 街办 (clerks), their departments, 区民政局 (reviewers)."""
    if not user.is_authenticated:
        return set()
    names = {Unit(u).label for u in units_of(user) if u in Unit.values}
    names |= set(own_sub_districts(user).values_list("name", flat=True))
    return names


def answers_for(user, finding: Finding) -> bool:
    return bool(unit_names(user) & set(compat.finding_units(finding)))


def findings_answered_by(user) -> QuerySet[Finding]:
    """Findings whose 责任单位 is one of the user's units: a department's (compliance's findings_for_unit,
    which never includes a person's finding), and for a 街办's clerks the findings filed to their 街办."""
    if not user.is_authenticated:
        return Finding.objects.none()
    streets = list(own_sub_districts(user).values_list("code", flat=True))
    mine = findings_for_unit(user)
    if streets:
        mine = mine | Finding.objects.filter(responsible_kind=ResponsibleKind.STREET, sub_district_id__in=streets)
    if is_reviewer(user):
        # District-wide findings filed to no 街办 are 区民政局's.
        mine = mine | Finding.objects.filter(responsible_kind=ResponsibleKind.STREET, sub_district__isnull=True)
    return mine


def todo_findings(user) -> QuerySet[Finding]:
    """待我办理: the user's units' open findings that still need their action (not waiting on a reviewer)."""
    return (
        findings_answered_by(user)
        .filter(status=FindingStatus.OPEN)
        .exclude(rectification__state=RectState.REQUESTED)
        .select_related("community", "sub_district", "rectification")
        .order_by("clause", "rule_id", "target_key", "pk")
    )


def review_queue(user) -> QuerySet[Finding]:
    """Closures a reviewer is asked to 复核 (not their own requests)."""
    if not is_reviewer(user):
        return Finding.objects.none()
    return (
        Finding.objects.filter(rectification__state=RectState.REQUESTED, status=FindingStatus.OPEN)
        .exclude(rectification__requested_by=user)
        .select_related("community", "sub_district", "rectification")
        .order_by("rectification__updated_at", "pk")
    )


def facility_steps_waiting(user) -> list[dict[str, Any]]:
    """Facilities whose next lifecycle step is one of the user's units' (措施七、八)."""
    from facilities.lifecycle import STREET, TRANSITIONS
    from facilities.models import Facility

    units = set(units_of(user))
    streets = set(own_sub_districts(user).values_list("code", flat=True))
    waiting: list[dict[str, Any]] = []
    # Forward steps only: 停用/恢复使用 are the 街办's choice, never "waiting".
    forward = [t for t in TRANSITIONS if t.step not in ("停用", "恢复使用")]
    for t in forward:
        mine = units & set(t.units)
        street_step = STREET in t.units and bool(streets)
        if not (mine or street_step):
            continue
        qs = Facility.objects.filter(status=t.source).select_related("community", "community__sub_district")
        if not mine:
            qs = qs.filter(community__sub_district_id__in=streets)
        elif {Unit.HOUSING.value, Unit.DAXING.value} <= set(t.units) and not is_reviewer(user):
            # 竣工验收 is 大兴新区管委会's inside its area and 区住建局's elsewhere (compliance.duties, 措施八).
            area = Q(community__sub_district_id__in=DAXING_SUB_DISTRICTS)
            if mine == {Unit.DAXING.value}:
                qs = qs.filter(area)
            elif mine == {Unit.HOUSING.value}:
                qs = qs.exclude(area)
        for facility in qs.order_by("code")[:200]:
            waiting.append({"facility": facility, "step": t.step, "units": t.unit_labels()})
    return waiting


def rectification_counts(user) -> dict[str, int]:
    qs = findings_answered_by(user).filter(status=FindingStatus.OPEN)
    return {"open": qs.count(), "returned": qs.filter(rectification__state=RectState.RETURNED).count()}


def documents_for_user(user) -> QuerySet[SupervisionDocument]:
    qs = SupervisionDocument.objects.select_related("action", "created_by")
    if is_reviewer(user):
        return qs
    return qs.filter(unit__in=unit_names(user))


def document_for_user(user, pk) -> SupervisionDocument:
    return one_or_404(documents_for_user(user), "没有找到这份文书，或您无权查看。", pk=pk)


def bulletins_for_user(user) -> QuerySet[Bulletin]:
    if is_reviewer(user):
        return Bulletin.objects.all()
    if not user.is_authenticated:
        return Bulletin.objects.none()
    return Bulletin.objects.filter(state=BulletinState.ISSUED)


def bulletin_for_user(user, pk) -> Bulletin:
    return one_or_404(bulletins_for_user(user), "没有找到这份通报，或您无权查看。", pk=pk)


def street_names() -> list[str]:
    return list(SubDistrict.objects.order_by("code").values_list("name", flat=True))
