"""A record link reversed once per page: the table-writing tags (the 问题清单, the 社区 list) put each row's
key between the two parts instead of reversing the URL for every row."""

from __future__ import annotations

from django.urls import reverse

_ROW_PK = 2147483647  # a key no record has: the place of the real one


def link_parts(name: str) -> tuple[str, str]:
    """The URL named ``name`` (one pk argument) before and after its pk."""
    head, _, tail = reverse(name, args=[_ROW_PK]).partition(str(_ROW_PK))
    return head, tail
