"""The Django admin for administrators.

Saves go through the services, so an admin's edit is validated, audited and
moves object permissions exactly like a clerk's. Nothing is deleted here: a
community is 撤销, and the structure's history must stay whole.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from compliance.rejudge import RejudgeAdmin
from core.resources import SheetImportExportMixin

from . import services
from .forms import COMMUNITY_FIELDS
from .models import (
    Community,
    CommunityAdjustment,
    Compound,
    MonitoringPoint,
    RetiredCommunityCode,
    SubDistrict,
    TypicalCase,
)
from .resources import CommunityResource, CompoundResource


class NoDeleteAdmin(SimpleHistoryAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


def _changed_fields(form) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}


@admin.register(SubDistrict)
class SubDistrictAdmin(NoDeleteAdmin):
    list_display = ("code", "name", "clerk_group")
    search_fields = ("code", "name")
    readonly_fields = ("clerk_group",)

    def get_readonly_fields(self, request, obj=None):
        # The code is the key communities point at; renaming is fine, recoding is not.
        return ("code", "clerk_group") if obj else ("clerk_group",)

    def save_model(self, request, obj, form, change):
        saved = services.sub_district_upsert(code=obj.code, name=obj.name)
        obj.pk = saved.pk
        obj.clerk_group = saved.clerk_group
        obj._state.adding = False


class CompoundInline(admin.TabularInline):
    model = Compound
    fields = ("code", "name", "households", "property_service")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CommunityAdminForm(forms.ModelForm):
    class Meta:
        model = Community
        fields = [*COMMUNITY_FIELDS, "revoked_on", "figures_are_sample", "population_is_sample"]


@admin.register(Community)
class CommunityAdmin(RejudgeAdmin, SheetImportExportMixin, NoDeleteAdmin):
    resource_classes = [CommunityResource]
    list_display = ("code", "name", "sub_district", "households", "population", "status", "figures_are_sample",
                    "population_is_sample")
    list_filter = ("sub_district", "status", "figures_are_sample")
    search_fields = ("code", "name")
    list_select_related = ("sub_district",)
    inlines = [CompoundInline]
    form = CommunityAdminForm

    def save_model(self, request, obj, form, change):
        # The admin form has already validated obj; the services do what a plain
        # save would miss (permissions follow the 街办, retired codes, history user).
        if change:
            stored = Community.objects.get(pk=obj.pk)
            services.community_update(community=stored, user=request.user, **_changed_fields(form))
        else:
            created = services.community_create(user=request.user, **dict(form.cleaned_data))
            obj.pk = created.pk
            obj._state.adding = False


@admin.register(Compound)
class CompoundAdmin(RejudgeAdmin, SheetImportExportMixin, NoDeleteAdmin):
    resource_classes = [CompoundResource]
    list_display = ("code", "name", "community", "sub_district", "households", "property_service", "jurisdiction_unclear")
    list_filter = ("sub_district", "property_service", "jurisdiction_unclear", "must_provide_facility")
    search_fields = ("code", "name", "community__name")
    list_select_related = ("community", "sub_district")
    autocomplete_fields = ("community",)

    def save_model(self, request, obj, form, change):
        if change:
            stored = Compound.objects.get(pk=obj.pk)
            services.compound_update(compound=stored, user=request.user, **_changed_fields(form))
        else:
            created = services.compound_create(user=request.user, **dict(form.cleaned_data))
            obj.pk = created.pk
            obj._state.adding = False


@admin.register(CommunityAdjustment)
class CommunityAdjustmentAdmin(RejudgeAdmin, NoDeleteAdmin):
    list_display = ("community", "kind", "in_district_plan", "planned_on", "recorded_on")
    list_filter = ("kind", "in_district_plan")
    search_fields = ("community__name", "community__code", "reason")
    autocomplete_fields = ("community",)


@admin.register(RetiredCommunityCode)
class RetiredCommunityCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "community", "retired_at")
    search_fields = ("code", "community__name")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ServiceDeleteAdmin(RejudgeAdmin, SimpleHistoryAdmin):
    """Records that may be withdrawn: deletes go through the service so the rules re-judge."""

    delete_service = None

    def delete_model(self, request, obj):
        self.delete_service(obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(MonitoringPoint)
class MonitoringPointAdmin(ServiceDeleteAdmin):
    list_display = ("community", "designated_on", "note")
    search_fields = ("community__name", "community__code")
    list_select_related = ("community",)
    autocomplete_fields = ("community",)

    @staticmethod
    def delete_service(obj, *, user):
        services.monitoring_point_delete(point=obj, user=user)

    def get_readonly_fields(self, request, obj=None):
        # A designation is made or withdrawn, not moved to another community.
        return ("community", "designated_on") if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            stored = MonitoringPoint.objects.get(pk=obj.pk)
            services.monitoring_point_update(point=stored, user=request.user, **_changed_fields(form))
        else:
            created = services.monitoring_point_create(user=request.user, **dict(form.cleaned_data))
            obj.pk = created.pk
            obj._state.adding = False


@admin.register(TypicalCase)
class TypicalCaseAdmin(ServiceDeleteAdmin):
    list_display = ("year", "kind", "title", "community")
    list_filter = ("kind", "year")
    search_fields = ("title", "community__name", "community__code")
    list_select_related = ("community",)
    autocomplete_fields = ("community",)

    @staticmethod
    def delete_service(obj, *, user):
        services.typical_case_delete(case=obj, user=user)

    def save_model(self, request, obj, form, change):
        if change:
            stored = TypicalCase.objects.get(pk=obj.pk)
            services.typical_case_update(case=stored, user=request.user, **_changed_fields(form))
        else:
            created = services.typical_case_create(user=request.user, **dict(form.cleaned_data))
            obj.pk = created.pk
            obj._state.adding = False
