from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = "社区与小区"

    def ready(self) -> None:
        # Every app's demo.py registers its part of the demo district (communities.demo.register_demo_part),
        # the way rules.py and sheets.py are found: load_demo runs what is registered, naming no app.
        autodiscover_modules("demo")
        from accounts.access import watch

        from .models import SubDistrict

        watch(SubDistrict)  # a 街办 names its clerk group: who is that 街办's clerk
