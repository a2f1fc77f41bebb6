"""Who may see an ID number whole, and what may be shown beside a masked one (docs/design.md, issue 14).

The mask (``idnumbers.mask``) hides digits 7–14, which are the birth date; so wherever a number is masked,
the birth date is shown as its year only, or the hidden digits could be written back in (with the year, some
thirty dates per number pass the check digit). The whole number is for administrators, and only when they
ask for it: each reveal, on a page or in an export, is a security event (``id_reveal``).

Templates use the ``id_number_for`` and ``birth_for`` filters, exports ``export_id_number`` and
``export_birth``; all come here, so the rule lives in one place.
"""

from __future__ import annotations

import datetime as dt

from accounts.roles import is_admin

from . import idnumbers


def may_see_id_numbers(user) -> bool:
    return user is not None and is_admin(user)


def id_number_for(user, value: str | None, *, revealed: bool = False) -> str:
    return idnumbers.normalize(value) if revealed and may_see_id_numbers(user) else idnumbers.mask(value)


def birth_for(user, value: dt.date | None, *, revealed: bool = False) -> str:
    """The birth date beside a whole number; its year beside a masked one."""
    if value is None:
        return ""
    if revealed and may_see_id_numbers(user):
        return f"{value:%Y-%m-%d}"
    return f"{value.year}年"


def export_id_number(value: str | None, *, user=None, reveal: bool = False) -> str:
    """Exports mask unless an administrator explicitly asks for whole numbers."""
    if reveal and may_see_id_numbers(user):
        return idnumbers.normalize(value)
    return idnumbers.mask(value)


def export_birth(value: dt.date | None, *, user=None, reveal: bool = False) -> dt.date | int | None:
    """An export's birth column: the date with whole numbers, the year (a number) with masked ones."""
    if value is None:
        return None
    if reveal and may_see_id_numbers(user):
        return value
    return value.year


def birth_column(*, user=None, reveal: bool = False) -> str:
    return "出生日期" if reveal and may_see_id_numbers(user) else "出生年份"


def record_reveal(*, user, where: str, public_ids: list[str] | None = None, count: int | None = None,
                  request=None) -> None:
    """One security event per reveal: who, from where, which page or export, whose numbers (人员编号, never
    the numbers themselves) or how many."""
    from audit.models import Kind
    from audit.services import security_event_record

    detail: dict = {"where": where}
    if public_ids is not None:
        detail["persons"] = public_ids[:50]
        detail["count"] = len(public_ids)
    if count is not None:
        detail["count"] = count
    security_event_record(kind=Kind.ID_REVEAL, user=user, request=request, detail=detail)
