"""The filter bar's kit: a FilterSet in Bootstrap's small controls, and a select written in Python."""

from __future__ import annotations

import django_filters
from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .forms import fetch_choices


class PlainSelect(forms.Select):
    """Django's select, written in Python: its templates include two more templates per option, ~1–2 ms
    for each filter bar's rule or 街办 list on every list page. Same markup (tests compare it)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts.append(format_html('\n  <option value="{}"{}>{}</option>\n', option["value"],
                                         flatatt(option["attrs"]), option["label"]))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))


class StyledFilterSet(django_filters.FilterSet):
    """A filter bar in Bootstrap's small controls (the community, compound and findings lists)."""

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_styled", False):
            for field in form.fields.values():
                fetch_choices(field)
                if type(field.widget) is forms.Select:
                    field.widget = PlainSelect(attrs=field.widget.attrs, choices=field.widget.choices)
                css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
                field.widget.attrs["class"] = css
            form._styled = True
        return form
