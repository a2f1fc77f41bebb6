"""Who may see an ID number whole: administrators only (docs/design.md, issue 5).

Templates use the ``id_number_for`` filter, exports ``export_id_number``; both
come here, so the rule lives in one place.
"""

from __future__ import annotations

from accounts.roles import is_admin

from . import idnumbers


def may_see_id_numbers(user) -> bool:
    return user is not None and is_admin(user)


def id_number_for(user, value: str | None) -> str:
    return idnumbers.normalize(value) if may_see_id_numbers(user) else idnumbers.mask(value)


def export_id_number(value: str | None, *, user=None, reveal: bool = False) -> str:
    """Exports mask unless an administrator explicitly asks for whole numbers."""
    if reveal and may_see_id_numbers(user):
        return idnumbers.normalize(value)
    return idnumbers.mask(value)

