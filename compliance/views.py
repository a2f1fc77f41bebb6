"""The compliance pages: dashboard, findings, a finding, the rule catalogue, sweeps, supervision.

Views parse input, ask a selector (reads) or a service (writes) and render.
Every page works for whatever rules are registered: the catalogue and the
registry are read at request time, never copied into templates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import is_reviewer
from audit.context import client_ip
from lianhu.queue import QueueUnavailable, enqueue
from ui.listing import SORT_PARAM, SortKey, paginate, sort_queryset, sort_rows

from . import catalogue, charts, duties, escalation, requirements, services
from .catalogue import Severity, Target
from .district import district_figures
from .filters import FindingFilter
from .forms import ParameterForm, SupervisionForm, SweepStartForm, WaiveForm
from .models import (
    Finding,
    FindingEvent,
    FindingEventKind,
    FindingStatus,
    ResponsibleKind,
    RuleParameter,
    SupervisionAction,
    Sweep,
    SweepStatus,
)
from .names import rule_name
from .parameters import param_label, params_for_rules, type_label
from .policy import NO_RULE_REASONS, POLICY_TITLE, clause_text
from .rules import registry
from .selectors import (
    finding_for_user,
    findings_for_user,
    last_finished_sweep,
    sees_whole_district,
    streets_for_user,
    sweep_findings_for_user,
)
from .sweeps import nightly_sweep

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
DISTRICT_COLUMN = "district"


def _reference_date(sweep: Sweep | None) -> dt.date:
    """The ladder is read as of the last sweep's date (today before any sweep)."""
    return sweep.as_of if sweep is not None else timezone.localdate()


def _list_url(**params: Any) -> str:
    return f"{reverse('compliance:finding_list')}?{urlencode({k: v for k, v in params.items() if v != ''})}"


def _error_text(error: ValidationError) -> str:
    return "；".join(error.messages)


def _form_errors(form) -> str:
    return "；".join(str(e) for errors in form.errors.values() for e in errors)


# ---------------------------------------------------------------- dashboard


@login_required
@require_GET
def district_figures_page(request: HttpRequest) -> HttpResponse:

    today = timezone.localdate()
    return render(request, "compliance/district_figures.html", {
        "figures": district_figures(today), "as_of": today, "policy_title": POLICY_TITLE,
    })


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    streets = list(streets_for_user(user).order_by("code").only("code", "name"))
    whole = sees_whole_district(user)
    open_findings = findings_for_user(user).filter(status=FindingStatus.OPEN)

    def grouped(*keys: str):
        return (
            open_findings.values(*keys)
            .annotate(
                communities=Count("community", distinct=True),
                orphans=Count("id", filter=Q(community__isnull=True)),
                n=Count("id"),
            )
            .order_by()
        )

    cells = {(r["clause"], r["sub_district_id"] or DISTRICT_COLUMN, r["severity"]): r
             for r in grouped("clause", "sub_district_id", "severity")}
    row_totals = {(r["clause"], r["severity"]): r for r in grouped("clause", "severity")}
    col_totals = {(r["sub_district_id"] or DISTRICT_COLUMN, r["severity"]): r
                  for r in grouped("sub_district_id", "severity")}
    grand = {r["severity"]: r for r in grouped("severity")}

    columns = [(s.code, s.name) for s in streets] + [(DISTRICT_COLUMN, "全区/未划街办")]
    implemented = defaultdict(list)
    for rule in registry.all():
        implemented[rule.clause].append(rule.id)

    def cell(found: dict | None, **link: Any) -> dict[str, Any]:
        if not found:
            return {"n": 0}
        # The district column holds findings with no 街办 (district-wide ones): counted as findings.
        return {"n": found["n"], "communities": found["communities"], "orphans": found["orphans"],
                "plain": link.get("no_street") == "1", "url": _list_url(status="open", **link)}

    rows = []
    for number, info in catalogue.CLAUSES.items():
        row_cells = []
        for code, _name in columns:
            link: dict[str, Any] = {"clause": number}
            if code == DISTRICT_COLUMN:
                link["no_street"] = "1"
            else:
                link["sub_district"] = code
            row_cells.append([
                (sev, label, cell(cells.get((number, code, sev)), severity=sev, **link))
                for sev, label in Severity.CHOICES
            ])
        rows.append({
            "number": number, "numeral": info.numeral, "title": info.title,
            "rule_count": len(implemented.get(number, [])), "cells": row_cells,
            "total": [(sev, label, cell(row_totals.get((number, sev)), clause=number, severity=sev))
                      for sev, label in Severity.CHOICES],
        })
    totals = []
    for code, _name in columns:
        link = {"no_street": "1"} if code == DISTRICT_COLUMN else {"sub_district": code}
        totals.append([(sev, label, cell(col_totals.get((code, sev)), severity=sev, **link))
                       for sev, label in Severity.CHOICES])
    grand_totals = [(sev, label, cell(grand.get(sev), severity=sev)) for sev, label in Severity.CHOICES]

    sweep = last_finished_sweep()
    running = Sweep.objects.filter(status=SweepStatus.RUNNING).first()
    reference = _reference_date(sweep)
    thresholds = escalation.params(reference)
    # A clerk's ladder is their 街办's own; a department's findings in their area are the department's rung.
    ladder_findings = open_findings if whole else open_findings.filter(responsible_kind=ResponsibleKind.STREET)
    context = {
        "columns": columns,
        "rows": rows,
        "totals": totals,
        "grand_totals": grand_totals,
        "sweep": sweep,
        "running": running,
        "reference": reference,
        "thresholds": thresholds,
        "ladder": escalation.ladder(ladder_findings, thresholds),
        "whole": whole,
        "can_review": is_reviewer(user),
        "charts": [charts.street_severity_chart(user), charts.open_trend_chart(user)],
    }
    return render(request, "compliance/dashboard.html", context)


