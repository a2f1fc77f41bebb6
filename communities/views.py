"""Pages for 街道办事处, 社区 and 小区/院落.

Views parse input, ask a selector (reads) or a service (writes) and render.
Object URLs answer 404 for anything the user may not see or edit, so another
街办's id typed into the address bar reveals nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.roles import ROLE_LABELS, is_admin, roles_of
from core.history import RECORD_PAGE_HISTORY, history_rows, saved_message
from core.views import history_page, service_form
from ui.listing import SortKey, paginate, sort_queryset

from . import services
from .charts import size_charts
from .filters import CommunityFilter, CompoundFilter
from .forms import AdjustmentForm, CommunityForm, CompoundForm, RevokeForm
from .models import Community, CommunityStatus, Compound, Scale, SubDistrict
from .selectors import (
    communities_for_user,
    community_for_user,
    compound_for_user,
    compounds_for_user,
    may_change_community,
    own_sub_districts,
    sub_district_codes_for_user,
    sub_districts_for_user,
)

PAGE_SIZE = 50


# ---------------------------------------------------------------- helpers


def _can_change_community(user, community: Community) -> bool:
    return may_change_community(user, community)


def _can_change_compound(user, compound: Compound) -> bool:
    return compounds_for_user(user, "change").filter(pk=compound.pk).exists()


def _may_add(user, codename: str) -> bool:
    # A user may add only where they may also edit: a 街办 of their own (or any, for admins).
    if not (is_admin(user) or user.has_perm(f"communities.{codename}")):
        return False
    codes = sub_district_codes_for_user(user, "change_subdistrict")  # the page's rights, read once
    return SubDistrict.objects.exists() if codes is None else bool(codes)


def _page(request: HttpRequest, queryset):
    return paginate(request, queryset, PAGE_SIZE)


STREET_SORTS = {
    "code": SortKey("街道代码", ["code"]),
    "name": SortKey("街道办事处", ["name"]),
    "communities": SortKey("社区数", ["community_count", "code"]),
    "households": SortKey("户数", ["household_total", "code"]),
    "population": SortKey("常住人口", ["population_total", "code"]),
}
COMMUNITY_SORTS = {
    "code": SortKey("社区代码", ["code"]),
    "name": SortKey("社区名称", ["name"]),
    "street": SortKey("街道办事处", ["sub_district__code", "code"]),
    "households": SortKey("户数", ["households"]),
    "population": SortKey("常住人口", ["population"]),
    "scale": SortKey("规模", ["scale_class", "code"]),
    "status": SortKey("状态", ["status", "code"]),
}
COMPOUND_SORTS = {
    "code": SortKey("小区编号", ["code"]),
    "name": SortKey("小区名称", ["name"]),
    "community": SortKey("所属社区", ["community__name", "code"]),
    "street": SortKey("所在街道", ["sub_district__code", "code"]),
    "households": SortKey("户数", ["households"]),
    "built_on": SortKey("建成日期", ["built_on"]),
    "property_service": SortKey("物业服务方式", ["property_service", "code"]),
}


# ---------------------------------------------------------------- home and 街办


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    communities = communities_for_user(user)
    by_status = {row["status"]: row["n"] for row in communities.values("status").annotate(n=Count("id")).order_by()}
    by_scale = {
        row["scale_class"]: row["n"]
        for row in communities.judged().with_scale().values("scale_class").annotate(n=Count("id")).order_by()
    }
    context = {
        "roles": [ROLE_LABELS[r] for r in sorted(roles_of(user))],
        "own_streets": list(own_sub_districts(user)),
        "status_counts": [(label, by_status.get(value, 0), value) for value, label in CommunityStatus.choices],
        "scale_counts": [(label, by_scale.get(value, 0), value) for value, label in Scale.choices],
        "community_total": sum(by_status.values()),
        "compound_total": compounds_for_user(user).count(),
        "unassigned_total": compounds_for_user(user).filter(community__isnull=True).count(),
        "can_add_community": _may_add(user, "add_community"),
        "can_add_compound": _may_add(user, "add_compound"),
    }
    return render(request, "communities/home.html", context)


@login_required
def subdistrict_list(request: HttpRequest) -> HttpResponse:
    live = ~Q(communities__status=CommunityStatus.REVOKED)
    annotated = sub_districts_for_user(request.user).annotate(
        community_count=Count("communities", filter=live),
        household_total=Sum("communities__households", filter=live),
        population_total=Sum("communities__population", filter=live),
    )
    ordered, sorting = sort_queryset(request, annotated, STREET_SORTS, "code")
    streets = list(ordered)
    totals = {
        "community_count": sum(s.community_count for s in streets),
        "household_total": sum(s.household_total or 0 for s in streets),
        "population_total": sum(s.population_total or 0 for s in streets),
    }
    return render(request, "communities/subdistrict_list.html",
                  {"streets": streets, "totals": totals, "sorting": sorting})


# ---------------------------------------------------------------- 社区


@login_required
def community_list(request: HttpRequest) -> HttpResponse:
    queryset = communities_for_user(request.user).with_scale().select_related("sub_district")
    filterset = CommunityFilter(request.GET or None, queryset=queryset, request=request)
    ordered, sorting = sort_queryset(request, filterset.qs, COMMUNITY_SORTS, "code")
    page = _page(request, ordered)
    return render(
        request,
        "communities/community_list.html",
        {
            "filter": filterset,
            "page": page,
            "sorting": sorting,
            "charts": size_charts(filterset.qs),
            "can_add": _may_add(request.user, "add_community"),
        },
    )


@login_required
def community_detail(request: HttpRequest, pk: int) -> HttpResponse:
    community = community_for_user(request.user, pk)
    compounds = list(community.compounds.order_by("code"))
    context = {
        "community": community,
        "compounds": compounds,
        "compound_household_total": sum(c.households or 0 for c in compounds),
        "adjustments": community.adjustments.all(),
        "history": history_rows(community, RECORD_PAGE_HISTORY),
        "history_url": reverse("communities:community_history", args=[community.pk]),
        "can_edit": _can_change_community(request.user, community),
    }
    return render(request, "communities/community_detail.html", context)


@login_required
def community_history(request: HttpRequest, pk: int) -> HttpResponse:
    community = community_for_user(request.user, pk)
    return history_page(request, community, kind="社区", list_url=reverse("communities:community_list"), name=community.name,
                        back_url=reverse("communities:community_detail", args=[community.pk]))


@login_required
def community_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The community's one-page 档案 for paper: its figures, 四至, compounds and the three panels."""
    community = community_for_user(request.user, pk)
    compounds = list(community.compounds.order_by("code").only("code", "name", "households"))
    context = {
        "community": community,
        "compounds": compounds,
        "compound_household_total": sum(c.households or 0 for c in compounds),
        "adjustments": community.adjustments.all(),
        "today": timezone.localdate(),
    }
    return render(request, "communities/community_print.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def community_create(request: HttpRequest) -> HttpResponse:
    if not _may_add(request.user, "add_community"):
        raise PermissionDenied("您无权新建社区。")
    streets = list(sub_districts_for_user(request.user, "change_subdistrict"))
    form = CommunityForm(request.POST or None, user=request.user)
    if request.method == "GET" and len(streets) == 1:
        form.initial.update({"sub_district": streets[0].code, "code": streets[0].code})
    return service_form(
        request, form,
        save=lambda data: services.community_create(user=request.user, **data),
        message=lambda community: f"已新建社区：{community.name}（{community.code}）。",
        success_url=lambda community: reverse("communities:community_detail", args=[community.pk]),
        template="communities/community_form.html", context={"form": form, "community": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def community_edit(request: HttpRequest, pk: int) -> HttpResponse:
    community = community_for_user(request.user, pk, "change_community")
    # The form validates a copy, so the service still sees the stored values
    # and can tell what changed.
    form = CommunityForm(request.POST or None, instance=copy.copy(community), user=request.user)

    def save(data: dict[str, Any]) -> str:
        fields = {name: data[name] for name in form.fields}
        # A figure a clerk typed in is a real one: its 示例值 badge goes, the other figure's stays.
        if community.figures_are_sample and fields["households"] != community.households:
            fields["figures_are_sample"] = False
        if community.population_is_sample and fields["population"] != community.population:
            fields["population_is_sample"] = False
        before = {name: getattr(community, name) for name in fields}
        changed = services.community_update(community=community, user=request.user, **fields)
        return saved_message(Community, before, community, changed)

    return service_form(
        request, form, save=save, message=lambda text: text,
        success_url=reverse("communities:community_detail", args=[community.pk]),
        template="communities/community_form.html", context={"form": form, "community": community},
    )


@login_required
@require_http_methods(["GET", "POST"])
def community_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    community = community_for_user(request.user, pk, "change_community")
    if community.is_revoked:
        messages.info(request, f"{community.name}已于 {community.revoked_on:%Y-%m-%d} 撤销。")
        return redirect("communities:community_detail", pk=community.pk)
    form = RevokeForm(request.POST or None)
    return service_form(
        request, form,
        save=lambda data: services.community_revoke(
            community=community, on=data["revoked_on"], user=request.user, reason=data["reason"]),
        message=lambda _: f"已撤销社区：{community.name}（{community.code}），撤销日期 {community.revoked_on:%Y-%m-%d}。",
        success_url=reverse("communities:community_detail", args=[community.pk]),
        template="communities/community_revoke.html", context={"form": form, "community": community},
        # The service changed the instance before validating; reload so the page shows what is stored.
        on_error=community.refresh_from_db,
        # This page never said what the revocation re-judged (the community's findings close with it).
        report=False,
    )


@login_required
@require_http_methods(["GET", "POST"])
def adjustment_create(request: HttpRequest, pk: int) -> HttpResponse:
    community = community_for_user(request.user, pk, "change_community")
    form = AdjustmentForm(request.POST or None)
    return service_form(
        request, form,
        save=lambda data: services.adjustment_create(community=community, user=request.user, **data),
        message=lambda adjustment: f"已登记调整记录：{community.name} {adjustment.get_kind_display()}。",
        success_url=reverse("communities:community_detail", args=[community.pk]),
        template="communities/adjustment_form.html", context={"form": form, "community": community},
    )


# ---------------------------------------------------------------- 小区/院落


@login_required
def compound_list(request: HttpRequest) -> HttpResponse:
    queryset = compounds_for_user(request.user).select_related("community", "sub_district")
    filterset = CompoundFilter(request.GET or None, queryset=queryset, request=request)
    ordered, sorting = sort_queryset(request, filterset.qs, COMPOUND_SORTS, "code")
    page = _page(request, ordered)
    return render(
        request,
        "communities/compound_list.html",
        {"filter": filterset, "page": page, "sorting": sorting, "can_add": _may_add(request.user, "add_compound")},
    )


@login_required
def compound_detail(request: HttpRequest, pk: int) -> HttpResponse:
    compound = compound_for_user(request.user, pk)
    context = {
        "compound": compound,
        "history": history_rows(compound, RECORD_PAGE_HISTORY),
        "history_url": reverse("communities:compound_history", args=[compound.pk]),
        "can_edit": _can_change_compound(request.user, compound),
    }
    return render(request, "communities/compound_detail.html", context)


@login_required
def compound_history(request: HttpRequest, pk: int) -> HttpResponse:
    compound = compound_for_user(request.user, pk)
    return history_page(request, compound, kind="小区/院落", list_url=reverse("communities:compound_list"), name=compound.name,
                        back_url=reverse("communities:compound_detail", args=[compound.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def compound_create(request: HttpRequest) -> HttpResponse:
    if not _may_add(request.user, "add_compound"):
        raise PermissionDenied("您无权新建小区。")
    form = CompoundForm(request.POST or None, user=request.user)
    if request.method == "GET":
        wanted = request.GET.get("community", "")
        community = (
            communities_for_user(request.user, "change_community").filter(pk=int(wanted)).first()
            if wanted.isdigit()
            else None
        )
        if community is not None:
            form.initial.update({"community": community.pk, "sub_district": community.sub_district_id})
    return service_form(
        request, form,
        save=lambda data: services.compound_create(user=request.user, **data),
        message=lambda compound: f"已新建小区：{compound.name}（{compound.code}）。",
        success_url=lambda compound: reverse("communities:compound_detail", args=[compound.pk]),
        template="communities/compound_form.html", context={"form": form, "compound": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def compound_edit(request: HttpRequest, pk: int) -> HttpResponse:
    compound = compound_for_user(request.user, pk, "change")
    form = CompoundForm(request.POST or None, instance=copy.copy(compound), user=request.user)

    def save(data: dict[str, Any]) -> str:
        fields = {name: data[name] for name in form.fields}
        before = {name: getattr(compound, name) for name in fields}
        changed = services.compound_update(compound=compound, user=request.user, **fields)
        return saved_message(Compound, before, compound, changed)

    return service_form(
        request, form, save=save, message=lambda text: text,
        success_url=reverse("communities:compound_detail", args=[compound.pk]),
        template="communities/compound_form.html", context={"form": form, "compound": compound},
    )
