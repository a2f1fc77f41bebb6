"""List filters. The querysets they narrow always come from the selectors, and
their choice lists are scoped the same way, so a filter never reveals another
街办's names."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .models import Community, CommunityStatus, Compound, PropertyService, Scale
from .selectors import communities_for_user, sub_districts_for_user


def _visible_streets(request):
    return sub_districts_for_user(request.user)


def _visible_communities(request):
    return communities_for_user(request.user).only("id", "code", "name")


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
                if type(field.widget) is forms.Select:
                    field.widget = PlainSelect(attrs=field.widget.attrs, choices=field.widget.choices)
                css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
                field.widget.attrs["class"] = css
            form._styled = True
        return form


class CommunityFilter(StyledFilterSet):
    q = django_filters.CharFilter(label="名称或代码", method="search")
    sub_district = django_filters.ModelChoiceFilter(
        label="街道办事处", queryset=_visible_streets, to_field_name="code", empty_label="全部街道"
    )
    scale = django_filters.ChoiceFilter(
        label="规模", field_name="scale_class", choices=Scale.choices, empty_label="全部规模"
    )
    status = django_filters.ChoiceFilter(label="状态", choices=CommunityStatus.choices, empty_label="全部状态")

    class Meta:
        model = Community
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__startswith=value))


class CompoundFilter(StyledFilterSet):
    q = django_filters.CharFilter(label="名称或编号", method="search")
    sub_district = django_filters.ModelChoiceFilter(
        label="街道办事处", queryset=_visible_streets, to_field_name="code", empty_label="全部街道"
    )
    community = django_filters.ModelChoiceFilter(label="社区", queryset=_visible_communities, empty_label="全部社区")
    property_service = django_filters.ChoiceFilter(
        label="物业服务方式", choices=PropertyService.choices, empty_label="全部方式"
    )
    unassigned = django_filters.BooleanFilter(
        label="未划入社区",
        field_name="community",
        lookup_expr="isnull",
        widget=forms.Select(choices=[("", "全部"), ("true", "仅未划入"), ("false", "仅已划入")]),
    )

    class Meta:
        model = Compound
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))
