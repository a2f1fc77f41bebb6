"""The sub-clause catalogue (issue 15): every requirement of the policy quoted, with a status the system keeps."""

from pathlib import Path

import pytest
from django.urls import reverse

from compliance import requirements as reqs
from compliance.catalogue import RULES
from compliance.checks import requirement_check_errors

POLICY = (Path(__file__).resolve().parents[2] / "docs" / "policy"
          / "lianhu-2024-community-management-measures.txt").read_text(encoding="utf-8")


def test_every_quote_is_the_policy_text_verbatim():
    assert [r.id for r in reqs.REQUIREMENTS if r.quote not in POLICY] == []


def test_every_measure_and_every_step_has_requirements_and_every_rule_answers_to_one():
    assert {r.clause for r in reqs.REQUIREMENTS} == set(range(1, 22))
    assert [r.id for r in reqs.of_clause(reqs.ATTACHMENT)] == [f"A{n}" for n in range(1, 9)]
    assert {rule_id for r in reqs.REQUIREMENTS for rule_id in r.rules} == set(RULES)
    assert requirement_check_errors() == []


@pytest.mark.parametrize(("broken", "fragment"), [
    (reqs.Requirement("R99.1", 4, "社区", ""), "没有状态"),
    (reqs.Requirement("R99.1", 4, "社区", "maybe"), "没有状态"),
    (reqs.Requirement("R99.1", 4, "社区", reqs.CHECKED), "没有列出规则"),
    (reqs.Requirement("R99.1", 4, "社区", reqs.CHECKED, rules=("M04.nothing",)), "不在规则目录中"),
    (reqs.Requirement("R99.1", 4, "社区", reqs.RECORDED), "记录在哪里"),
    (reqs.Requirement("R99.1", 4, "社区", reqs.NOT_CHECKABLE, reason=" "), "没有写明理由"),
])
def test_system_check_fails_on_a_requirement_without_a_proper_status(broken, fragment):
    errors = requirement_check_errors((*reqs.REQUIREMENTS, broken))
    assert [e.id for e in errors] == ["compliance.E007"] and fragment in errors[0].msg


def test_system_check_fails_when_a_rule_answers_to_no_requirement():
    without = tuple(r for r in reqs.REQUIREMENTS if "M04.boundaries" not in r.rules)
    errors = requirement_check_errors(without)
    assert [e.id for e in errors] == ["compliance.E007"] and "M04.boundaries" in errors[0].msg


@pytest.mark.django_db
def test_catalogue_page_lists_every_requirement_with_its_status(client, clerk_qingnian):
    client.force_login(clerk_qingnian)
    page = client.get(reverse("compliance:rule_catalogue")).content.decode()
    counts = reqs.status_counts()
    head = page.split('id="requirement-counts"')[1].split("</small>")[0]
    assert f"共 {len(reqs.REQUIREMENTS)} 项要求" in head
    assert f"规则检查 {counts['checked']} 项" in head and f"不可检查 {counts['not_checkable']} 项" in head
    for r in reqs.REQUIREMENTS:
        row = page.split(f'data-requirement="{r.id}" data-status="{r.status}"')[1].split("</tr>")[0]
        assert r.status_label in row
    # Rules by their Chinese titles, their ids only in the tooltip.
    row = page.split('data-requirement="R04.2"')[1].split("</tr>")[0]
    assert f'title="M04.households">{RULES["M04.households"].title}</a>' in row
    assert "可量化的规则" not in page
