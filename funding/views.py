"""Funding pages: the yearly table per 街办 and community, and entry forms for
区财政局 and 区民政局 users (others get 403)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.params import year_param
from core.views import service_form
from ui.listing import SortKey, sort_order

from . import services
from .forms import AllocationForm, SalaryForm, TaskFundForm
from .models import MAX_YEAR, MIN_YEAR
from .selectors import funding_table, may_enter_funding, task_funds_for_user


def _year(request: HttpRequest) -> int:
    return year_param(request, low=MIN_YEAR, high=MAX_YEAR)


def _standards(year: int) -> dict[str, Decimal]:
    from compliance.parameters import params_for
    from compliance.rules import registry

    as_of = min(dt.date(year, 12, 31), timezone.localdate()) if year <= timezone.localdate().year else dt.date(year, 1, 1)
    params = params_for(registry.get("M19.work_funds"), as_of)
    return {"city": Decimal(str(params["city_funds"])), "district": Decimal(str(params["district_funds"]))}


def _require_entry(user) -> None:
    if not may_enter_funding(user):
        raise PermissionDenied("经费由区财政局、区民政局录入，您无权录入。")


# The funding table's columns a reader may sort by (inside each 街办; funding_table's annotations).
FUNDING_SORTS = {
    "code": SortKey("社区代码", ["code"]),
    "name": SortKey("社区", ["name", "code"]),
    "city_planned": SortKey("市级配套（元）", ["city_planned", "code"]),
    "city_disbursed": SortKey("市级已拨付（元）", ["city_disbursed", "code"]),
    "district_planned": SortKey("区级配套（元）", ["district_planned", "code"]),
    "district_disbursed": SortKey("区级已拨付（元）", ["district_disbursed", "code"]),
    "city_gap": SortKey("市级缺口（元）", ["city_gap", "code"]),
    "district_gap": SortKey("区级缺口（元）", ["district_gap", "code"]),
    "task_total": SortKey("费随事转（元）", ["task_total", "code"]),
    "short": SortKey("结论", ["short_flag", "code"]),
}


@login_required
def funding_overview(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    standards = _standards(year)
    order, sorting = sort_order(request, FUNDING_SORTS, "code")
    context = {
        "year": year,
        "years": range(timezone.localdate().year + 1, timezone.localdate().year - 6, -1),
        "standards": standards,
        "sorting": sorting,
        "table": funding_table(request.user, year, standards, order),
        "tasks": task_funds_for_user(request.user).filter(year=year).select_related("community"),
        "can_enter": may_enter_funding(request.user),
    }
    return render(request, "funding/overview.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def allocation_entry(request: HttpRequest) -> HttpResponse:
    _require_entry(request.user)
    form = AllocationForm(request.POST or None, user=request.user, initial={"year": timezone.localdate().year})
    return service_form(
        request, form,
        save=lambda data: services.allocation_upsert(user=request.user, **data),
        message=lambda allocation: f"已保存：{allocation}，配套 {allocation.planned} 元。",
        success_url=lambda allocation: f"{reverse('funding:overview')}?year={allocation.year}",
        template="funding/entry_form.html", context={"form": form, "heading": "录入社区工作经费"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def salary_entry(request: HttpRequest) -> HttpResponse:
    _require_entry(request.user)
    form = SalaryForm(request.POST or None, initial={"year": timezone.localdate().year})
    return service_form(
        request, form,
        save=lambda data: services.salary_funding_upsert(user=request.user, **data),
        message=lambda funding: f"已保存：{funding}社区工作者薪酬经费 {funding.amount} 元。",
        success_url=reverse("funding:overview"),
        template="funding/entry_form.html", context={"form": form, "heading": "录入社区工作者薪酬经费"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_fund_entry(request: HttpRequest) -> HttpResponse:
    _require_entry(request.user)
    form = TaskFundForm(request.POST or None, user=request.user, initial={"year": timezone.localdate().year})
    return service_form(
        request, form,
        save=lambda data: services.task_fund_create(user=request.user, **data),
        message=lambda item: f"已登记费随事转事项：{item.task}。",
        success_url=reverse("funding:overview"),
        template="funding/entry_form.html", context={"form": form, "heading": "登记费随事转事项"},
    )
