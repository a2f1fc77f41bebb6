from django.contrib import admin

from .models import Attachment, EstablishmentRequest, ProposedCommunity, StepDeadline, StepRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """Requests move only through the flow; their history is never edited, here either."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StepRecordInline(admin.TabularInline):
    model = StepRecord
    extra = 0
    can_delete = False
    fields = ("step", "action", "from_state", "to_state", "actor", "acted_at", "opinion", "document_no", "decided_on")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(EstablishmentRequest)
class EstablishmentRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "title", "sub_district", "state", "state_since", "submitted_by")
    list_filter = ("kind", "state", "sub_district")
    inlines = [StepRecordInline]


@admin.register(ProposedCommunity)
class ProposedCommunityAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "request", "households", "population", "community", "credit_code")


@admin.register(StepRecord)
class StepRecordAdmin(ReadOnlyAdmin):
    list_display = ("request", "step", "action", "actor", "acted_at", "document_no", "decided_on")
    list_filter = ("step", "action")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "record", "content_type", "size")


@admin.register(StepDeadline)
class StepDeadlineAdmin(admin.ModelAdmin):
    list_display = ("state", "days")
