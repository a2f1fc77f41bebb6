from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Allocation, SalaryFunding, TaskFund


@admin.register(Allocation)
class AllocationAdmin(SimpleHistoryAdmin):
    list_display = ("community", "year", "level", "planned", "disbursed")
    list_filter = ("year", "level", "community__sub_district")
    search_fields = ("community__name", "community__code")
    raw_id_fields = ("community",)


@admin.register(SalaryFunding)
class SalaryFundingAdmin(SimpleHistoryAdmin):
    list_display = ("year", "level", "amount")
    list_filter = ("year", "level")


@admin.register(TaskFund)
class TaskFundAdmin(SimpleHistoryAdmin):
    list_display = ("community", "year", "task", "department", "amount", "received_on")
    list_filter = ("year",)
    search_fields = ("task", "department", "community__name")
    raw_id_fields = ("community",)
