"""Pages of 整改 (待我办理, the finding's 整改 panel), 督办单/约谈通知, 通报 and 年度考核.

Views parse input, call one service or selector, render.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import is_reviewer
from compliance.selectors import finding_for_user, findings_for_user, last_finished_sweep
from core.shortcuts import one_or_404
from ui.listing import SortKey, paginate, sort_queryset

from . import assessment, compat, flow, reports, selectors, services
from .forms import BulletinForm, DocumentForm, MeasuresForm, RequestCloseForm, ReviewForm
from .models import Bulletin, RectAction, RectAttachment, RectState

PAGE_SIZE = 50
# doc_no is 督[year]N号: year, kind and number order it as it reads.
DOCUMENT_SORTS = {
    "doc_no": SortKey("文号", ["year", "-kind", "number"]),
    "kind": SortKey("文种", ["kind", "-year", "-number"]),
    "unit": SortKey("责任单位", ["unit", "-issued_on"]),
    "issued_on": SortKey("发文日期", ["issued_on", "year", "number"]),
    "reply_by": SortKey("反馈期限", ["reply_by", "year", "number"]),
    "created_by": SortKey("拟稿人", ["created_by__username", "-issued_on"]),
}
BULLETIN_SORTS = {
    "doc_no": SortKey("文号", ["year", "number"]),
    "title": SortKey("标题", ["title"]),
    "period": SortKey("统计期间", ["period_end", "period_start"]),
    "state": SortKey("状态", ["state", "-period_end"]),
    "issued": SortKey("签发", ["issued_at", "-period_end"]),
}


def _message(error: ValidationError) -> str:
    return "；".join(error.messages)


def _form_errors(form) -> str:
    return "；".join(str(e) for errors in form.errors.values() for e in errors)


def _reviewer_only(user, what: str) -> None:
    if not is_reviewer(user):
        raise PermissionDenied(f"{what}由区民政局审核员办理。")


# ---------------------------------------------------------------- 待我办理


@login_required
def todo(request: HttpRequest) -> HttpResponse:
    user = request.user
    findings = list(selectors.todo_findings(user)[:500])
    for f in findings:
        f.due = compat.due_date(f)  # type: ignore[attr-defined]
        try:
            f.rect_state = f.rectification.get_state_display()  # type: ignore[attr-defined]
        except Exception:
            f.rect_state = RectState.PENDING.label  # type: ignore[attr-defined]
    return render(request, "supervision/todo.html", {
        "findings": findings,
        "total": selectors.todo_findings(user).count(),
        "units": sorted(selectors.unit_names(user)),
        "reviews": list(selectors.review_queue(user)[:200]),
        "facility_steps": selectors.facility_steps_waiting(user),
        "today": timezone.localdate(),
    })


# ---------------------------------------------------------------- 整改 on a finding


@login_required
@require_POST
def finding_act(request: HttpRequest, pk: int) -> HttpResponse:
    finding = finding_for_user(request.user, pk)
    action = request.POST.get("action", "")
    expected = request.POST.get("expected_state") or None
    kwargs: dict | None
    form: MeasuresForm | RequestCloseForm | ReviewForm
    if action == RectAction.MEASURES:
        form = MeasuresForm(request.POST, prefix="m")
        kwargs = ({"measures": form.cleaned_data["measures"], "expected_on": form.cleaned_data["expected_on"]}
                  if form.is_valid() else None)
    elif action == RectAction.REQUEST:
        form = RequestCloseForm(request.POST, request.FILES, prefix="r")
        kwargs = ({"note": form.cleaned_data["note"], "files": form.cleaned_data["files"]}
                  if form.is_valid() else None)
    elif action in (RectAction.RETURN, RectAction.CLOSE):
        form = ReviewForm(request.POST, prefix="v")
        kwargs = {"note": form.cleaned_data["note"]} if form.is_valid() else None
    else:
        messages.error(request, "未办理：未知的办理事项。")
        return redirect("compliance:finding_detail", pk=finding.pk)
    if kwargs is None:
        messages.error(request, f"未办理：{_form_errors(form)}")
        return redirect("compliance:finding_detail", pk=finding.pk)
    try:
        step = services.rectification_act(finding_id=finding.pk, action=action, user=request.user,
                                          expected_state=expected, **kwargs)
    except ValidationError as exc:
        messages.error(request, f"未办理：{_message(exc)}")
    else:
        messages.success(request, f"已{step.get_action_display()}，整改状态：{RectState(step.to_state).label}。")
    return redirect(reverse("compliance:finding_detail", args=[finding.pk]) + "#rectification")


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    att = one_or_404(RectAttachment.objects.select_related("step__rectification__finding__sub_district"),
                     "没有找到这个附件，或您无权查看。",
                     pk=pk, step__rectification__finding__in=findings_for_user(request.user))
    # The unit's evidence is for the unit and its reviewers, not for every department that can read the finding.
    if not (is_reviewer(request.user) or selectors.answers_for(request.user, att.step.rectification.finding)):
        raise Http404("没有找到这个附件，或您无权查看。")
    return FileResponse(att.file.open("rb"), content_type=att.content_type, as_attachment=True,
                        filename=att.original_name)


# ---------------------------------------------------------------- 督办单 / 约谈通知


@login_required
@require_http_methods(["GET", "POST"])
def document_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    reviewer = is_reviewer(user)
    form = DocumentForm(request.POST or None)
    if request.method == "POST":
        _reviewer_only(user, "督办单、约谈通知")
        if form.is_valid():
            d = form.cleaned_data
            try:
                doc = services.supervision_document_issue(user=user, unit=d["unit"], kind=d["kind"],
                                                          reply_days=d["reply_days"], note=d["note"])
            except ValidationError as exc:
                messages.error(request, f"未生成：{_message(exc)}")
            else:
                messages.success(request, f"已生成{doc.get_kind_display()} {doc.doc_no}，并记入督导记录。")
                return redirect("supervision:document_detail", pk=doc.pk)
        else:
            messages.error(request, f"未生成：{_form_errors(form)}")
    ladder = []
    if reviewer:
        sweep = last_finished_sweep()
        ladder = reports.unit_ladder(sweep.as_of if sweep else timezone.localdate())
    ordered, sorting = sort_queryset(request, selectors.documents_for_user(user), DOCUMENT_SORTS, "-doc_no")
    return render(request, "supervision/document_list.html", {
        "page": paginate(request, ordered, PAGE_SIZE), "sorting": sorting, "ladder": ladder, "can_issue": reviewer,
        "form": form,
    })


def _document_context(doc) -> dict:
    return {"doc": doc, "date_cn": reports.chinese_date(doc.issued_on), "reply_cn": reports.chinese_date(doc.reply_by)}


@login_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    doc = selectors.document_for_user(request.user, pk)
    return render(request, "supervision/document_print.html", {**_document_context(doc), "standalone": False})


@login_required
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    doc = selectors.document_for_user(request.user, pk)
    html = render_to_string("supervision/document_file.html", {**_document_context(doc), "css": _print_css()})
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = _attachment(f"{doc.get_kind_display()}-{doc.year}-{doc.number}.html")
    return response


def _print_css() -> str:
    from django.contrib.staticfiles import finders

    path = finders.find("css/supervision-print.css")
    if not path:
        return ""
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _attachment(filename: str) -> str:
    from core.writer import attachment

    return attachment(filename)


# ---------------------------------------------------------------- 通报


@login_required
@require_http_methods(["GET", "POST"])
def bulletin_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    reviewer = is_reviewer(user)
    last_month_end = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    start, end = reports.month_bounds(last_month_end)
    form = BulletinForm(request.POST or None, initial={"period_start": start, "period_end": end})
    if request.method == "POST":
        _reviewer_only(user, "通报")
        if form.is_valid():
            d = form.cleaned_data
            try:
                b = services.bulletin_draft(user=user, period_start=d["period_start"], period_end=d["period_end"],
                                            remarks=d["remarks"])
            except ValidationError as exc:
                messages.error(request, f"未起草：{_message(exc)}")
            else:
                messages.success(request, f"已起草“{b.title}”，请其他审核员审核后签发。")
                return redirect("supervision:bulletin_detail", pk=b.pk)
        else:
            messages.error(request, f"未起草：{_form_errors(form)}")
    ordered, sorting = sort_queryset(request, selectors.bulletins_for_user(user).select_related("drafted_by", "issued_by"),
                                     BULLETIN_SORTS, "-period")
    return render(request, "supervision/bulletin_list.html", {
        "page": paginate(request, ordered, PAGE_SIZE), "sorting": sorting, "form": form, "can_draft": reviewer,
    })


def _bulletin_context(b: Bulletin) -> dict:
    day = timezone.localdate(b.issued_at) if b.issued_at else timezone.localdate()
    return {"b": b, "f": b.figures, "date_cn": reports.chinese_date(day)}


@login_required
def bulletin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    b = selectors.bulletin_for_user(request.user, pk)
    reviewer = is_reviewer(request.user)
    actions = [t for t in flow.BULLETIN_TRANSITIONS if t.source == b.state] if reviewer else []
    return render(request, "supervision/bulletin_print.html", {
        **_bulletin_context(b), "actions": actions, "can_redraft": reviewer and b.state == "draft",
    })


@login_required
@require_POST
def bulletin_act(request: HttpRequest, pk: int) -> HttpResponse:
    b = selectors.bulletin_for_user(request.user, pk)
    action = request.POST.get("action", "")
    try:
        if action == "redraft":
            services.bulletin_redraft(user=request.user, bulletin_id=b.pk)
            messages.success(request, "已按当前记录重新统计。")
        else:
            b = services.bulletin_act(user=request.user, bulletin_id=b.pk, action=action,
                                      expected_state=request.POST.get("expected_state") or None)
            messages.success(request, f"通报现为“{b.get_state_display()}”{'，文号 ' + b.doc_no if b.number else ''}。")
    except ValidationError as exc:
        messages.error(request, f"未办理：{_message(exc)}")
    return redirect("supervision:bulletin_detail", pk=b.pk)


@login_required
def bulletin_download(request: HttpRequest, pk: int) -> HttpResponse:
    b = selectors.bulletin_for_user(request.user, pk)
    if b.state != "issued":
        raise Http404("通报印发后才能下载。")
    html = render_to_string("supervision/bulletin_file.html", {**_bulletin_context(b), "css": _print_css()})
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = _attachment(f"通报-{b.year}-{b.number}.html")
    return response


# ---------------------------------------------------------------- 年度考核


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, 2000), 2100)


@login_required
def assessment_page(request: HttpRequest) -> HttpResponse:
    _reviewer_only(request.user, "年度考核")
    year = _year(request)
    cards = assessment.scorecard(year)
    return render(request, "supervision/assessment.html", {
        "year": year, "cards": cards, "areas": assessment.AREAS, "as_of": assessment.assessment_date(year),
        "rows": [(c, [c.areas[a] for a in assessment.AREAS]) for c in cards],
    })


@login_required
def assessment_unit(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    _reviewer_only(request.user, "年度考核")
    card = next((c for c in assessment.scorecard(year) if c.unit == unit), None)
    if card is None:
        raise Http404("考核名单中没有这个单位。")
    areas = [{"name": a, "score": card.areas[a], "deduction": card.deductions[a], "credit": card.credits[a],
              "items": [i for i in card.items if i.area == a]} for a in assessment.AREAS]
    return render(request, "supervision/assessment_unit.html", {
        "year": year, "card": card, "areas": areas, "as_of": assessment.assessment_date(year),
    })


@login_required
def assessment_method(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    m = assessment.method(year)
    by_area: dict[str, list[tuple[str, str]]] = {a: [] for a in assessment.AREAS}
    for rule_id, area in assessment.RULE_AREA.items():
        by_area[area].append((rule_id, reports.rule_title(rule_id)))
    return render(request, "supervision/assessment_method.html", {
        "year": year, "params": [(k, assessment.METHOD_LABELS[k], m[k], assessment.METHOD_DEFAULTS[k])
                                 for k in assessment.METHOD_DEFAULTS],
        "history": assessment.method_history(), "effective": assessment.METHOD_EFFECTIVE,
        "by_area": by_area.items(), "departments": assessment.DEPARTMENTS,
    })


@login_required
def assessment_workbook(request: HttpRequest, year: int) -> HttpResponse:
    _reviewer_only(request.user, "年度考核")
    book = assessment.workbook(year, assessment.scorecard(year))
    return book.response(f"目标责任考核-{year}.xlsx")
