from django.apps import AppConfig
from django.core import checks
from django.utils.module_loading import autodiscover_modules


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "措施合规"

    def ready(self) -> None:
        from . import checks as compliance_checks
        from . import pg  # noqa: F401  (registers the in_array lookup)
        from .rejudge import build_index

        # Every app's rules.py, the way the admin finds admin.py.
        autodiscover_modules("rules")
        build_index()
        checks.register(compliance_checks.check_rules, "compliance")
