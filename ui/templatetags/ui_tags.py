"""Template tags every list and chart shares: ``{% sort_header %}``, ``{% pagination %}``, ``{% chart %}``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.html import format_html

from ui.charts import table_rows
from ui.listing import PAGE_SIZES, SIZE_PARAM, SORT_PARAM, Sorting

register = template.Library()

ARROWS = {"asc": "▲", "desc": "▼", "": ""}
ARIA = {"asc": "ascending", "desc": "descending", "": "none"}


def _query(request, **changes) -> str:
    params = request.GET.copy()
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return "?" + params.urlencode() if params else "?"


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, css: str = ""):
    """A column header whose label links to the list sorted by that column (again: the other way round).

    The page number is dropped, since page 7 of another order is not where the reader was.
    """
    sorting: Sorting = context["sorting"]
    request = context["request"]
    spec = sorting.keys[key]
    state = sorting.state(key)
    href = _query(request, **{SORT_PARAM: sorting.next_value(key), "page": None})
    hint = "点击按此列倒序排列" if state == "asc" else "点击按此列升序排列"
    return format_html(
        '<th scope="col" class="sortable {}" aria-sort="{}" data-sort-key="{}"><a href="{}" title="{}">{}'
        '<span class="sort-arrow" aria-hidden="true">{}</span></a></th>',
        css, ARIA[state], key, href, hint, spec.label, ARROWS[state],
    )


@register.inclusion_tag("ui/_pagination.html", takes_context=True)
def pagination(context, page=None):
    """First/previous/next/last, a jump-to-page box and a page-size choice that keep the other filters."""
    request = context["request"]
    page = page or context["page"]
    kept = [(k, v) for k, values in request.GET.lists() if k not in ("page", SIZE_PARAM) for v in values]
    return {
        "page": page,
        "request": request,
        "kept": kept,
        "sizes": PAGE_SIZES,
        "size": page.paginator.per_page,
        "size_param": SIZE_PARAM,
        "first_url": _query(request, page=1),
        "previous_url": _query(request, page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": _query(request, page=page.next_page_number()) if page.has_next() else "",
        "last_url": _query(request, page=page.paginator.num_pages),
    }


@register.filter
def cell(value) -> str:
    """A ledger value as people read it: dates YYYY-MM-DD, numbers with thousands separators, 是/否, blank for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if timezone.is_aware(value) else f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (Decimal, float)):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        return text
    return str(value)


@register.inclusion_tag("ui/_chart.html")
def chart(chart):
    """A chart (ui.charts.Chart) with the table of its figures beside it and its data for charts.js."""
    return {"chart": chart, "chart_rows": table_rows(chart), "chart_data_id": f"{chart['id']}-data"}
