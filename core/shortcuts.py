"""The scoped get-or-404 every app's selectors use for a single record."""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)


def one_or_404(queryset: QuerySet[M], message: str, **lookup) -> M:
    """The one row of a user-scoped queryset, else 404 with ``message``: a record of
    another 街办 and one that does not exist look the same (so does a malformed id)."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):  # every Model.DoesNotExist subclasses it
        raise Http404(message) from None
