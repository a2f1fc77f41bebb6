from django import template

from staffing.privacy import birth_for as _birth_for
from staffing.privacy import id_number_for as _id_number_for

register = template.Library()


@register.filter
def id_number_for(value, user):
    """{{ person.id_number|id_number_for:user }}: masked on every page; the whole number only on the person page
    an administrator asked to reveal (a recorded event), which uses ``revealed_id_number``."""
    return _id_number_for(user, value)


@register.filter
def birth_for(value, user):
    """{{ person.birth_date|birth_for:user }}: the year beside a masked number, never the date."""
    return _birth_for(user, value)


@register.simple_tag
def revealed_id_number(person, user, revealed):
    return _id_number_for(user, person.id_number, revealed=bool(revealed))


@register.simple_tag
def revealed_birth(person, user, revealed):
    return _birth_for(user, person.birth_date, revealed=bool(revealed))


@register.inclusion_tag("staffing/_community_panel.html", takes_context=True)
def staffing_panel(context, community):
    """The community page's 两委/工作者 panel: 应配 against 实有 (one query for the figures)."""
    from django.utils import timezone

    from staffing.selectors import community_staffing_figures, may_read_people

    request = context.get("request")
    if request is None or not may_read_people(request.user):
        return {"hidden": True}
    return {"community": community, "c": community_staffing_figures(community, timezone.localdate())}
