from django.contrib import admin

from .models import TaskRecord


@admin.register(TaskRecord)
class TaskRecordAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "subject_type", "subject_id", "retries", "started_at", "finished_at"]
    list_filter = ["state", "name"]
    search_fields = ["task_id", "subject_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
