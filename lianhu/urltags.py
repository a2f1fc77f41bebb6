"""``{% url %}`` with each URL reversed once per process (TEMPLATES builtins, after Django's ``url``).

Every page reverses the same links again: the menu's fifteen, and a table's one per row. Django's reverse costs
about 50 µs (its resolver's look-up, the pattern's converters, the quoting), so a page spent 1–2 ms of CPU on
links that never change. Here a link without arguments is kept as it was reversed, and a link with one whole-
number argument (a record's pk) is kept as the two parts around it, the way the table-writing tags use
``core.links.link_parts``. The key holds everything the result depends on (the name, the current app, the
script prefix, the URLconf and the language), so a deployment under a sub-path or another language reads its own.
Any other form ({% url … as var %}, keyword or other arguments, a name that does not reverse) is Django's own node.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

from core.links import _ROW_PK

register = template.Library()

_KEPT: dict[tuple, tuple[str, str] | str] = {}
_KEPT_MAX = 2_000  # distinct (name, app, prefix, urlconf, language): a few hundred in this project


class KeptURLNode(URLNode):
    def render(self, context: Any) -> str:
        if self.kwargs or self.asvar or len(self.args) > 1:
            return super().render(context)
        args = [arg.resolve(context) for arg in self.args]
        pk = args[0] if args else None
        if args and not (type(pk) is int and pk >= 0):
            return super().render(context)
        view_name = self.view_name.resolve(context)
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            match = getattr(request, "resolver_match", None)
            current_app = getattr(match, "namespace", None)
        key = (view_name, bool(args), current_app, get_script_prefix(), get_urlconf(), get_language())
        kept = _KEPT.get(key)
        if kept is None:
            try:
                if args:
                    head, found, tail = reverse(view_name, args=[_ROW_PK], current_app=current_app).partition(
                        str(_ROW_PK))
                    kept = (head, tail) if found and str(_ROW_PK) not in tail else None
                else:
                    kept = reverse(view_name, current_app=current_app)
            except NoReverseMatch:
                kept = None  # (a pattern that takes no number, say): Django's node, and its error, as always
            if kept is None:
                return super().render(context)
            if len(_KEPT) < _KEPT_MAX:
                _KEPT[key] = kept
        url = kept if isinstance(kept, str) else f"{kept[0]}{pk}{kept[1]}"
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: Any, token: Any) -> URLNode:
    node = django_url(parser, token)
    node.__class__ = KeptURLNode
    return node