# ---------------------------------------------------------------- findings


LIST_COLUMNS = ("clause", "rule_id", "target_type", "target_key", "community", "community__name", "sub_district",
                "sub_district__name", "severity", "message", "first_seen", "last_seen", "status", "due_date",
                "responsible_kind", "responsible_unit")


# 违规 first when sorted "descending" by severity: rank by weight, not by the stored word.
SEVERITY_RANK = Case(*[When(severity=sev, then=Value(rank)) for sev, rank in Severity.RANK.items()],
                     default=Value(0), output_field=IntegerField())
FINDING_SORTS = {
    "clause": SortKey("措施", ["clause", "rule_id", "sub_district_id", "target_key"]),
    "rule": SortKey("规则", ["rule_id", "sub_district_id", "target_key"]),
    "target": SortKey("对象", ["target_key"]),
    "community": SortKey("社区", ["community__name", "target_key"]),
    "street": SortKey("街道办事处", ["sub_district_id", "clause", "rule_id", "target_key"]),
    "severity": SortKey("严重程度", ["severity_rank", "clause", "rule_id", "target_key"]),
    "first_seen": SortKey("首次发现", ["first_seen", "clause", "rule_id"]),
    "status": SortKey("状态", ["status", "clause", "rule_id", "target_key"]),
    "escalation": SortKey("督导", ["overdue_for", "clause", "rule_id"]),
}


