"""Numbers as people read them, in every template without ``{% load %}`` (TEMPLATES builtins).

``{{ n|num }}`` groups by thousands (12,000; 1,234.5) and ``{{ a|area }}`` adds ㎡
(money: ``{% load money %}{{ m|yuan }}`` of funding). Codes and years are never passed through these: they are
identifiers, not quantities (USE_THOUSAND_SEPARATOR stays off so 2026 and
610104001001 print as they are).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


def grouped(value) -> str:
    """12000 → 12,000; 1500.50 → 1,500.5; None/"" → —; anything not a number as it is."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    if number == number.to_integral():
        return f"{int(number):,}"
    text = f"{number:,.2f}"
    return text.rstrip("0").rstrip(".")


@register.filter
def num(value) -> str:
    return grouped(value)


@register.filter
def area(value) -> str:
    text = grouped(value)
    return text if text == "—" else f"{text} ㎡"
