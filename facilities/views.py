"""Facility pages: list, detail with the lifecycle timeline, forms, and the step actions.

A step action answers 404 for a facility the user may not see and 403 for a
step that belongs to another unit.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from communities.selectors import communities_for_user, may_change_community
from core.history import RECORD_PAGE_HISTORY, history_rows
from core.views import history_page, service_action, service_form
from ui.listing import SortKey, paginate, sort_queryset

from . import services
from .charts import area_per_100_chart
from .forms import FacilityForm, StepForm
from .lifecycle import ORDER, may_act, transitions_from
from .models import FacilityKind, FacilityStatus
from .selectors import facilities_for_user, facility_for_user

PAGE_SIZE = 50


def _may_add(user) -> bool:
    return communities_for_user(user, "change_community").exists()


FACILITY_SORTS = {
    "code": SortKey("设施编号", ["code"]),
    "name": SortKey("设施名称", ["name"]),
    "community": SortKey("社区", ["community__code", "code"]),
    "street": SortKey("街道", ["community__sub_district__code", "community__code", "code"]),
    "kind": SortKey("类型", ["kind", "code"]),
    "category": SortKey("服务类别", ["service_category", "code"]),
    "building_area": SortKey("建筑面积（㎡）", ["building_area"]),
    "activity_area": SortKey("居民活动区域（㎡）", ["activity_area"]),
    "site_area": SortKey("场地面积（㎡）", ["site_area"]),
    "status": SortKey("状态", ["status", "code"]),
}


@login_required
def facility_list(request: HttpRequest) -> HttpResponse:
    facilities = facilities_for_user(request.user).select_related("community__sub_district")
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    if q:
        facilities = facilities.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(community__name__icontains=q))
    if kind in FacilityKind.values:
        facilities = facilities.filter(kind=kind)
    if status in FacilityStatus.values:
        facilities = facilities.filter(status=status)
    ordered, sorting = sort_queryset(request, facilities, FACILITY_SORTS, "community")
    page = paginate(request, ordered, PAGE_SIZE)
    context = {
        "page": page,
        "sorting": sorting,
        "charts": [area_per_100_chart(communities_for_user(request.user))],
        "q": q,
        "kind": kind,
        "status": status,
        "kinds": FacilityKind.choices,
        "statuses": FacilityStatus.choices,
        "can_add": _may_add(request.user),
    }
    return render(request, "facilities/facility_list.html", context)


@login_required
def facility_detail(request: HttpRequest, pk: int) -> HttpResponse:
    facility = facility_for_user(request.user, pk)
    actions = [
        {"transition": t, "form": StepForm(prefix=t.target)}
        for t in transitions_from(facility.status)
        if may_act(request.user, t, facility)
    ]
    pending = [{"transition": t} for t in transitions_from(facility.status) if not may_act(request.user, t, facility)]
    reached = ORDER.index(FacilityStatus(facility.status)) if facility.status in ORDER else len(ORDER)
    context = {
        "facility": facility,
        "steps": facility.steps.select_related("actor"),
        "stages": [(S.label, i <= reached) for i, S in enumerate(ORDER)],
        "actions": actions,
        "pending": pending,
        "history": history_rows(facility, RECORD_PAGE_HISTORY),
        "history_url": reverse("facilities:facility_history", args=[facility.pk]),
        # facilities_for_user(user, "change_community") holds it exactly when it holds the facility's community.
        "can_edit": facility.community is not None and may_change_community(request.user, facility.community),
    }
    return render(request, "facilities/facility_detail.html", context)


@login_required
def facility_history(request: HttpRequest, pk: int) -> HttpResponse:
    facility = facility_for_user(request.user, pk)
    return history_page(request, facility, kind="服务设施", list_url=reverse("facilities:facility_list"), name=facility.name,
                        back_url=reverse("facilities:facility_detail", args=[facility.pk]))


@login_required
@require_POST
def facility_advance(request: HttpRequest, pk: int) -> HttpResponse:
    facility = facility_for_user(request.user, pk)
    to_status = request.POST.get("to_status", "")
    form = StepForm(request.POST, prefix=to_status)
    if not form.is_valid():
        messages.error(request, "办理日期格式应为 YYYY-MM-DD。")
        return redirect("facilities:facility_detail", pk=facility.pk)
    # A step of another unit raises PermissionDenied (403), which service_action lets through.
    return service_action(
        request,
        save=lambda: services.facility_advance(
            facility=facility, to_status=to_status, user=request.user, on=form.cleaned_data["on"],
            note=form.cleaned_data["note"],
        ),
        message=lambda step: f"已办理“{step.step}”：状态改为“{step.get_to_status_display()}”。",
        next_url=reverse("facilities:facility_detail", args=[facility.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def facility_create(request: HttpRequest) -> HttpResponse:
    if not _may_add(request.user):
        raise PermissionDenied("您无权登记设施。")
    form = FacilityForm(request.POST or None, user=request.user, creating=True)
    community_pk = request.GET.get("community")
    if request.method == "GET" and community_pk:
        form.initial["community"] = community_pk
    return service_form(
        request, form,
        save=lambda data: services.facility_create(user=request.user, **data),
        message=lambda facility: f"已登记设施：{facility.name}（{facility.code}）。",
        success_url=lambda facility: reverse("facilities:facility_detail", args=[facility.pk]),
        template="facilities/facility_form.html", context={"form": form, "facility": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def facility_edit(request: HttpRequest, pk: int) -> HttpResponse:
    facility = facility_for_user(request.user, pk, "change_community")
    form = FacilityForm(request.POST or None, instance=copy.copy(facility), user=request.user, creating=False)
    return service_form(
        request, form,
        save=lambda data: services.facility_update(facility=facility, user=request.user, **data),
        message=lambda changed: "已保存。" if changed else "没有修改任何内容。",
        success_url=reverse("facilities:facility_detail", args=[facility.pk]),
        template="facilities/facility_form.html", context={"form": form, "facility": facility},
    )
