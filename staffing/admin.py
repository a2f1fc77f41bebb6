from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Assessment,
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


@admin.register(Person)
class PersonAdmin(NoDeleteAdmin):
    # The admin is for 管理员 only, who may see ID numbers whole.
    list_display = ("public_id", "name", "id_number", "sex", "birth_date", "education")
    search_fields = ("public_id", "name", "id_number")
    readonly_fields = ("public_id", "birth_date", "sex")
    inlines = [SeatInline, EmploymentInline]


@admin.register(Seat)
class SeatAdmin(NoDeleteAdmin):
    list_display = ("person", "community", "body", "role", "start_on", "end_on")
    list_filter = ("body", "role", "community__sub_district")
    search_fields = ("person__name", "person__public_id", "community__name", "community__code")
    raw_id_fields = ("person", "community")


@admin.register(Employment)
class EmploymentAdmin(NoDeleteAdmin):
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


class AttendanceInline(admin.TabularInline):
    model = TrainingAttendance
    extra = 0
    raw_id_fields = ("person",)


@admin.register(TrainingEvent)
class TrainingEventAdmin(SimpleHistoryAdmin):
    list_display = ("title", "kind", "held_on", "organiser")
    list_filter = ("kind",)
    search_fields = ("title",)
    inlines = [AttendanceInline]


@admin.register(Assessment)
class AssessmentAdmin(NoDeleteAdmin):
    list_display = ("person", "year", "result", "assessed_on")
    list_filter = ("year", "result")
    raw_id_fields = ("person",)


@admin.register(Vacancy)
class VacancyAdmin(NoDeleteAdmin):
    list_display = ("community", "body", "role", "vacated_on", "filled_on")
    raw_id_fields = ("community", "previous_seat", "filled_by")


@admin.register(CareRecord)
class CareRecordAdmin(SimpleHistoryAdmin):
    list_display = ("person", "kind", "on", "note")
    raw_id_fields = ("person",)
