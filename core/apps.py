from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every domain app builds on and no domain app owns: the form and filter kit, the scoped
    get-or-404, history rows, the record and COPY writers and the generic service-form view (no models).
    It imports no domain app (tests/lianhu/test_layers.py)."""

    name = "core"
    verbose_name = "公共部件"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from . import pagememo

        request_started.connect(pagememo.start, dispatch_uid="core.pagememo.start")
        request_finished.connect(pagememo.end, dispatch_uid="core.pagememo.end")
