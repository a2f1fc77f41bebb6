from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from compliance.rejudge import RejudgeAdmin
from core.resources import SheetImportExportMixin

from .models import Facility, FacilityStep
from .resources import FacilityResource


class FacilityStepInline(admin.TabularInline):
    model = FacilityStep
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "step", "unit", "actor", "on", "at", "note")

    def has_add_permission(self, request, obj=None) -> bool:
        # Steps are written by the lifecycle service only.
        return False


@admin.register(Facility)
class FacilityAdmin(RejudgeAdmin, SheetImportExportMixin, SimpleHistoryAdmin):
    resource_classes = [FacilityResource]
    list_display = ("code", "name", "community", "kind", "service_category", "building_area", "status")
    list_filter = ("kind", "status", "service_category", "community__sub_district")
    search_fields = ("code", "name", "community__name", "community__code")
    raw_id_fields = ("community",)
    readonly_fields = ("status",)
    inlines = [FacilityStepInline]


@admin.register(FacilityStep)
class FacilityStepAdmin(admin.ModelAdmin):
    list_display = ("facility", "step", "unit", "actor", "on", "at")
    list_filter = ("step",)
    readonly_fields = [f.name for f in FacilityStep._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
