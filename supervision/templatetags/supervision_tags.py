"""The 整改 panel on compliance's finding page: ``{% rectification_panel finding %}``."""

from __future__ import annotations

from django import template

from supervision import compat, flow, services
from supervision.forms import MeasuresForm, RequestCloseForm, ReviewForm
from supervision.models import RectAction, RectStep

register = template.Library()


@register.inclusion_tag("supervision/_rectification_panel.html", takes_context=True)
def rectification_panel(context, finding):
    user = context["request"].user
    rect = services.rectification_for(finding)
    allowed = {t.action for t in flow.allowed(user, finding, rect)}
    steps = []
    if rect.pk:
        steps = list(RectStep.objects.filter(rectification=rect).select_related("actor").prefetch_related("attachments"))
    initial = {"measures": rect.measures, "expected_on": rect.expected_on}
    return {
        "finding": finding, "rect": rect, "steps": steps, "due": compat.due_date(finding),
        "unit": rect.unit, "is_open": compat.is_open(finding),
        "can_measures": RectAction.MEASURES in allowed, "can_request": RectAction.REQUEST in allowed,
        "can_review": RectAction.CLOSE in allowed,
        "measures_form": MeasuresForm(prefix="m", initial=initial),
        "request_form": RequestCloseForm(prefix="r"), "review_form": ReviewForm(prefix="v"),
        "csrf_token": context.get("csrf_token"),
        "waiting_note": _waiting(rect.state, allowed),
    }


def _waiting(state: str, allowed: set[str]) -> str:
    if state == "requested" and not allowed:
        return "已申请销号，等待区民政局审核员复核。"
    return ""


@register.simple_tag
def delta(current, previous):
    """The change from the previous period, as a 通报 prints it: 增3 / 减2 / 持平."""
    diff = (current or 0) - (previous or 0)
    if diff > 0:
        return f"增{diff}"
    if diff < 0:
        return f"减{-diff}"
    return "持平"


@register.filter
def level_count(row, key):
    return row.get(key, 0)
