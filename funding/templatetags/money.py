from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    """129999 → 129,999; 1500.50 → 1,500.5; empty → —. Grouped by thousands as finance forms are."""
    if value is None or value == "":
        return "—"
    number = Decimal(value)
    text = f"{number:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
