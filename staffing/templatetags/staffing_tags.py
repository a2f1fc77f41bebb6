from django import template

from staffing.privacy import id_number_for as _id_number_for

register = template.Library()


@register.filter
def id_number_for(value, user):
    """{{ person.id_number|id_number_for:request.user }}: whole for administrators, masked otherwise."""
    return _id_number_for(user, value)
