from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "导出"

    def ready(self) -> None:
        # Each domain app registers the ledgers it owns in its own ledgers.py, like admin.py and sheets.py.
        from django.utils.module_loading import autodiscover_modules

        from . import signals  # noqa: F401  (a deleted export takes its file with it)

        autodiscover_modules("ledgers")
