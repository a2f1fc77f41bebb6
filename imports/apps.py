from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "工作簿导入"

    def ready(self) -> None:
        # Each domain app registers the sheets it owns in its own sheets.py, like admin.py.
        from django.utils.module_loading import autodiscover_modules

        from core.resources import use_workbook_import

        from .services import workbook_import

        autodiscover_modules("sheets")
        # The admin's import buttons (core.resources) run uploads through the same pipeline as the import page.
        use_workbook_import(workbook_import)
