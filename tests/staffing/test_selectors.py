"""The 两委 figures (staffing.selectors.community_composition, and community_staffing_figures for the community
page's panel): counted from the seats and workers (rules.composition_of), equal to the rules' own annotation on
every day."""

from datetime import date

import pytest

from communities.models import Community
from staffing import rules, selectors
from staffing.models import Body

from . import builders

pytestmark = pytest.mark.django_db


def test_the_page_figures_match_the_rules_annotation_on_every_day(streets):
    c = builders.community(streets["qingnian"])
    other = builders.community(streets["qingnian"], "002")
    people = builders.bulk_people(6, c)
    builders.bulk_seats(c, people[:3], Body.PARTY)
    builders.bulk_seats(c, people[1:5], Body.COMMITTEE, start_on=date(2023, 3, 1))
    builders.bulk_workers(c, people[2:4], entry_on=date(2022, 1, 1))
    builders.bulk_workers(c, people[4:], full_time=False)
    builders.party(other, 2, end_on=date(2021, 12, 31))
    seen = set()
    for community in (c, other):
        for day in (date(2019, 1, 1), date(2021, 6, 1), date(2022, 6, 1), date(2023, 6, 1)):
            orm = rules.annotate_composition(Community.objects.filter(pk=community.pk), day).values(
                *rules.COMPOSITION).get()
            page = selectors.community_composition(community, day)
            assert {name: page[name] for name in rules.COMPOSITION} == orm, (community.code, day)
            # The community page's panel counts from the keys alone: every figure it shows is the 两委 page's.
            panel = selectors.community_staffing_figures(community, day)
            assert panel == {k: v for k, v in page.items() if k not in ("bodies", "workers", "vacancies", "exits")}
            seen.add(tuple(orm.values()))
    assert len(seen) >= 4  # the days differ: the comparison is not of empty figures
    figures = selectors.community_composition(c, date(2023, 6, 1))
    assert (figures["party_n"], figures["committee_n"], figures["cross_n"]) == (3, 4, 2)
    assert (figures["liangwei_n"], figures["fulltime_n"], figures["workers_n"]) == (5, 2, 4)
