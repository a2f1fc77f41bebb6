from django.apps import AppConfig


class UiConfig(AppConfig):
    """What every page shares in how it is read: charts, sortable lists, pagination, print (no models)."""

    name = "ui"
    verbose_name = "页面展示"