@login_required
def finding_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    data = request.GET.copy()
    if "status" not in data:
        # Arriving without a choice means "what still needs doing"; 全部状态 sends status="".
        data["status"] = FindingStatus.OPEN
    sweep = last_finished_sweep()
    thresholds = escalation.params(_reference_date(sweep))
    # Only the columns a row shows: decoding the JSON figures and building whole communities for 50 rows
    # is wasted work (the constant-query test would catch a row reaching for a deferred column).
    rows = findings_for_user(user).select_related("community", "sub_district").only(*LIST_COLUMNS)
    # The 督导 level is the database's only when the list is sorted by it; otherwise the page's rows get it
    # here, by the same rule (compiling the annotation's CASE cost more than judging 50 rows).
    by_level = request.GET.get(SORT_PARAM, "").lstrip("-") == "escalation"
    queryset = (escalation.with_level(rows, thresholds) if by_level else rows).alias(severity_rank=SEVERITY_RANK)
    if data.get("no_street"):
        queryset = queryset.filter(sub_district__isnull=True)
    filterset = FindingFilter(data, queryset=queryset, request=request)
    ordered, sorting = sort_queryset(request, filterset.qs, FINDING_SORTS, "clause")
    page = paginate(request, ordered, PAGE_SIZE)
    if not by_level:
        escalation.set_levels(page.object_list, thresholds, sweep.as_of if sweep is not None else None)
    return render(request, "compliance/finding_list.html", {
        "filter": filterset, "page": page, "sorting": sorting, "no_street": bool(data.get("no_street")),
    })


def _target_link(finding: Finding) -> str:
    if finding.target_type == Target.COMMUNITY and finding.community_id:
        return reverse("communities:community_detail", args=[finding.community_id])
    if finding.target_type == Target.COMPOUND:
        return reverse("communities:compound_detail", args=[finding.target_pk])
    if finding.target_type == Target.FACILITY:
        return reverse("facilities:facility_detail", args=[finding.target_pk])
    if finding.target_type == Target.PERSON:
        return reverse("staffing:person_detail", args=[finding.target_key])
    return ""


def _finding_page(request: HttpRequest, finding: Finding, *, waive_form=None, supervision_form=None,
                  status: int = 200) -> HttpResponse:
    user = request.user
    spec = catalogue.RULES.get(finding.rule_id)
    rule = registry.get(finding.rule_id) if finding.rule_id in registry else None
    info = catalogue.CLAUSES.get(finding.clause)
    seen = escalation.seen_until(finding)
    thresholds = escalation.params(seen)
    days_open = (seen - finding.first_seen).days
    overdue = escalation.days_overdue(finding.due_date, seen)
    level = escalation.level_for(overdue, thresholds) if finding.status == FindingStatus.OPEN else ""
    reviewer = is_reviewer(user)
    context = {
        "finding": finding,
        "spec": spec,
        "rule": rule,
        "clause": info,
        "clause_text": clause_text(finding.clause),
        "policy_title": POLICY_TITLE,
        "target_link": _target_link(finding),
        "events": finding.events.select_related("user", "sweep"),
        "actions": finding.actions.select_related("taken_by"),
        "unit": escalation.unit_for(finding),
        "lead": finding.lead_name,
        "days_open": days_open,
        "days_overdue": overdue,
        "seen_until": seen,
        "level": dict(escalation.SupervisionLevel.choices).get(level, ""),
        "thresholds": thresholds,
        "can_waive": reviewer and finding.status == FindingStatus.OPEN,
        "can_supervise": reviewer,
        "waive_form": waive_form or WaiveForm(),
        "supervision_form": supervision_form or SupervisionForm(),
    }
    return render(request, "compliance/finding_detail.html", context, status=status)


@login_required
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _finding_page(request, finding_for_user(request.user, pk))


