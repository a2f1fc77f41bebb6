"""lianhu/urltags.py keeps reversed links: the same text as Django's ``{% url %}`` for every form the templates
use, under another script prefix too, and Django's own error for a name that does not reverse."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, engines
from django.template.base import Template
from django.urls import NoReverseMatch, set_script_prefix

CASES = [
    "{% url 'communities:community_list' %}",
    "{% url 'communities:community_detail' pk %}",
    "{% url 'communities:community_detail' pk=pk %}",
    "{% url 'communities:community_list' as u %}[{{ u }}]",
    "{% url 'staffing:person_detail' code %}",  # a text argument: Django's node
    "{% url name %}",  # the name from a variable
    "{% url 'communities:community_detail' big %}",
]


def _both(source: str, context: dict) -> tuple[str, str]:
    ours = engines["django"].from_string(source).render(context)  # the project's engine: our url tag
    django = Template(source, engine=Engine()).render(Context(context))  # Django's builtins only
    return ours, django


@pytest.mark.parametrize("source", CASES)
@pytest.mark.parametrize("prefix", ["/", "/lianhu/"])
def test_kept_links_read_as_djangos(source, prefix):
    set_script_prefix(prefix)
    try:
        for pk in (1, 7, 123456, 0):
            context = {"pk": pk, "code": "P0000001", "name": "communities:compound_list", "big": 2**40}
            for _ in range(2):  # the second render reads the kept link
                ours, django = _both(source, context)
                assert ours == django and ours, source
        assert _both("{% url 'communities:community_list' %}", {})[0] == f"{prefix}communities/"
        nodes = engines["django"].from_string(source).template.nodelist
        assert type(nodes[0]).__name__ == "KeptURLNode"  # the project's engine compiles our tag, not Django's
    finally:
        set_script_prefix("/")


def test_a_name_that_does_not_reverse_is_still_an_error():
    template = engines["django"].from_string("{% url 'communities:no_such_page' %}")
    with pytest.raises(NoReverseMatch):
        template.render({})
    with pytest.raises(NoReverseMatch):
        template.render({})


def test_a_number_that_the_pattern_refuses_is_djangos_error():
    # A negative pk matches no <int:pk> pattern: Django raises, and so do we (nothing kept stands in for it).
    with pytest.raises(NoReverseMatch):
        engines["django"].from_string("{% url 'communities:community_detail' pk %}").render({"pk": -1})
