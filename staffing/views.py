"""Pages for 两委 composition, people, workers, training, assessment and exits.

Views parse input, call one selector or service and render. Reads go through
``staffing.selectors`` / ``communities.selectors``: another 街办's community
or person answers 404. Writes need the community's change permission. ID
numbers reach templates only through the ``id_number_for`` filter (whole for
administrators, masked for everyone else).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from communities.selectors import communities_for_user, community_for_user, community_permitted, may_change_community
from core.forms import errors_to_form
from core.views import service_form
from ui.listing import SortKey, paginate, sort_queryset

from . import selectors, services
from .charts import liangwei_charts, liangwei_charts_marking
from .forms import (
    AssessmentDecisionForm,
    AssessmentYearForm,
    CareForm,
    EmploymentForm,
    ExitStartForm,
    ExitStepForm,
    SeatEndForm,
    SeatForm,
    TrainingForm,
    TransferDecideForm,
    TransferRequestForm,
    VacancyFillForm,
    WorkerForm,
)
from .models import Assessment, Body, Employment, ExitStepName, Person, Seat
from .privacy import birth_column, export_birth, export_id_number, may_see_id_numbers, record_reveal

PAGE_SIZE = 50


def _require_people_reader(user) -> None:
    if not selectors.may_read_people(user):
        raise PermissionDenied("您无权查看人员信息。")


def _can_change(user, community) -> bool:
    return may_change_community(user, community)


def _community_persons(community):
    """People who hold or held a seat or an employment in the community (for pickers)."""
    return (Person.objects.filter(Q(seats__community=community) | Q(employments__community=community))
            .distinct().order_by("name"))


def _picked_person(community, data) -> Person | None:
    """The person picked from the community's own list, or None when the form names one by ID number."""
    if data.get("person"):
        return _community_persons(community).get(public_id=data["person"])
    return None


# ---------------------------------------------------------------- composition


@login_required
def composition(request: HttpRequest, pk: int) -> HttpResponse:
    _require_people_reader(request.user)
    community = community_for_user(request.user, pk)
    as_of = timezone.localdate()
    c = selectors.community_composition(community, as_of)
    context = {
        "community": community,
        "as_of": as_of,
        "c": c,
        "can_edit": _can_change(request.user, community),
        "may_reveal": may_see_id_numbers(request.user),
        # Where this community's 两委 sits among the user's communities.
        "charts": liangwei_charts_marking(communities_for_user(request.user), c["party_n"], c["committee_n"]),
    }
    return render(request, "staffing/composition.html", context)


