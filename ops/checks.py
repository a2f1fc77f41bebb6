from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def site_url_required(app_configs, **kwargs):
    """The digest's links need the site's address; a production process without one would mail bare paths."""
    if settings.DEBUG or getattr(settings, "SITE_URL", ""):
        return []
    return [Error("调试关闭时必须设置 DJANGO_SITE_URL（站点地址，邮件中的链接使用），例如 https://shequ.lianhu.gov.cn",
                  id="ops.E001")]
