"""Deployment check: a production process needs its own keys for ID numbers at rest (staffing/idcrypto.py)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security, deploy=True)
def id_number_keys(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from . import idcrypto

    try:
        idcrypto.fernet()
        idcrypto.digest("0")
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="staffing.E001")]
    if not settings.DEBUG and settings.FIELD_HASH_KEY.startswith("dev-only"):
        return [checks.Error("DJANGO_FIELD_HASH_KEY 仍是开发用默认值。", id="staffing.E002")]
    return []