@login_required
def roster_export(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The community's 两委 and workers as .xlsx; ID numbers masked unless an administrator asks (?reveal=1)."""
    from core.writer import DATE, NUMBER, XlsxBook

    _require_people_reader(request.user)
    community = community_for_user(request.user, pk)
    as_of = timezone.localdate()
    reveal = request.GET.get("reveal") == "1" and may_see_id_numbers(request.user)
    seats: dict[int, dict[str, str]] = {}
    for seat in Seat.objects.active_on(as_of).filter(community=community):
        seats.setdefault(seat.person_id, {})[seat.body] = seat.get_role_display()
    jobs = {e.person_id: e for e in Employment.objects.active_on(as_of).filter(community=community)}
    people = Person.objects.filter(pk__in={*seats, *jobs}).order_by("name", "public_id")
    book = XlsxBook(in_memory=True)
    birth = (birth_column(user=request.user, reveal=reveal), DATE if reveal else NUMBER)
    sheet = book.sheet("人员", ["人员编号", "姓名", "身份证号", "性别", birth, "学历", "社区工作者", "专职",
                              "岗位", ("等级", NUMBER), ("入职日期", DATE), "入职方式", "党组织职务", "居委会职务"])
    for p in people:
        job = jobs.get(p.pk)
        sheet.append([
            p.public_id, p.name, export_id_number(p.id_number, user=request.user, reveal=reveal), p.get_sex_display(),
            export_birth(p.birth_date, user=request.user, reveal=reveal), p.education, "是" if job else "否",
            ("是" if job.full_time else "否") if job else "", job.get_post_display() if job else "",
            job.grade if job and job.grade else None, job.entry_on if job else None,
            job.get_entry_channel_display() if job else "", seats.get(p.pk, {}).get(Body.PARTY, ""),
            seats.get(p.pk, {}).get(Body.COMMITTEE, ""),
        ])
    if reveal:
        record_reveal(user=request.user, request=request, where="roster_export", public_ids=[p.public_id for p in people])
    return book.response(f"两委及社区工作者名册-{community.name}-{as_of:%Y%m%d}.xlsx")


# ---------------------------------------------------------------- people


# Neither 身份证号 nor 出生日期 is offered: the order would tell apart what the page masks.
PERSON_SORTS = {
    "public_id": SortKey("人员编号", ["public_id"]),
    "name": SortKey("姓名", ["name", "public_id"]),
    "sex": SortKey("性别", ["sex", "name"]),
    "education": SortKey("学历", ["education", "name"]),
    "community": SortKey("所属社区", ["community__code", "name"]),
}


@login_required
@require_http_methods(["GET", "POST"])
def person_list(request: HttpRequest) -> HttpResponse:
    persons = selectors.persons_for_user(request.user).select_related("community")
    q = (request.GET.get("q") or "").strip()
    if request.method == "POST":
        # By ID number: posted, never in a URL (access logs keep URLs); administrators only, and only whole.
        if not may_see_id_numbers(request.user):
            raise PermissionDenied("只有管理员可以按身份证号查找人员。")
        found = persons.filter(pk__in=Person.objects.with_id_number(request.POST.get("id_number"))).first()
        if found is None:
            messages.info(request, "没有找到这个身份证号的人员。")
            return redirect("staffing:person_list")
        return redirect("staffing:person_detail", public_id=found.public_id)
    if q:
        persons = persons.filter(Q(name__contains=q) | Q(public_id=q.upper()))
    ordered, sorting = sort_queryset(request, persons, PERSON_SORTS, "name")
    page = paginate(request, ordered, PAGE_SIZE)
    return render(request, "staffing/person_list.html", {
        "page": page, "q": q, "may_search_id": may_see_id_numbers(request.user), "sorting": sorting,
        "may_read_people": selectors.may_read_people(request.user),
        "charts": liangwei_charts(communities_for_user(request.user)),
    })


@login_required
def person_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _person_page(request, selectors.person_for_user(request.user, public_id), revealed=False)


@login_required
@require_http_methods(["POST"])
def person_reveal(request: HttpRequest, public_id: str) -> HttpResponse:
    """The person page with the whole number: administrators only, each time a security event. Answered to
    the POST itself, so the number is in no URL and no redirect."""
    person = selectors.person_for_user(request.user, public_id)
    if not may_see_id_numbers(request.user):
        raise PermissionDenied("只有管理员可以查看完整身份证号。")
    record_reveal(user=request.user, request=request, where="person_page", public_ids=[person.public_id])
    response = _person_page(request, person, revealed=True)
    response["Cache-Control"] = "no-store"
    return response


def _person_page(request: HttpRequest, person: Person, *, revealed: bool) -> HttpResponse:
    employments = list(person.employments.select_related("community", "exit_procedure").order_by("-entry_on"))
    can_edit = person.community_id is not None and community_permitted(request.user, person.community_id)
    context = {
        "revealed": revealed,
        "may_reveal": may_see_id_numbers(request.user),
        "person": person,
        "seats": person.seats.select_related("community").order_by("-start_on"),
        "employments": employments,
        "exit_breaches": selectors.exit_breaches(employments),
        "trainings": person.trainings.select_related("event").order_by("-event__held_on"),
        "assessments": person.assessments.prefetch_related("decisions").order_by("-year"),
        # The forms only for those who may use them: a reader's page builds none.
        "decision_form": AssessmentDecisionForm() if can_edit else None,
        "care_records": person.care_records.all(),
        "can_edit": can_edit,
        "care_form": CareForm() if can_edit else None,
    }
    return render(request, "staffing/person_detail.html", context)


@login_required
@require_http_methods(["POST"])
def assessment_decision_create(request: HttpRequest, pk: int) -> HttpResponse:
    """考核结果运用, from the person page (措施十四)."""
    assessment = get_object_or_404(
        Assessment.objects.filter(person__in=selectors.persons_for_user(request.user)).select_related("person"), pk=pk)
    person = assessment.person
    if person.community_id is None:
        return redirect("staffing:person_detail", public_id=person.public_id)
    community_for_user(request.user, person.community_id, "change_community")
    form = AssessmentDecisionForm(request.POST)
    if form.is_valid():
        try:
            services.assessment_decision_record(assessment=assessment, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, "已登记考核结果运用。")
    else:
        messages.error(request, "考核结果运用未保存：请选择决定并填写日期。")
    return redirect("staffing:person_detail", public_id=person.public_id)


@login_required
@require_http_methods(["POST"])
def care_create(request: HttpRequest, public_id: str) -> HttpResponse:
    person = selectors.person_for_user(request.user, public_id)
    if person.community_id is None:
        return redirect("staffing:person_detail", public_id=person.public_id)
    community_for_user(request.user, person.community_id, "change_community")
    form = CareForm(request.POST)
    if form.is_valid():
        try:
            services.care_record_create(person=person, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, "已登记关爱记录。")
    else:
        messages.error(request, "关爱记录未保存：请填写类型和日期。")
    return redirect("staffing:person_detail", public_id=person.public_id)


# ---------------------------------------------------------------- workers


@login_required
@require_http_methods(["GET", "POST"])
def worker_create(request: HttpRequest, pk: int) -> HttpResponse:
    community = community_for_user(request.user, pk, "change_community")
    form = WorkerForm(request.POST or None)
    return service_form(
        request, form,
        save=lambda data: services.worker_create(
            id_number=data["id_number"], name=data["name"], education=data["education"],
            phone=data["phone"], community=community, user=request.user, **form.employment_data(),
        ),
        message=lambda employment: f"已登记社区工作者：{employment.person.name}。",
        success_url=reverse("staffing:composition", args=[community.pk]),
        template="staffing/worker_form.html", context={"form": form, "community": community},
    )


@login_required
@require_http_methods(["GET", "POST"])
def employment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    employment = selectors.employment_for_user(request.user, pk, "change_community")
    fields = EmploymentForm.EMPLOYMENT_FIELDS
    form = EmploymentForm(request.POST or None, initial={f: getattr(employment, f) for f in fields})

    def save(_: dict[str, Any]) -> list[str]:
        data = form.employment_data()
        data["post"] = data["post"] or ""
        data["entry_channel"] = data["entry_channel"] or ""
        return services.employment_update(employment=employment, user=request.user, **data)

    return service_form(
        request, form, save=save,
        message=lambda changed: "已保存。" if changed else "没有修改任何内容。",
        success_url=reverse("staffing:person_detail", args=[employment.person.public_id]),
        template="staffing/employment_form.html", context={"form": form, "employment": employment},
        on_error=employment.refresh_from_db,
    )


# ---------------------------------------------------------------- seats and vacancies


@login_required
@require_http_methods(["GET", "POST"])
def seat_create(request: HttpRequest, pk: int) -> HttpResponse:
    community = community_for_user(request.user, pk, "change_community")
    form = SeatForm(request.POST or None, persons=_community_persons(community))
    return service_form(
        request, form,
        # The person is read inside the save (seat.person may be new), as the page always did.
        save=lambda data: services.seat_create_for(
            community=community, body=data["body"], role=data["role"], start_on=data["start_on"],
            person=_picked_person(community, data), id_number=data["id_number"], name=data["name"],
            user=request.user).person,
        message=lambda person: f"已登记两委任职：{person.name}。",
        success_url=reverse("staffing:composition", args=[community.pk]),
        template="staffing/seat_form.html", context={"form": form, "community": community},
    )


@login_required
@require_http_methods(["GET", "POST"])
def seat_end(request: HttpRequest, pk: int) -> HttpResponse:
    seat = selectors.seat_for_user(request.user, pk, "change_community")
    form = SeatEndForm(request.POST or None)
    return service_form(
        request, form,
        save=lambda data: services.seat_end(seat=seat, on=data["end_on"], reason=data["reason"],
                                            open_vacancy=data["open_vacancy"], user=request.user),
        message=lambda _: f"已登记 {seat.person.name} 离任{seat.role_label}。",
        success_url=reverse("staffing:composition", args=[seat.community_id]),
        template="staffing/simple_form.html",
        context={"form": form, "title": f"离任：{seat.person.name}（{seat.role_label}）", "community": seat.community},
        on_error=seat.refresh_from_db,
    )


@login_required
@require_http_methods(["GET", "POST"])
def vacancy_fill(request: HttpRequest, pk: int) -> HttpResponse:
    vacancy = selectors.vacancy_for_user(request.user, pk, "change_community")
    community = vacancy.community
    form = VacancyFillForm(request.POST or None, persons=_community_persons(community))
    return service_form(
        request, form,
        save=lambda data: services.vacancy_fill_for(
            vacancy=vacancy, on=data["filled_on"], person=_picked_person(community, data),
            id_number=data["id_number"], name=data["name"], user=request.user).person,
        message=lambda person: f"已登记补选：{person.name}。",
        success_url=reverse("staffing:composition", args=[community.pk]),
        template="staffing/simple_form.html", context={"form": form, "title": f"补选：{vacancy}", "community": community},
    )


# ---------------------------------------------------------------- training and assessment


@login_required
@require_http_methods(["GET", "POST"])
def training_create(request: HttpRequest, pk: int) -> HttpResponse:
    community = community_for_user(request.user, pk, "change_community")
    today = timezone.localdate()
    candidates = list(Person.objects.filter(
        Q(seats__in=Seat.objects.active_on(today).filter(community=community))
        | Q(employments__in=Employment.objects.active_on(today).filter(community=community))
    ).distinct().order_by("name"))
    form = TrainingForm(request.POST or None, persons=candidates)
    return service_form(
        request, form,
        save=lambda data: services.training_event_record(
            title=data["title"], kind=data["kind"], held_on=data["held_on"], organiser=data["organiser"],
            persons=[p for p in candidates if p.public_id in set(data["persons"])], user=request.user,
        ),
        message=lambda recorded: f"已登记培训“{recorded[0].title}”：{recorded[1]} 人。",
        success_url=reverse("staffing:composition", args=[community.pk]),
        template="staffing/training_form.html", context={"form": form, "community": community},
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_year(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    community = community_for_user(request.user, pk, "change_community")
    year_end = min(date(max(min(year, 2100), 1990), 12, 31), timezone.localdate())
    workers = list(Person.objects.filter(
        employments__in=Employment.objects.active_on(year_end).filter(community=community)
    ).distinct().order_by("name"))
    existing = dict(Assessment.objects.filter(person__in=workers, year=year).values_list("person_id", "result"))
    form = AssessmentYearForm(request.POST or None, persons=workers, initial_results=existing)
    return service_form(
        request, form,
        save=lambda _: services.assessments_record(year=year, results=form.results(), user=request.user),
        message=lambda count: f"已保存 {year} 年度考核结果 {count} 人。",
        success_url=reverse("staffing:composition", args=[community.pk]),
        template="staffing/assessment_form.html",
        context={"form": form, "community": community, "year": year, "years": range(year - 2, year + 2)},
    )


# ---------------------------------------------------------------- exits


@login_required
@require_http_methods(["GET", "POST"])
def exit_start(request: HttpRequest, pk: int) -> HttpResponse:
    employment = selectors.employment_for_user(request.user, pk, "change_community")
    form = ExitStartForm(request.POST or None)
    return service_form(
        request, form,
        save=lambda data: services.exit_start(employment=employment, kind=data["kind"], on=data["on"],
                                              leave_on=data["leave_on"], note=data["note"], user=request.user),
        message=f"已开始 {employment.person.name} 的离职程序。",
        success_url=reverse("staffing:person_detail", args=[employment.person.public_id]),
        template="staffing/simple_form.html",
        context={"form": form, "title": f"离职：{employment.person.name}", "community": employment.community},
    )


@login_required
@require_http_methods(["GET", "POST"])
def exit_advance(request: HttpRequest, pk: int) -> HttpResponse:
    procedure = selectors.exit_procedure_for_user(request.user, pk, "change_community")
    step = procedure.next_step
    person = procedure.employment.person
    if step is None:
        messages.info(request, "离职程序已经完成。")
        return redirect("staffing:person_detail", public_id=person.public_id)
    form = ExitStepForm(request.POST or None)
    return service_form(
        request, form,
        save=lambda data: services.exit_advance(procedure=procedure, step=step, on=data["on"], note=data["note"],
                                                user=request.user),
        message=f"已记录：{ExitStepName(step).label}。",
        success_url=reverse("staffing:person_detail", args=[person.public_id]),
        template="staffing/simple_form.html", context={
            "form": form, "title": f"{person.name}：{ExitStepName(step).label}",
            "community": procedure.employment.community, "steps": procedure.steps.select_related("actor"),
        },
    )


# ---------------------------------------------------------------- 人员调动


@login_required
@require_http_methods(["GET", "POST"])
def transfer_list(request: HttpRequest) -> HttpResponse:
    """Requests into the user's 街办 (masked number and status only) and out of it (the person, to confirm);
    a reviewer sees and decides all. POST: a clerk's new request."""
    if not selectors.may_read_people(request.user):
        raise PermissionDenied("您无权办理人员调动。")
    communities = list(communities_for_user(request.user, "change_community").order_by("code"))
    form = TransferRequestForm(request.POST or None, communities=communities)
    if request.method == "POST":
        if not communities:
            raise PermissionDenied("只有街办办事员可以申请人员调动。")
        if form.is_valid():
            data = form.cleaned_data
            community = community_for_user(request.user, int(data["to_community"]), "change_community")
            try:
                services.transfer_request(id_number=data["id_number"], to_community=community, note=data["note"],
                                          user=request.user)
            except ValidationError as error:
                errors_to_form(form, error)
            else:
                messages.success(request, "已提交人员调动申请，待原街办或区民政局确认。")
                return redirect("staffing:transfer_list")
    incoming, outgoing = selectors.transfers_for_user(request.user)
    return render(request, "staffing/transfer_list.html", {
        "form": form if communities else None, "incoming": incoming, "outgoing": outgoing,
        "decide_form": TransferDecideForm(),
    })


@login_required
@require_http_methods(["POST"])
def transfer_decide(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = selectors.transfer_to_decide(request.user, pk)
    form = TransferDecideForm(request.POST)
    form.is_valid()
    confirm = request.POST.get("action") == "confirm"
    try:
        services.transfer_decide(transfer=transfer, confirm=confirm, note=form.cleaned_data.get("note", ""),
                                 user=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, "已确认人员调动。" if confirm else "已记录：不同意调动。")
    return redirect("staffing:transfer_list")
