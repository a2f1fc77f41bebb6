from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "工作簿导入"

    def ready(self) -> None:
        # Each domain app registers the sheets it owns in its own sheets.py, like admin.py.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("sheets")