@login_required
@require_POST
def finding_waive(request: HttpRequest, pk: int) -> HttpResponse:
    finding = finding_for_user(request.user, pk)
    if not is_reviewer(request.user):
        raise PermissionDenied("只有区民政局审核员可以豁免问题。")
    form = WaiveForm(request.POST)
    if form.is_valid():
        try:
            services.finding_waive(finding=finding, user=request.user, reason=form.cleaned_data["reason"],
                                   until=form.cleaned_data["until"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"已豁免至 {finding.waived_until:%Y-%m-%d}：{rule_name(finding.rule_id)} {finding.target_label}。"
                                      "豁免到期后如数据仍不达标，问题将重新打开。")
            return redirect("compliance:finding_detail", pk=finding.pk)
    return _finding_page(request, finding, waive_form=form, status=400)


@login_required
@require_POST
def finding_supervise(request: HttpRequest, pk: int) -> HttpResponse:
    finding = finding_for_user(request.user, pk)
    if not is_reviewer(request.user):
        raise PermissionDenied("只有区民政局审核员可以登记督导措施。")
    form = SupervisionForm(request.POST)
    if form.is_valid():
        try:
            action = services.supervision_action_record(user=request.user, finding=finding, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"已登记督导：对{action.unit}{action.get_level_display()}"
                                      f"（{action.taken_on:%Y-%m-%d}）。")
            return redirect("compliance:finding_detail", pk=finding.pk)
    return _finding_page(request, finding, supervision_form=form, status=400)


# ---------------------------------------------------------------- supervision


@login_required
@require_http_methods(["GET", "POST"])
def supervision_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    reviewer = is_reviewer(user)
    form = SupervisionForm(request.POST or None)
    if request.method == "POST":
        if not reviewer:
            raise PermissionDenied("只有区民政局审核员可以登记督导措施。")
        unit = request.POST.get("unit", "")
        if form.is_valid():
            try:
                action = services.supervision_action_record(user=user, unit=unit, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"已登记督导：对{action.unit}{action.get_level_display()}"
                                          f"（{action.taken_on:%Y-%m-%d}）。")
                return redirect("compliance:supervision_list")
    actions = SupervisionAction.objects.select_related("taken_by", "finding")
    if not sees_whole_district(user):
        names = [s.name for s in streets_for_user(user)]
        actions = actions.filter(Q(sub_district__in=streets_for_user(user)) | Q(unit__in=names))
    unit_filter = request.GET.get("unit", "")
    if unit_filter:
        actions = actions.filter(unit=unit_filter)
    ordered, sorting = sort_queryset(request, actions, SUPERVISION_SORTS, "-taken_on")
    page = paginate(request, ordered, PAGE_SIZE)
    units = [s.name for s in streets_for_user(user).order_by("code")]
    return render(request, "compliance/supervision_list.html", {
        "page": page, "sorting": sorting, "form": form, "can_supervise": reviewer, "units": units,
        "unit": request.POST.get("unit", unit_filter),
    }, status=400 if request.method == "POST" else 200)


# ---------------------------------------------------------------- rule catalogue


def _fmt(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _clause_status_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {k: sum(1 for r in rows if r["req"].status == k) for k in requirements.STATUS_LABELS}


# The coverage matrix's columns (rows are the 20 措施, built in Python: ui.listing.sort_rows).
CATALOGUE_SORTS = {
    "number": SortKey("措施", ["number"]),
    "lead": SortKey("牵头单位", ["lead", "number"]),
    "responsible": SortKey("责任单位", ["responsible", "number"]),
    "checked": SortKey("要求（检查/记录/不可检查）", ["checked", "number"]),
    "rules": SortKey("规则", ["rule_count", "number"]),
}


@login_required
def rule_catalogue(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    rules = registry.all()
    current = params_for_rules(rules, today)
    deadline_now = duties.deadline_params(today)
    history: dict[tuple[str, str], list[RuleParameter]] = defaultdict(list)
    for p in RuleParameter.objects.select_related("set_by").order_by("effective_from", "created_at", "id"):
        history[(p.rule_id, p.name)].append(p)
    sweep = last_finished_sweep()
    visible = findings_for_user(user)
    sweep_counts: dict[tuple[str, str], int] = {}
    if sweep is not None:
        for row in (FindingEvent.objects.filter(sweep=sweep, finding__in=visible)
                    .values("finding__rule_id", "kind").annotate(n=Count("id")).order_by()):
            sweep_counts[(row["finding__rule_id"], row["kind"])] = row["n"]
    open_counts = dict(visible.filter(status=FindingStatus.OPEN).values_list("rule_id").annotate(n=Count("id"))
                       .order_by())
    reviewer = is_reviewer(user)

    clauses = []
    for number, info in catalogue.CLAUSES.items():
        specs = sorted(catalogue.rules_of_clause(number), key=lambda s: s.id)
        items = []
        for spec in specs:
            rule = registry.get(spec.id) if spec.id in registry else None
            params = []
            for name, default in (rule.params if rule else spec.params).items():
                params.append({
                    "name": name,
                    "label": param_label(name),
                    "default": _fmt(default),
                    "current": _fmt(current[spec.id][name]) if rule else _fmt(default),
                    "kind": type_label(default),
                    "history": history.get((spec.id, name), []),
                })
            for name, source in spec.shared.items():
                source_spec = catalogue.RULES[source]
                params.append({
                    "name": name,
                    "label": param_label(name),
                    "current": _fmt(current[spec.id][name]) if rule else "",
                    "shared_from": source,
                    "shared_title": f"措施{source_spec.numeral}·{source_spec.title}",
                })
            duty = duties.duty(spec.id)
            items.append({
                "spec": spec,
                "rule": rule,
                "responsible": duties.responsible_label(spec.id),
                "lead": duties.lead_labels(duty.lead_code),
                "due": duties.due_label(spec.id, spec.severity, deadline_now),
                "reading": rule.reading if rule else "",
                "params": params,
                "opened": sweep_counts.get((spec.id, FindingEventKind.OPENED), 0)
                + sweep_counts.get((spec.id, FindingEventKind.REOPENED), 0),
                "resolved": sweep_counts.get((spec.id, FindingEventKind.RESOLVED), 0),
                "open": open_counts.get(spec.id, 0),
                "in_sweep": sweep is not None and spec.id in sweep.rule_ids,
            })
        req_rows = _requirement_rows(number)
        counts = _clause_status_counts(req_rows)
        clauses.append({
            "info": info,
            "text": clause_text(number),
            "rules": items,
            "no_rule_reason": NO_RULE_REASONS.get(number, "") if not specs else "",
            "requirements": req_rows,
            "requirement_counts": counts,
            # Flat, for the coverage matrix's sort headers (CATALOGUE_SORTS).
            "number": number, "lead": info.lead_text, "responsible": info.responsible_text,
            "checked": counts.get("checked", 0), "rule_count": len(items),
        })
    matrix, sorting = sort_rows(request, clauses, CATALOGUE_SORTS, "number")
    deadline_params = [
        {"name": name, "label": duties.DEADLINE_LABELS[name], "default": default, "current": deadline_now[name],
         "kind": "整数", "history": history.get((duties.DEADLINE_KEY, name), [])}
        for name, default in duties.DEADLINE_DEFAULTS.items()
    ]
    esc = escalation.params(today)
    escalation_params = [
        {"name": name, "label": escalation.PARAM_LABELS[name], "default": default, "current": esc[name],
         "kind": "整数", "history": history.get((escalation.ESCALATION_KEY, name), [])}
        for name, default in escalation.DEFAULTS.items()
    ]
    return render(request, "compliance/rule_catalogue.html", {
        "clauses": clauses,
        "matrix": matrix,
        "sorting": sorting,
        "sweep": sweep,
        "can_edit": reviewer,
        "form": ParameterForm(initial={"effective_from": today}),
        "escalation_params": escalation_params,
        "escalation_key": escalation.ESCALATION_KEY,
        "requirement_counts": [(requirements.STATUS_LABELS[k], n, k) for k, n in requirements.status_counts().items()],
        "requirement_total": len(requirements.REQUIREMENTS),
        "attachment_requirements": _requirement_rows(requirements.ATTACHMENT),
        "deadline_params": deadline_params,
        "deadline_key": duties.DEADLINE_KEY,
        "policy_title": POLICY_TITLE,
    })


def _requirement_rows(number: int) -> list[dict[str, Any]]:
    """A 措施's requirements as the catalogue shows them: rules by their Chinese titles, ids only in tooltips."""
    rows = []
    for req in requirements.of_clause(number):
        rows.append({
            "req": req,
            "rules": [(rule_id, catalogue.RULES[rule_id].title) for rule_id in req.rules],
        })
    return rows


def _param_title(rule_id: str, name: str) -> str:
    """「措施四·户数规模 · 户数下限（户）」: how a message names a parameter."""
    if rule_id == escalation.ESCALATION_KEY:
        return f"「{escalation.ESCALATION_TITLE} · {escalation.PARAM_LABELS.get(name, name)}」"
    return f"「{rule_name(rule_id)} · {param_label(name)}」"


@login_required
@require_POST
def parameter_set(request: HttpRequest, rule_id: str, name: str) -> HttpResponse:
    if not is_reviewer(request.user):
        raise PermissionDenied("只有区民政局审核员或管理员可以调整规则参数。")
    anchor = rule_id if rule_id in (escalation.ESCALATION_KEY, duties.DEADLINE_KEY) else rule_id.replace(".", "-")
    form = ParameterForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"参数{_param_title(rule_id, name)}未修改：{_form_errors(form)}")
        return redirect(f"{reverse('compliance:rule_catalogue')}#{anchor}")
    data = form.cleaned_data
    try:
        if rule_id == duties.DEADLINE_KEY:
            saved = services.deadline_parameter_set(name=name, value=data["value"], user=request.user,
                                                    effective_from=data["effective_from"], reason=data["reason"])
        elif rule_id == escalation.ESCALATION_KEY:
            saved = services.escalation_parameter_set(name=name, value=data["value"], user=request.user,
                                                      effective_from=data["effective_from"], reason=data["reason"])
        else:
            saved = services.rule_parameter_set(rule_id=rule_id, name=name, value=data["value"], user=request.user,
                                                effective_from=data["effective_from"], reason=data["reason"])
    except ValidationError as error:
        messages.error(request, f"参数{_param_title(rule_id, name)}未修改：{_error_text(error)}")
    else:
        messages.success(request, f"已设置{_param_title(rule_id, name)}为 {_fmt(saved.value)}，"
                                  f"自 {saved.effective_from:%Y-%m-%d} 起生效；原取值保留在历史中。")
    return redirect(f"{reverse('compliance:rule_catalogue')}#{anchor}")


# ---------------------------------------------------------------- sweeps


SUPERVISION_SORTS = {
    "taken_on": SortKey("日期", ["taken_on", "created_at"]),
    "level": SortKey("方式", ["level", "-taken_on"]),
    "unit": SortKey("责任单位", ["unit", "-taken_on"]),
}
SWEEP_SORTS = {
    "as_of": SortKey("评估日期", ["as_of", "started_at"]),
    "started": SortKey("开始", ["started_at"]),
    "finished": SortKey("结束", ["finished_at"]),
    "status": SortKey("状态", ["status", "-started_at"]),
    "opened": SortKey("新发现", ["opened"]),
    "resolved": SortKey("已整改", ["resolved"]),
    "still_open": SortKey("仍未整改", ["still_open"]),
}


@login_required
def sweep_list(request: HttpRequest) -> HttpResponse:
    ordered, sorting = sort_queryset(request, Sweep.objects.all(), SWEEP_SORTS, "-started")
    page = paginate(request, ordered, PAGE_SIZE)
    return render(request, "compliance/sweep_list.html", {
        "page": page, "sorting": sorting, "can_start": is_reviewer(request.user), "form": SweepStartForm(),
    })


@login_required
@require_POST
def sweep_start(request: HttpRequest) -> HttpResponse:
    if not is_reviewer(request.user):
        raise PermissionDenied("只有区民政局审核员或管理员可以启动巡检。")
    form = SweepStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"巡检未启动：{_form_errors(form)}")
        return redirect("compliance:sweep_list")
    as_of = form.cleaned_data["as_of"] or timezone.localdate()
    running = services.sweep_running()
    if running is not None:
        messages.error(request, _error_text(services.sweep_refusal(running)))
        return redirect("compliance:sweep_list")
    who = request.user.get_full_name() or request.user.username  # type: ignore[union-attr]  # login_required
    try:
        enqueue(nightly_sweep, as_of.isoformat(), triggered_by=f"手动：{who}", what="巡检",
                requested_by={"user_id": request.user.pk, "ip": client_ip(request)})
    except QueueUnavailable as unavailable:
        # Redis is down: nothing was queued and nothing is running; the nightly sweep will catch up.
        messages.error(request, f"{unavailable.message}夜间巡检在队列恢复后会照常运行。")
        return redirect("compliance:sweep_list")
    if as_of == timezone.localdate():
        messages.success(request, f"已启动评估日期为 {as_of:%Y-%m-%d} 的巡检；完成后本页显示结果。")
    else:
        messages.success(request, f"已启动评估日期为 {as_of:%Y-%m-%d} 的回放巡检：结果另存为快照，不改动实时问题清单；"
                                  "完成后本页显示结果。")
    return redirect("compliance:sweep_list")


# A sweep's opened/resolved events (finding__ columns) and a replay's snapshot rows (their own columns).
SWEEP_EVENT_SORTS = {
    "rule": SortKey("规则", ["finding__rule_id", "finding__target_key"]),
    "target": SortKey("对象", ["finding__target_key", "finding__rule_id"]),
    "community": SortKey("社区", ["finding__community__name", "finding__rule_id", "finding__target_key"]),
    "street": SortKey("街道办事处", ["finding__sub_district_id", "finding__rule_id", "finding__target_key"]),
    "severity": SortKey("严重程度", ["severity_rank", "finding__rule_id", "finding__target_key"]),
}
SNAPSHOT_SORTS = {
    "rule": SortKey("规则", ["rule_id", "target_key"]),
    "target": SortKey("对象", ["target_key", "rule_id"]),
    "community": SortKey("社区", ["community__name", "rule_id", "target_key"]),
    "unit": SortKey("责任单位", ["responsible_kind", "sub_district_id", "responsible_unit", "rule_id", "target_key"]),
    "severity": SortKey("严重程度", ["severity_rank", "rule_id", "target_key"]),
    "due": SortKey("整改期限", ["due_date", "rule_id", "target_key"]),
}


@login_required
def sweep_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        sweep = Sweep.objects.get(pk=pk)
    except Sweep.DoesNotExist:

        raise Http404("没有找到这次巡检。") from None
    timings = sorted(sweep.rule_timings.items(), key=lambda kv: -kv[1])
    timing_rows = [(rule_id, seconds, catalogue.RULES[rule_id].title if rule_id in catalogue.RULES else "")
                   for rule_id, seconds in timings]
    if not sweep.live:
        # A replay: its own snapshot, read on its own date; the live findings are not its.
        snapshot = sweep_findings_for_user(request.user, sweep)
        ordered, sorting = sort_queryset(
            request, snapshot.select_related("community", "sub_district").alias(severity_rank=SEVERITY_RANK),
            SNAPSHOT_SORTS, "rule")
        return render(request, "compliance/sweep_detail.html", {
            "sweep": sweep,
            "page": paginate(request, ordered, PAGE_SIZE),
            "sorting": sorting,
            "ladder": escalation.ladder(snapshot, escalation.params(sweep.as_of), as_of=sweep.as_of),
            "timings": timing_rows,
        })
    show = request.GET.get("show", "opened")
    kinds = [FindingEventKind.RESOLVED] if show == "resolved" else [FindingEventKind.OPENED, FindingEventKind.REOPENED]
    events = (
        FindingEvent.objects.filter(sweep=sweep, kind__in=kinds, finding__in=findings_for_user(request.user))
        .select_related("finding", "finding__community", "finding__sub_district")
        .alias(severity_rank=Case(*[When(finding__severity=sev, then=Value(rank))
                                    for sev, rank in Severity.RANK.items()],
                                  default=Value(0), output_field=IntegerField()))
    )
    ordered, sorting = sort_queryset(request, events, SWEEP_EVENT_SORTS, "rule")
    return render(request, "compliance/sweep_detail.html", {
        "sweep": sweep,
        "show": "resolved" if show == "resolved" else "opened",
        "page": paginate(request, ordered, PAGE_SIZE),
        "sorting": sorting,
        "timings": timing_rows,
    })
