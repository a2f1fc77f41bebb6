from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = "社区服务设施"

    def ready(self) -> None:
        from accounts.roles import Role, register_role_permissions

        register_role_permissions(Role.CLERK, ["facilities.add_facility"])
        # 措施七、八 name the departments as readers of the facility records.
        for role in (Role.REVIEWER, Role.DEPARTMENT):
            register_role_permissions(role, ["facilities.view_facility", "facilities.view_facilitystep"])
