"""Pages for establishment requests: list, the three create forms, the request
page with its timeline and the actions the current user may take, the 台账."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import is_reviewer
from communities.selectors import own_sub_districts
from core.params import year_param
from core.shortcuts import one_or_404
from core.views import service_form
from core.writer import attachment
from ui.listing import SortKey, sort_queryset, sort_rows

from . import flow, reports, services
from .forms import (
    ActForm,
    MergeForm,
    NewRequestForm,
    PartEditForm,
    SendBackForm,
    SplitHeadForm,
    SplitPartForm,
    SplitSourceForm,
)
from .models import Action, Attachment, ProposedCommunity, RequestKind, State, StepRecord
from .selectors import overdue_info, request_for_user, requests_for_user, waiting_for

MAX_PARTS = 4


def _message(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "；".join(str(m) for msgs in error.message_dict.values() for m in msgs)
    return "；".join(error.messages)


def _clerk_only(user) -> None:
    if not own_sub_districts(user).exists():
        raise PermissionDenied("只有街办办事员可以提出设立、拆分、合并申请。")


REQUEST_SORTS = {
    "pk": SortKey("编号", ["pk"]),
    "kind": SortKey("类型", ["kind", "-pk"]),
    "title": SortKey("申请名称", ["title"]),
    "street": SortKey("街道办事处", ["sub_district__code", "-pk"]),
    "state": SortKey("当前环节", ["state", "-pk"]),
    "state_since": SortKey("进入环节", ["state_since"]),
}


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    visible = requests_for_user(request.user)
    view = request.GET.get("view", "waiting")
    if view == "mine":
        qs = visible.filter(created_by=request.user)  # type: ignore[misc]  # login_required: never anonymous
    elif view == "all":
        qs = visible
    else:
        view = "waiting"
        qs = waiting_for(request.user, visible)
    ordered, sorting = sort_queryset(request, qs, REQUEST_SORTS, "-pk")
    rows = list(ordered.prefetch_related("parts", "sources")[:500])
    overdue_info(rows)
    if request.GET.get("overdue"):
        rows = [r for r in rows if r.is_overdue]  # type: ignore[attr-defined]  # set by overdue_info
    return render(request, "approvals/request_list.html", {
        "rows": rows, "view": view, "sorting": sorting, "is_clerk": own_sub_districts(request.user).exists(),
        "is_reviewer": is_reviewer(request.user),
        "deadlines": [(s, flow.deadlines()[s.state]) for s in flow.STEPS],
    })


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    _clerk_only(request.user)
    form = NewRequestForm(request.POST or None, user=request.user)
    return service_form(
        request, form,
        save=lambda d: services.request_create_new(user=request.user, sub_district=d["sub_district"], title=d["title"],
                                                   reason=d["reason"], part=form.part_data(),
                                                   compounds=list(d["compounds"])),
        message=lambda _: f"已创建新设申请，拟设社区“{form.cleaned_data['name']}”已登记为筹建。请查看预审结果后报送。",
        success_url=lambda req: reverse("approvals:request_detail", args=[req.pk]),
        template="approvals/request_form.html", context={"form": form, "kind": RequestKind.NEW},
        report=False,  # the request's page shows its 预审 results, not the rules' findings
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_split(request: HttpRequest) -> HttpResponse:
    _clerk_only(request.user)
    chooser = SplitSourceForm(request.GET or None, user=request.user)
    if not chooser.is_valid():
        return render(request, "approvals/request_split.html", {"chooser": chooser})
    source = chooser.cleaned_data["source"]
    data = request.POST if request.method == "POST" else None
    head = SplitHeadForm(data, initial={"title": f"拆分{source.name}"})
    parts = [SplitPartForm(data, source=source, prefix=f"p{i}", empty_permitted=i >= 2, use_required_attribute=i < 2)
             for i in range(MAX_PARTS)]
    return service_form(
        request, head, submitted=request.method == "POST" and head.is_valid() and all(p.is_valid() for p in parts),
        save=lambda d: services.request_create_split(
            user=request.user, source=source, title=d["title"], reason=d["reason"],
            parts=[{**p.part_data(), "compounds": list(p.cleaned_data["compounds"])}
                   for p in parts if p.has_changed() or not p.empty_permitted],
        ),
        message="已创建拆分申请。请查看预审结果后报送。",
        success_url=lambda req: reverse("approvals:request_detail", args=[req.pk]),
        template="approvals/request_split.html",
        context={"chooser": chooser, "source": source, "head": head, "parts": parts},
        report=False,
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_merge(request: HttpRequest) -> HttpResponse:
    _clerk_only(request.user)
    form = MergeForm(request.POST or None, user=request.user)
    return service_form(
        request, form,
        save=lambda d: services.request_create_merge(user=request.user, sources=list(d["sources"]), title=d["title"],
                                                     reason=d["reason"], result=form.part_data()),
        message="已创建合并申请。请查看预审结果后报送。",
        success_url=lambda req: reverse("approvals:request_detail", args=[req.pk]),
        template="approvals/request_form.html", context={"form": form, "kind": RequestKind.MERGE},
        report=False,
    )


def _stages(req) -> list[dict]:
    current = flow.step_for(req.state)
    number = current.number if current else 9
    return [{"step": s, "done": s.number < number, "current": s.number == number} for s in flow.STEPS]


def _latest_precheck(records) -> list[dict] | None:
    for r in reversed(records):
        if r.step == 1 and r.action == Action.ADVANCE:
            return r.data.get("precheck", [])
    return None


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = request_for_user(request.user, pk)
    overdue_info([req])
    records = list(req.records.select_related("actor").prefetch_related("attachments"))
    step = flow.step_for(req.state)
    may_act = step is not None and flow.refusal(request.user, step, req) is None
    if req.state == State.DRAFT:
        findings = services.request_precheck(request=req)
        findings_note = "按当前申报内容预审（尚未报送，不产生任何问题记录）"
    else:
        findings = _latest_precheck(records) or []
        findings_note = "报送时的预审结果"
    act_form = send_back_form = None
    if may_act and step is not None:
        act_form = ActForm(step=step, request_obj=req, prefix="act")
        if flow.previous_state(req.state):
            send_back_form = SendBackForm(prefix="back", initial={"opinion": services.send_back_text(findings)})
    refusal = flow.refusal(request.user, step, req) if step else None
    return render(request, "approvals/request_detail.html", {
        "req": req, "records": records, "step": step, "stages": _stages(req), "findings": findings,
        "findings_note": findings_note, "act_form": act_form, "send_back_form": send_back_form,
        "refusal": refusal[1] if refusal and refusal[0] == "own_submission" else "",
        "parts": list(req.parts.select_related("community").prefetch_related("compounds")),
        "sources": list(req.sources.all()),
        "can_edit_parts": req.state == State.DRAFT and flow.clerk_of(request.user, req),
        "previous_state_label": State(previous).label if step and (previous := flow.previous_state(req.state)) else "",
    })


@login_required
def request_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The 审批表 for paper: the request, its communities and the eight steps with room to sign and seal."""
    req = request_for_user(request.user, pk)
    advanced: dict[int, StepRecord] = {}
    for record in req.records.select_related("actor").filter(action=Action.ADVANCE):
        advanced[record.step] = record  # ordered by time: the last pass of each step wins
    return render(request, "approvals/request_print.html", {
        "req": req,
        "parts": list(req.parts.prefetch_related("compounds")),
        "sources": list(req.sources.all()),
        "steps": [{"step": s, "record": advanced.get(s.number)} for s in flow.STEPS],
    })


