from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from compliance.rejudge import RejudgeAdmin

from .models import Allocation, Disbursement, SalaryFunding, TaskFund


class DisbursementInline(admin.TabularInline):
    """Payments are recorded on the funding page (disbursement_create keeps the total); shown here, not edited."""

    model = Disbursement
    fields = ("paid_on", "amount", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Allocation)
class AllocationAdmin(RejudgeAdmin, SimpleHistoryAdmin):
    list_display = ("community", "year", "level", "planned", "disbursed")
    readonly_fields = ("disbursed",)
    inlines = [DisbursementInline]
    list_filter = ("year", "level", "community__sub_district")
    search_fields = ("community__name", "community__code")
    raw_id_fields = ("community",)


@admin.register(SalaryFunding)
class SalaryFundingAdmin(RejudgeAdmin, SimpleHistoryAdmin):
    list_display = ("year", "level", "amount")
    list_filter = ("year", "level")


@admin.register(TaskFund)
class TaskFundAdmin(RejudgeAdmin, SimpleHistoryAdmin):
    list_display = ("community", "year", "task", "department", "amount", "received_on")
    list_filter = ("year",)
    search_fields = ("task", "department", "community__name")
    raw_id_fields = ("community",)
