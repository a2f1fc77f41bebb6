"""The community page's 两委 figures: the rules' own statement, compiled once (staffing.selectors.composition_row)."""

from datetime import date

import pytest

from communities.models import Community
from staffing import rules, selectors
from staffing.models import Body

from . import builders

pytestmark = pytest.mark.django_db


def test_compiled_composition_matches_the_rules_annotation_on_every_day(streets):
    c = builders.community(streets["qingnian"])
    other = builders.community(streets["qingnian"], "002")
    people = builders.bulk_people(6, c)
    builders.bulk_seats(c, people[:3], Body.PARTY)
    builders.bulk_seats(c, people[1:5], Body.COMMITTEE, start_on=date(2023, 3, 1))
    builders.bulk_workers(c, people[2:4], entry_on=date(2022, 1, 1))
    builders.bulk_workers(c, people[4:], full_time=False)
    builders.party(other, 2, end_on=date(2021, 12, 31))
    selectors._COMPILED.clear()
    for community in (c, other):
        for day in (date(2019, 1, 1), date(2021, 6, 1), date(2022, 6, 1), date(2023, 6, 1)):
            orm = rules.annotate_composition(Community.objects.filter(pk=community.pk), day).values(
                *rules.COMPOSITION).get()
            assert selectors.composition_row(community.pk, day) == orm, (community.code, day)
    assert selectors._COMPILED["default"] is not None  # compiled, not the fallback
    assert selectors.composition_row(c.pk, date(2023, 6, 1))["cross_n"] == 2


def test_a_statement_with_an_unrecognised_parameter_falls_back_to_the_orm(streets, monkeypatch):
    c = builders.community(streets["qingnian"])
    builders.party(c, 2)
    monkeypatch.setattr(selectors, "_COMPILED", {"default": None})
    assert selectors.composition_row(c.pk, date(2024, 1, 1))["party_n"] == 2