@login_required
@require_POST
def request_act(request: HttpRequest, pk: int) -> HttpResponse:
    req = request_for_user(request.user, pk)
    expected = request.POST.get("expected_state", "")
    action = request.POST.get("action", Action.ADVANCE)
    step = flow.step_for(expected)
    if step is None:
        messages.error(request, "该申请已办结，不能再办理。")
        return redirect("approvals:request_detail", req.pk)
    form: SendBackForm | ActForm
    if action == Action.SEND_BACK:
        form = SendBackForm(request.POST, request.FILES, prefix="back")
        kwargs = ({"opinion": form.cleaned_data["opinion"], "files": form.cleaned_data["files"]}
                  if form.is_valid() else None)
    else:
        form = ActForm(request.POST, request.FILES, step=step, request_obj=req, prefix="act")
        kwargs = form.service_kwargs() if form.is_valid() else None
    if kwargs is None:
        errors = "；".join(f"{form.fields[f].label if f in form.fields else ''}{'：' if f in form.fields else ''}{e}"
                          for f, errs in form.errors.items() for e in errs)
        messages.error(request, f"未办理：{errors}")
        return redirect("approvals:request_detail", req.pk)
    try:
        record = services.request_act(request_id=req.pk, expected_state=expected, user=request.user, action=action,
                                      **kwargs)
    except ValidationError as exc:
        messages.error(request, f"未办理：{_message(exc)}")
    else:
        if record.action == Action.SEND_BACK:
            messages.warning(request, f"已退回到“{State(record.to_state).label}”。")
        else:
            messages.success(request, f"已办理“{step.label}”，申请进入“{State(record.to_state).label}”。")
    return redirect("approvals:request_detail", req.pk)


