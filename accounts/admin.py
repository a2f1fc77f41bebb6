from django.contrib import admin

from .models import AccountSecurity, DepartmentMembership


@admin.register(DepartmentMembership)
class DepartmentMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "unit")
    list_filter = ("unit",)
    search_fields = ("user__username",)


@admin.register(AccountSecurity)
class AccountSecurityAdmin(admin.ModelAdmin):
    """Who still has to replace a password someone else set. Read-only: the flag follows who sets a password
    (accounts.signals), so an administrator cannot clear it for someone and leave a known password in use."""

    list_display = ("user", "must_change_password", "password_set_by", "password_changed_at")
    list_filter = ("must_change_password",)
    search_fields = ("user__username",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
