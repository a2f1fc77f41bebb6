"""One figure, one source (issue 15): the 户数 bounds are M04.households' dated parameters, and setting them
moves 措施六's three rules and the 规模 label with M04 from that date and not before."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from communities import services as community_services
from communities.models import AdjustmentKind, Community, Scale
from compliance.checks import rule_errors
from compliance.engine import evaluate_rules
from compliance.models import Finding, FindingStatus
from compliance.parameters import scale_bounds
from compliance.rules import registry
from compliance.services import rule_parameter_set
from tests.staffing import builders as b

pytestmark = pytest.mark.django_db

CHANGE_ON = date(2025, 7, 1)
SCALE_RULES = ["M04.households", "M06.adjustment_plan", "M06.oversized_staffing", "M06.district_adjustment"]


def failing(as_of: date) -> dict[str, set[str]]:
    evaluate_rules(rules=[registry.get(r) for r in SCALE_RULES], as_of=as_of,
                   params={"M06.district_adjustment": {"oversized_to_split": 1, "micro_to_merge": 0}})
    out: dict[str, set[str]] = {r: set() for r in SCALE_RULES}
    for rule_id, key in Finding.objects.filter(status=FindingStatus.OPEN).values_list("rule_id", "target_key"):
        out[rule_id].add(key)
    return out


@pytest.fixture
def big(streets):
    """6,000 户 with 18 workers (超大型 needs 19) and no adjustment record; a second one split on paper."""
    c = b.community(streets["qingnian"], "101", households=6000, population=10000)
    b.bulk_workers(c, b.bulk_people(18, c))
    split = b.community(streets["qingnian"], "102", households=6500, population=12000)
    b.bulk_workers(split, b.bulk_people(30, split))
    community_services.adjustment_create(community=split, kind=AdjustmentKind.SPLIT, recorded_on=date(2024, 6, 1),
                                         in_district_plan=True)
    return c, split


def test_set_parameter_moves_every_rule_and_the_label_together_from_its_date(big):
    c, _split = big
    call_command("set_parameter", "M04.households", "max_households", "8000", "--from", CHANGE_ON.isoformat(),
                 "--reason", "政策修订", stdout=StringIO())

    before = failing(date(2025, 6, 30))
    assert c.code in before["M04.households"] and c.code in before["M06.adjustment_plan"]
    assert c.code in before["M06.oversized_staffing"]
    assert before["M06.district_adjustment"] == {"district"}  # 6,500 户 is not yet "split" under 5,000
    assert scale_bounds(date(2025, 6, 30)) == (1000, 5000)
    assert Community.objects.with_scale(scale_bounds(date(2025, 6, 30))).get(pk=c.pk).scale_class == Scale.OVERSIZED

    after = failing(CHANGE_ON)
    assert after == {r: set() for r in SCALE_RULES}
    assert scale_bounds(CHANGE_ON) == (1000, 8000)
    assert Community.objects.with_scale(scale_bounds(CHANGE_ON)).get(pk=c.pk).scale_class == Scale.MODERATE


def test_the_label_on_a_page_reads_todays_bounds(big):
    c, _ = big
    assert c.get_scale_display() == "超大型"
    rule_parameter_set(rule_id="M04.households", name="max_households", value=8000, effective_from=date(2020, 1, 1),
                       reason="试")
    assert Community.objects.get(pk=c.pk).get_scale_display() == "适度"
    assert Community.objects.with_scale().get(pk=c.pk).scale_class == Scale.MODERATE


@pytest.mark.parametrize("rule_id", ["M06.adjustment_plan", "M06.district_adjustment", "M06.oversized_staffing"])
def test_a_shared_figure_is_set_only_at_its_source(rule_id):
    with pytest.raises(ValidationError) as excinfo:
        rule_parameter_set(rule_id=rule_id, name="max_households", value=8000, effective_from=CHANGE_ON, reason="试")
    assert excinfo.value.code == "shared_parameter"
    assert "M04.households" in excinfo.value.messages[0]


def test_system_check_refuses_a_shared_figure_with_two_sources(monkeypatch):
    from compliance import catalogue

    spec = catalogue.RULES["M06.adjustment_plan"]
    broken = catalogue.RuleSpec(**{**spec.__dict__, "params": {"max_households": 5000}})
    monkeypatch.setitem(catalogue.RULES, spec.id, broken)
    assert "compliance.E006" in [m.id for m in rule_errors(registry, domains=set())]
    dangling = catalogue.RuleSpec(**{**spec.__dict__, "shared": {"max_households": "M04.population"}})
    monkeypatch.setitem(catalogue.RULES, spec.id, dangling)
    assert "compliance.E006" in [m.id for m in rule_errors(registry, domains=set())]


def test_two_committee_size_figures_move_the_rule_and_the_page_together(streets):
    """措施十's 5~9 and its 2000/4000 户 cut points are M10.committee_size's dated parameters: the rule and the
    community page's 两委 panel read the same values, from the date set and not before."""
    from staffing.models import Body
    from staffing.selectors import community_composition

    c = b.community(streets["qingnian"], "103", households=2500, population=7500)
    b.bulk_seats(c, b.bulk_people(6, c), Body.COMMITTEE)
    call_command("set_parameter", "M10.committee_size", "expected_middle", "6", "--from", CHANGE_ON.isoformat(),
                 "--reason", "试点", stdout=StringIO())
    call_command("set_parameter", "M10.committee_size", "min_committee", "6", "--from", CHANGE_ON.isoformat(),
                 "--reason", "试点", stdout=StringIO())
    rule = registry.get("M10.committee_size")

    def judged(as_of):
        evaluate_rules(rules=[rule], as_of=as_of)
        return Finding.objects.filter(rule_id=rule.id, status=FindingStatus.OPEN).values_list("severity", "required")

    assert list(judged(date(2025, 6, 30))) == [("warning", 7)]  # 6 of 5~9, 2,500 户 expects 7
    before = community_composition(c, date(2025, 6, 30))
    assert (before["committee_expected"], before["committee_range"]) == (7, (5, 9))
    assert list(judged(CHANGE_ON)) == []  # 6 is now what 2,500 户 expects
    after = community_composition(c, CHANGE_ON)
    assert (after["committee_expected"], after["committee_range"]) == (6, (6, 9))
