"""List filters. The querysets they narrow always come from the selectors, and
their choice lists are scoped the same way, so a filter never reveals another
街办's names."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from core.filters import StyledFilterSet

from .models import Community, CommunityStatus, Compound, PropertyService, Scale
from .selectors import communities_for_user, sub_districts_for_user


def _visible_streets(request):
    return sub_districts_for_user(request.user)


def _visible_communities(request):
    return communities_for_user(request.user).only("id", "code", "name")


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
