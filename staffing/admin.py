from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.text import Truncator
from simple_history.admin import SimpleHistoryAdmin

from compliance.rejudge import RejudgeAdmin
from core.resources import SheetImportExportMixin

from .models import (
    Assessment,
    AssessmentDecision,
    CareRecord,
    Employment,
    ExitProcedure,
    ExitStep,
    Person,
    Seat,
    TrainingAttendance,
    TrainingEvent,
    Vacancy,
)
from .resources import PersonResource


class NoDeleteAdmin(SimpleHistoryAdmin):
    # People's records are kept: careers end with dates, not deletions.
    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    can_delete = False
    raw_id_fields = ("community",)


class EmploymentInline(admin.TabularInline):
    model = Employment
    extra = 0
    can_delete = False
    raw_id_fields = ("community",)
    fields = ("community", "full_time", "post", "grade", "entry_on", "entry_channel", "leave_on", "leave_way")


class IdNumberSearchForm(forms.Form):
    id_number = forms.CharField(label="居民身份证号", max_length=20, widget=forms.TextInput(attrs={"autocomplete": "off"}))


@admin.register(Person)
class PersonAdmin(RejudgeAdmin, SheetImportExportMixin, NoDeleteAdmin):
    resource_classes = [PersonResource]
    # The admin is for 管理员 only. Lists show numbers masked with the birth year; the change form holds the
    # whole number, and opening it is a reveal (security event). Search by number is posted (id-search/), so
    # the number never sits in a URL or an access log line; the changelist's ?q= searches names and 人员编号.
    list_display = ("public_id", "name", "masked_id_number", "sex", "birth_year", "education")
    search_fields = ("public_id", "name")
    readonly_fields = ("public_id", "birth_date", "sex")
    exclude = ("id_number_hash",)
    inlines = [SeatInline, EmploymentInline]
    change_list_template = "admin/staffing/person/change_list.html"

    @admin.display(description="居民身份证号")
    def masked_id_number(self, obj: Person) -> str:
        return obj.masked_id_number

    @admin.display(description="出生年份", ordering="birth_date")
    def birth_year(self, obj: Person) -> str:
        return f"{obj.birth_date.year}年" if obj.birth_date else ""

    def get_urls(self):
        urls = super().get_urls()
        search = path("id-search/", self.admin_site.admin_view(self.id_search_view), name="staffing_person_id_search")
        return [search, *urls]

    def id_search_view(self, request: HttpRequest) -> HttpResponse:
        form = IdNumberSearchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            found = Person.objects.with_id_number(form.cleaned_data["id_number"]).first()
            if found is not None:
                return redirect("admin:staffing_person_change", found.pk)
            messages.info(request, "没有找到这个身份证号的人员。")
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": "按身份证号查找人员"}
        return TemplateResponse(request, "admin/staffing/person/id_search.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET" and object_id:
            from .privacy import record_reveal

            person = self.get_object(request, object_id)
            if person is not None:
                record_reveal(user=request.user, request=request, where="admin_change", public_ids=[person.public_id])
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Seat)
class SeatAdmin(RejudgeAdmin, NoDeleteAdmin):
    list_display = ("person", "community", "body", "role", "start_on", "end_on")
    list_filter = ("body", "role", "community__sub_district")
    search_fields = ("person__name", "person__public_id", "community__name", "community__code")
    raw_id_fields = ("person", "community")


@admin.register(Employment)
class EmploymentAdmin(RejudgeAdmin, NoDeleteAdmin):
    list_display = ("person", "community", "full_time", "post", "grade", "entry_on", "leave_on", "leave_way")
    list_filter = ("full_time", "post", "leave_way", "community__sub_district")
    search_fields = ("person__name", "person__public_id", "community__name", "community__code")
    raw_id_fields = ("person", "community")


class ExitStepInline(admin.TabularInline):
    model = ExitStep
    extra = 0
    can_delete = False
    readonly_fields = ("step", "on", "actor", "note", "recorded_at")

    def has_add_permission(self, request, obj=None) -> bool:
        # Steps are written by the exit services only, along the declared flow.
        return False


@admin.register(ExitProcedure)
class ExitProcedureAdmin(NoDeleteAdmin):
    list_display = ("employment", "kind", "state")
    readonly_fields = ("employment", "kind", "state")
    inlines = [ExitStepInline]


class _KnownPeopleRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id box whose label comes from the attendees read once, not one query per row."""

    known: dict = {}

    def label_and_url_for_value(self, value):
        person = self.known.get(str(value))
        if person is None:
            return super().label_and_url_for_value(value)
        try:
            url = reverse(f"{self.admin_site.name}:staffing_person_change", args=(person.pk,))
        except NoReverseMatch:
            url = ""
        return Truncator(person).words(14), url


class AttendanceInline(admin.TabularInline):
    """Attendees by raw id (a <select> of every person per attendee made the page 2 MB and 15 s)."""

    model = TrainingAttendance
    extra = 0
    raw_id_fields = ("person",)

    def get_queryset(self, request):
        # Each row's title is str(attendance): person and event in the same query.
        return super().get_queryset(request).select_related("person", "event")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields["person"]
        widget = _KnownPeopleRawIdWidget(field.widget.rel, self.admin_site, attrs=field.widget.attrs)
        widget.known = ({str(p.pk): p for p in Person.objects.filter(trainings__event=obj)}
                        if obj is not None else {})
        field.widget = widget
        return formset


@admin.register(TrainingEvent)
class TrainingEventAdmin(RejudgeAdmin, SimpleHistoryAdmin):
    list_display = ("title", "kind", "held_on", "organiser")
    list_filter = ("kind",)
    search_fields = ("title",)
    inlines = [AttendanceInline]


@admin.register(Assessment)
class AssessmentAdmin(RejudgeAdmin, NoDeleteAdmin):
    list_display = ("person", "year", "result", "assessed_on")
    list_filter = ("year", "result")
    raw_id_fields = ("person",)


@admin.register(AssessmentDecision)
class AssessmentDecisionAdmin(RejudgeAdmin, NoDeleteAdmin):
    list_display = ("assessment", "kind", "decided_on")
    list_filter = ("kind",)
    raw_id_fields = ("assessment",)


@admin.register(Vacancy)
class VacancyAdmin(RejudgeAdmin, NoDeleteAdmin):
    list_display = ("community", "body", "role", "vacated_on", "filled_on")
    raw_id_fields = ("community", "previous_seat", "filled_by")


@admin.register(CareRecord)
class CareRecordAdmin(SimpleHistoryAdmin):
    list_display = ("person", "kind", "on", "note")
    raw_id_fields = ("person",)
