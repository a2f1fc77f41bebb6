"""What the ground app gives the ledger registry: the 街办 a user may narrow a download to, and the scope every
ledger starts from. The 社区台账 itself is registered by ``compliance`` (its 应配/实有 columns are the rules'
own figures), so this app stays free of the apps that stand on it."""

from __future__ import annotations

from django.db.models import QuerySet

from core.ledgers import registry

from .models import Community
from .selectors import communities_for_user, sub_districts_for_user


def communities_in_scope(user, street: str | None) -> QuerySet[Community]:
    """The communities ``user`` may see, narrowed to one 街办 by its code."""
    qs = communities_for_user(user)
    # The FK holds the 9-digit 街办 code (to_field), which the stubs take for an int pk.
    return qs.filter(sub_district_id=street) if street else qs  # type: ignore[misc]


def streets_for(user) -> list[tuple[str, str]]:
    return list(sub_districts_for_user(user).order_by("code").values_list("code", "name"))


registry.register_streets(streets_for)
