"""``{% community_facility_panel community %}``: 应配 vs 实有 on the community page."""

from django import template
from django.utils import timezone

from facilities.selectors import facility_requirements

register = template.Library()


@register.inclusion_tag("facilities/_community_panel.html")
def community_facility_panel(community):
    return {"community": community, "req": facility_requirements(community, timezone.localdate())}
