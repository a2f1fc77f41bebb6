"""The findings list's filters; their choice lists come from what the user may see."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from core.filters import StyledFilterSet

from . import catalogue
from .catalogue import Severity
from .models import Finding, FindingStatus
from .names import rule_name
from .selectors import streets_for_user

CLAUSE_CHOICES = [(str(n), f"措施{catalogue.CHINESE_NUMERALS[n]} {c.title}") for n, c in catalogue.CLAUSES.items()]
RULE_CHOICES = [(s.id, rule_name(s.id)) for s in sorted(catalogue.RULES.values(), key=lambda s: (s.clause, s.id))]


def _streets(request):
    return streets_for_user(request.user)


class FindingFilter(StyledFilterSet):
    clause = django_filters.ChoiceFilter(label="措施", choices=CLAUSE_CHOICES, empty_label="全部措施")
    rule = django_filters.ChoiceFilter(label="规则", field_name="rule_id", choices=RULE_CHOICES, empty_label="全部规则")
    sub_district = django_filters.ModelChoiceFilter(
        label="街道办事处", queryset=_streets, to_field_name="code", empty_label="全部街道"
    )
    severity = django_filters.ChoiceFilter(label="严重程度", choices=Severity.CHOICES, empty_label="全部")
    status = django_filters.ChoiceFilter(label="状态", choices=FindingStatus.choices, empty_label="全部状态")
    q = django_filters.CharFilter(label="社区代码或名称", method="search")

    class Meta:
        model = Finding
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(community__code__startswith=value) | Q(community__name__icontains=value) | Q(target_key__startswith=value)
        )