@login_required
@require_http_methods(["GET", "POST"])
def part_edit(request: HttpRequest, pk: int) -> HttpResponse:
    part = one_or_404(ProposedCommunity.objects.select_related("request"), "没有找到这个拟设社区，或您无权查看。",
                      pk=pk, request__in=requests_for_user(request.user))
    if not (part.request.state == State.DRAFT and flow.clerk_of(request.user, part.request)):
        raise PermissionDenied("申请已报送，只能在退回街办后修改。")
    fields = ("name", "households", "population", "party_org_type", "east", "south", "west", "north")
    form = PartEditForm(request.POST or None, initial={f: getattr(part, f) for f in fields})
    return service_form(
        request, form,
        save=lambda data: services.part_update(user=request.user, part=part, **data),
        message=lambda changed: "已保存修改。" if changed else "没有修改任何内容。",
        success_url=reverse("approvals:request_detail", args=[part.request_id]),
        template="approvals/part_form.html", context={"form": form, "part": part},
        report=False,
    )


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    att = one_or_404(Attachment.objects.select_related("record"), "没有找到这个附件，或您无权查看。",
                     pk=pk, record__request__in=requests_for_user(request.user))
    return FileResponse(att.file.open("rb"), content_type=att.content_type, as_attachment=True,
                        filename=att.original_name)


# The 台账's columns (rows are reports.ledger_rows dicts, sorted in Python: ui.listing.sort_rows).
LEDGER_SORTS = {
    "name": SortKey("社区名称", ["name", "code"]),
    "code": SortKey("社区代码", ["code"]),
    "street": SortKey("街道办事处", ["street", "code"]),
    "kind": SortKey("设立方式", ["kind", "code"]),
    "approved_on": SortKey("批复日期", ["approved_on", "code"]),
    "document_no": SortKey("批复文号", ["document_no", "code"]),
    "election_on": SortKey("两委选举日期", ["election_on", "code"]),
    "credit_code": SortKey("统一社会信用代码", ["credit_code", "code"]),
}


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    if not is_reviewer(request.user):
        raise PermissionDenied("台账由区民政局查看。")
    year = year_param(request)
    rows, sorting = sort_rows(request, reports.ledger_rows(year), LEDGER_SORTS, "approved_on")
    return render(request, "approvals/ledger.html", {"rows": rows, "year": year, "sorting": sorting,
                                                     "all_rows": reports.ledger_rows()})


@login_required
def year_end_report(request: HttpRequest, year: int) -> HttpResponse:
    if not is_reviewer(request.user):
        raise PermissionDenied("年终报送由区民政局导出。")
    response = HttpResponse(
        reports.year_end_workbook(year),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = attachment(f"莲湖区{year}年新设社区情况表.xlsx")
    return response
