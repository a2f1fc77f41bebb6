"""compliance.pg: the ``= ANY(array)`` lookup the engine reads targets and findings by."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities.models import Community
from compliance.engine import evaluate_rules
from compliance.models import Finding, FindingEvent, FindingEventKind
from compliance.pg import in_array, int_array
from compliance.rules import registry

pytestmark = pytest.mark.django_db


def test_int_array_text():
    assert int_array([3, -1, 2]) == "{3,-1,2}"
    assert int_array(iter([7])) == "{7}"
    assert int_array([]) == "{}"


def test_int_array_refuses_anything_but_integers():
    with pytest.raises(ValueError):
        int_array(["1}; SELECT 1; --"])


def test_in_array_reads_exactly_the_listed_rows(make_community):
    first, second, third = (make_community() for _ in range(3))
    rows = sorted(in_array(Community.objects.values_list("pk", flat=True), "id", [third.pk, first.pk, 10**12]))
    assert rows == sorted([first.pk, third.pk])
    assert second.pk not in rows


def test_in_array_with_nothing_listed(make_community):
    make_community()
    assert list(in_array(Community.objects.values_list("pk", flat=True), "id", [])) == []
    with CaptureQueriesContext(connection) as queries:
        assert list(in_array(Community.objects.values_list("pk", flat=True), "id", [], always=True)) == []
    assert len(queries) == (1 if connection.vendor == "postgresql" else 0)


def test_each_new_finding_gets_its_opened_event(make_community):
    communities = [make_community(households=500) for _ in range(3)]
    evaluate_rules(rules=[registry.get("M04.households")], community_pks=[c.pk for c in communities])
    findings = Finding.objects.filter(rule_id="M04.households")
    assert findings.count() == 3
    events = FindingEvent.objects.filter(finding__in=findings, kind=FindingEventKind.OPENED)
    assert sorted(events.values_list("finding_id", flat=True)) == sorted(findings.values_list("pk", flat=True))
