from django import template

from staffing.privacy import id_number_for as _id_number_for

register = template.Library()


@register.filter
def id_number_for(value, user):
    """{{ person.id_number|id_number_for:request.user }}: whole for administrators, masked otherwise."""
    return _id_number_for(user, value)


@register.inclusion_tag("staffing/_community_panel.html", takes_context=True)
def staffing_panel(context, community):
    """The community page's 两委/工作者 panel: 应配 against 实有 (one query for the figures)."""
    from django.utils import timezone

    from staffing.selectors import community_composition, may_read_people

    request = context.get("request")
    if request is None or not may_read_people(request.user):
        return {"hidden": True}
    return {"community": community, "c": community_composition(community, timezone.localdate())}
