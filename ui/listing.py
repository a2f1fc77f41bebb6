"""Sortable, paginated lists: one helper every list view shares.

Sorting is by a whitelist: each list names the keys a reader may sort by, with the Chinese label of
the column and the ORM expressions behind it, so ``?sort=`` can never reach a field the list does
not show (or one that would need another query per row). ``?sort=-key`` sorts descending; ``pk``
always breaks ties so pages do not overlap. ``?size=`` picks one of PAGE_SIZES.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.http import HttpRequest

PAGE_SIZES = (20, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
SORT_PARAM = "sort"
SIZE_PARAM = "size"


@dataclass(frozen=True)
class SortKey:
    label: str
    fields: Sequence[str]  # ORM names, in order; a leading "-" reverses that part of the default direction


@dataclass
class Sorting:
    keys: Mapping[str, SortKey]
    key: str
    descending: bool
    default: str = field(default="")

    def state(self, key: str) -> str:
        """"asc"/"desc" for the column the list is sorted by, "" for the others."""
        if key != self.key:
            return ""
        return "desc" if self.descending else "asc"

    def next_value(self, key: str) -> str:
        """What the column's header link asks for: the other direction if sorted by it, else ascending."""
        if key == self.key and not self.descending:
            return f"-{key}"
        return key


def _ordering(spec: SortKey, descending: bool) -> list:
    orders = []
    for name in spec.fields:
        reverse = name.startswith("-")
        expression = F(name.lstrip("-"))
        if reverse != descending:
            orders.append(expression.desc(nulls_last=True))
        else:
            orders.append(expression.asc(nulls_last=True))
    return orders


def sort_order(request: HttpRequest, keys: Mapping[str, SortKey], default: str) -> tuple[list, Sorting]:
    """The ORDER BY terms of the reader's choice (``?sort=``), or of ``default`` for anything not whitelisted,
    ``pk`` last: for a list that orders its rows under a grouping of its own (the funding table, by 街办)."""
    asked = request.GET.get(SORT_PARAM, "")
    descending = asked.startswith("-")
    key = asked.lstrip("-")
    if key not in keys:
        descending = default.startswith("-")
        key = default.lstrip("-")
    orders = [*_ordering(keys[key], descending), "-pk" if descending else "pk"]
    return orders, Sorting(keys=keys, key=key, descending=descending, default=default)


def sort_queryset(
    request: HttpRequest, queryset: QuerySet, keys: Mapping[str, SortKey], default: str
) -> tuple[QuerySet, Sorting]:
    """The queryset ordered by the reader's choice (``?sort=``), or by ``default`` for anything not whitelisted."""
    orders, sorting = sort_order(request, keys, default)
    return queryset.order_by(*orders), sorting


def sort_rows(request: HttpRequest, rows: Sequence, keys: Mapping[str, SortKey], default: str) -> tuple[list, Sorting]:
    """A list built in Python (no queryset behind it) sorted the same way: each SortKey field names a key
    of the row (a dict) or an attribute; missing values sort last either way, as in SQL above."""
    _orders, sorting = sort_order(request, keys, default)
    spec = keys[sorting.key]

    def value(row, name):
        return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)

    ordered = list(rows)
    # Stable sorts, last field first; each field's own direction, then the reader's.
    for name in reversed(spec.fields):
        reverse = name.startswith("-") != sorting.descending
        name = name.lstrip("-")
        present = [r for r in ordered if value(r, name) is not None]
        missing = [r for r in ordered if value(r, name) is None]
        ordered = sorted(present, key=lambda r: value(r, name), reverse=reverse) + missing
    return ordered, sorting


def page_size(request: HttpRequest, default: int = DEFAULT_PAGE_SIZE) -> int:
    try:
        size = int(request.GET.get(SIZE_PARAM, default))
    except (TypeError, ValueError):
        return default
    return size if size in PAGE_SIZES else default


def paginate(request: HttpRequest, items, default_size: int = DEFAULT_PAGE_SIZE) -> Page:
    """The page asked for (``?page=``, out-of-range numbers give the nearest page) at the chosen size."""
    return Paginator(items, page_size(request, default_size)).get_page(request.GET.get("page"))
