from django.apps import AppConfig


class FundingConfig(AppConfig):
    name = "funding"
    verbose_name = "社区经费"

    def ready(self) -> None:
        from accounts.roles import Role, register_role_permissions

        # 措施十九 names 区财政局 among the leads: departments read the funding records.
        perms = ["funding.view_allocation", "funding.view_salaryfunding", "funding.view_taskfund"]
        for role in (Role.REVIEWER, Role.DEPARTMENT):
            register_role_permissions(role, perms)
