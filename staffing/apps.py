from django.apps import AppConfig


class StaffingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "staffing"
    verbose_name = "人员与两委"

    def ready(self) -> None:
        from . import checks  # noqa: F401  registers the deployment check of the ID number keys
