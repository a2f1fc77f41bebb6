from django.contrib import admin

from core.resources import SheetImportExportMixin

from .models import RuleParameter
from .resources import RuleParameterResource


@admin.register(RuleParameter)
class RuleParameterAdmin(SheetImportExportMixin, admin.ModelAdmin):
    # A parameter is never edited (a new value is a new row, so past sweeps replay with their day's values):
    # rows come from the catalogue page, set_parameter or an import here, all through rule_parameter_set.
    list_display = ("rule_id", "name", "value", "effective_from", "set_by", "created_at")
    list_filter = ("rule_id",)
    search_fields = ("rule_id", "name", "reason")
    resource_classes = [RuleParameterResource]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
