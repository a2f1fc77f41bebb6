"""Every record the demo loads, opened as each role that may see it: no error, and words, not codes.

The whole demo (``load_demo``), the demo logins and one sweep are built once for
this module inside an outer transaction that is rolled back at the end.  Then, per
demo role, the page of every community (and its 两委 page), compound, facility,
person, approval, finding and sweep is requested, and every list page with each
option of each of its filters.  A role that may not see a record gets 403/404; the
administrator must get every page (so each record really is opened by someone).

In the visible text (tags, attributes, scripts and styles removed) there may be no
rule id (``M04.households``) and no parameter name (``min_households``): ids may
sit in ``title``/``data-`` attributes and URLs only.

Sampled, to keep the module within a few minutes on CI (the demo has ~4,500
record pages): the administrator opens every community (and its 两委 page),
compound, facility, approval, finding and sweep, but only the first
``PERSONS_PER_COMMUNITY`` persons of each community (about 430 of 2,000: person
pages are one template, filled the same way).  Every other role opens the records
of every ``SAMPLE_EVERY``-th community (its compounds, facilities, findings and
first persons), the district-wide findings, every approval and sweep, and every
list page with each filter option; which roles may see which record is tested in
tests/test_permission_matrix.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from compliance.catalogue import RULES
from compliance.duties import DEADLINE_DEFAULTS
from compliance.escalation import DEFAULTS as ESCALATION_DEFAULTS

RULE_ID = re.compile(r"\bM\d\d\.[a-z_]+")
PARAM_NAMES = sorted({name for spec in RULES.values() for name in spec.params} | set(DEADLINE_DEFAULTS)
                     | set(ESCALATION_DEFAULTS), key=len, reverse=True)
PARAM = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, PARAM_NAMES)) + r")(?![\w])")
ROLES = ["admin", "reviewer", "qingnian", "zaoyuan", "zhujian", "guihua", "daxing", "caizheng"]
PERSONS_PER_COMMUNITY = 2
SAMPLE_EVERY = 15


class _Text(HTMLParser):
    """The text a reader sees: no tags, no attributes, nothing inside script/style/template."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def codes_in(html: str) -> list[str]:
    text = visible_text(html)
    return sorted(set(RULE_ID.findall(text)) | set(PARAM.findall(text)))


class _Selects(HTMLParser):
    """Each GET form's <select name=...> and its option values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.options: dict[str, list[str]] = defaultdict(list)
        self._form_get = False
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form_get = (a.get("method") or "get").lower() == "get"
        elif tag == "select" and self._form_get:
            self._select = a.get("name")
        elif tag == "option" and self._select and a.get("value"):
            self.options[self._select].append(a["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._form_get = False


def filter_options(html: str) -> dict[str, list[str]]:
    parser = _Selects()
    parser.feed(html)
    return dict(parser.options)


@pytest.fixture(scope="module")
def demo_world(whole_demo_rows, django_db_setup, django_db_blocker):
    from compliance.services import sweep_run

    from .demo_world import restore

    with django_db_blocker.unblock(), transaction.atomic():
        restore(whole_demo_rows)
        call_command("create_demo_users", "--force", stdout=StringIO())
        sweep_run()
        yield
        transaction.set_rollback(True)


def _record_urls(role: str) -> list[str]:
    """The administrator: every record (persons: the first PERSONS_PER_COMMUNITY of each community).
    Any other role: the records of every SAMPLE_EVERY-th community (and the district-wide findings), plus
    every approval and sweep."""
    from approvals.models import EstablishmentRequest
    from communities.models import Community, Compound
    from compliance.models import Finding, Sweep
    from facilities.models import Facility
    from staffing.models import Person

    every = role == "admin"
    communities = list(Community.objects.order_by("pk").values_list("pk", flat=True))
    chosen = set(communities if every else communities[::SAMPLE_EVERY])

    def mine(community_id) -> bool:
        return every or community_id in chosen or community_id is None

    urls = []
    for pk in sorted(chosen):
        urls += [reverse("communities:community_detail", args=[pk]), reverse("staffing:composition", args=[pk])]
    urls += [reverse("communities:compound_detail", args=[pk])
             for pk, c in Compound.objects.order_by("pk").values_list("pk", "community_id") if mine(c)]
    urls += [reverse("facilities:facility_detail", args=[pk])
             for pk, c in Facility.objects.order_by("pk").values_list("pk", "community_id") if mine(c)]
    urls += [reverse("approvals:request_detail", args=[pk])
             for pk in EstablishmentRequest.objects.order_by("pk").values_list("pk", flat=True)]
    urls += [reverse("compliance:finding_detail", args=[pk])
             for pk, c in Finding.objects.order_by("pk").values_list("pk", "community_id") if mine(c)]
    urls += [reverse("compliance:sweep_detail", args=[pk])
             for pk in Sweep.objects.order_by("pk").values_list("pk", flat=True)]
    seen: dict[int | None, int] = defaultdict(int)
    for public_id, community_id in Person.objects.order_by("pk").values_list("public_id", "community_id"):
        seen[community_id] += 1
        if mine(community_id) and seen[community_id] <= PERSONS_PER_COMMUNITY:
            urls.append(reverse("staffing:person_detail", args=[public_id]))
    return urls


LIST_PAGES = [
    "home", "communities:subdistrict_list", "communities:community_list", "communities:compound_list",
    "facilities:facility_list", "funding:overview", "staffing:person_list", "compliance:dashboard",
    "compliance:finding_list", "compliance:supervision_list", "compliance:rule_catalogue", "compliance:sweep_list",
    "approvals:request_list", "approvals:ledger", "imports:index",
]


def _check(client: Client, url: str, problems: list[str]) -> tuple[int, str]:
    response = client.get(url)
    status = response.status_code
    if status >= 500:
        exc = getattr(response, "exc_info", None)
        problems.append(f"{url}: {status} {exc[1]!r}" if exc else f"{url}: {status}")
        return status, ""
    if status != 200 or "html" not in response.get("Content-Type", ""):
        return status, ""
    html = response.content.decode()
    found = codes_in(html)
    if found:
        problems.append(f"{url}: codes in the visible text: {', '.join(found[:8])}")
    return status, html


@pytest.mark.parametrize("role", ROLES)
def test_every_record_and_list_page(demo_world, db, role):
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=role))
    problems: list[str] = []
    statuses: dict[str, int] = {}
    for url in _record_urls(role):
        statuses[url], _html = _check(client, url, problems)
    for name in LIST_PAGES:
        base = reverse(name)
        _status, html = _check(client, base, problems)
        for field, values in filter_options(html).items():
            for value in values:
                _check(client, f"{base}?{urlencode({field: value})}", problems)
    assert not problems, "\n".join(problems[:60]) + f"\n… {len(problems)} in all"
    if role == "admin":
        refused = [u for u, s in statuses.items() if s != 200]
        assert not refused, refused[:20]
