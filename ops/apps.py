from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "运行维护"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers the deploy check, connects the Celery receivers)
