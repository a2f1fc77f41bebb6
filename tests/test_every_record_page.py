"""Every record the demo loads, opened as each role that may see it: no error, and words, not codes.

The whole demo (``load_demo``), the demo logins and one sweep are built once for this module inside an
outer transaction that is rolled back at the end. Then, for each demo role (a class per role, a test per kind of
record and per list page, so a failure names both), every record page the role's own selectors scope it to is requested — the same reads the detail
views make (``communities_for_user``, ``compounds_for_user``, ``facilities_for_user``, ``persons_for_user``,
``requests_for_user``, ``findings_for_user``, ``documents_for_user``, ``bulletins_for_user``; every sweep):
each community and its 两委 page (for those who read people), compound, facility, person, approval,
finding, 督办文书, 通报 and sweep. Each must answer 200: a clerk opens all of her 街办's records, a
department all it may see, the administrator every record of the demo (counted from the tables). Funding
rows have no page of their own: they are the rows of the funding table, opened for each year of its
filter. Then every list page, and each option of each of its filters. Which roles may NOT see a record
is tested in tests/test_permission_matrix.py.

In the visible text (tags, attributes, scripts and styles removed) there may be no rule id
(``M04.households``) and no parameter name (``min_households``): ids may sit in ``title``/``data-``
attributes and URLs only. A 500 anywhere fails the role's test with the exception.

Size and time (demo of 2026-12, PostgreSQL), measured 2026-12-03 on the shared 2-core machine with other
suites running (load average 9 falling to 3.5), page loads (record pages + list and filter pages) and wall
seconds per role: admin 4,866 / 1,181 s; reviewer 4,865 / 1,274 s; qingnian 562 / 281 s; zaoyuan 900 /
282 s; zhujian 1,949 / 462 s; guihua 1,949 / 282 s; daxing 1,948 / 88 s; caizheng 1,968 / 92 s — 19,007
loads. CPU of the Python process, demo fixture included: 176 s (admin alone), 191 s (reviewer alone),
300 s (the six others). At load ~4 a page took 35–60 ms wall (daxing, caizheng); a page costs 10–15 ms of
Python in its view and template (person 11.8 queries, facility 8, community 23, 两委 14), about as much
again in the test client and the check, plus PostgreSQL. Estimated on an idle 2-core runner: about
8 minutes for the module — well over the 3 minutes aimed at; the two harness costs below are already cut
(about a third of each page), the rest is the pages themselves.
Run with ``-s`` for pages and seconds per role and page type.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from html import unescape
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
# A parameter name counts where it is a whole word not after a dot (M04.min_households is the rule's id and
# name, 户数min_households is not a name): the words of the text, looked up in a set (~100 names, ~19,000 pages).
PARAM_SET = frozenset(PARAM_NAMES)
WORD = re.compile(r"(?<![\w.])\w+")
# What each role opened when the module was written (demo of 2026-12): a selector that suddenly scopes a role
# to nothing must not pass as "no problems".
MINIMUM_RECORD_PAGES = {"admin": 4_500, "reviewer": 4_500, "qingnian": 350, "zaoyuan": 350, "zhujian": 1_600,
                        "guihua": 1_600, "daxing": 1_600, "caizheng": 1_600}


# The text a reader sees: comments and whatever sits inside <script>, <style> and <template> go, then every
# tag with its attributes (quoted values may hold ">"), then entities are decoded. Regular expressions, not
# html.parser: the module reads ~17,000 pages and html.parser spent more on each than the page took to render.
_HIDDEN = re.compile(r"<!--.*?-->|<(script|style|template)\b.*?</\1\s*>", re.S | re.I)
_TAG = re.compile(r"""<(?:[^>"']++|"[^"]*+"|'[^']*+')*+>""")  # possessive (Python 3.11): no backtracking


def visible_text(html: str) -> str:
    return unescape(_TAG.sub(" ", _HIDDEN.sub(" ", html)))


def codes_in(html: str) -> list[str]:
    text = visible_text(html)
    return sorted(set(RULE_ID.findall(text)) | {word for word in WORD.findall(text) if word in PARAM_SET})


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


# The test client's copy of every template context is left out while this module reads its ~19,000 pages
# (tests/conftest.py: uninstrumented_templates); nothing here reads ``response.context``.
pytestmark = pytest.mark.usefixtures("uninstrumented_templates")


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


KINDS = ["community", "liangwei", "compound", "facility", "request", "finding", "sweep", "document", "bulletin",
         "person"]


def _record_urls(user) -> dict[str, list[str]]:
    """Every record page the role's selectors scope it to, by kind: the same reads the detail views make, so
    each URL here must answer 200 (a clerk: her 街办's records; a department: the communities, compounds and
    facilities it may see and its own unit's findings; people only for those who read people)."""
    from approvals.selectors import requests_for_user
    from communities.selectors import communities_for_user, compounds_for_user
    from compliance.models import Sweep
    from compliance.selectors import findings_for_user
    from facilities.selectors import facilities_for_user
    from staffing.selectors import may_read_people, persons_for_user
    from supervision.selectors import bulletins_for_user, documents_for_user

    def pks(queryset, field="pk"):
        return list(queryset.order_by(field).values_list(field, flat=True))

    def urls(name, keys):
        return [reverse(name, args=[key]) for key in keys]

    communities = pks(communities_for_user(user))
    people = may_read_people(user)
    return {
        "community": urls("communities:community_detail", communities),
        "liangwei": urls("staffing:composition", communities) if people else [],
        "compound": urls("communities:compound_detail", pks(compounds_for_user(user))),
        "facility": urls("facilities:facility_detail", pks(facilities_for_user(user))),
        "request": urls("approvals:request_detail", pks(requests_for_user(user))),
        "finding": urls("compliance:finding_detail", pks(findings_for_user(user))),
        "sweep": urls("compliance:sweep_detail", pks(Sweep.objects.all())),
        "document": urls("supervision:document_detail", pks(documents_for_user(user))),
        "bulletin": urls("supervision:bulletin_detail", pks(bulletins_for_user(user))),
        "person": urls("staffing:person_detail", pks(persons_for_user(user), "public_id")),
    }


LIST_PAGES = [
    "home", "communities:subdistrict_list", "communities:community_list", "communities:compound_list",
    "facilities:facility_list", "funding:overview", "staffing:person_list", "staffing:transfer_list",
    "compliance:dashboard", "compliance:finding_list", "compliance:supervision_list", "compliance:rule_catalogue",
    "compliance:district_figures", "compliance:sweep_list", "supervision:todo", "supervision:document_list",
    "supervision:bulletin_list", "supervision:assessment", "approvals:request_list", "approvals:ledger",
    "imports:index",
]
TIMINGS: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))  # role → page kind → seconds


def _kind(url: str) -> str:
    """/staffing/persons/P000123/ → /staffing/persons/#/ (the page type, for the timing summary)."""
    path, _, query = url.partition("?")
    kind = re.sub(r"/(\d+|P[A-Z0-9]{11})/", "/#/", path)
    return kind + ("?…" if query else "")


def _check(client: Client, url: str, problems: list[str], role: str) -> tuple[int, str]:
    began = time.perf_counter()
    response = client.get(url)
    TIMINGS[role][_kind(url)].append(time.perf_counter() - began)
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


@pytest.fixture(scope="module", autouse=True)
def timing_summary():
    """Pages opened and seconds spent, per role and page type (shown with ``-s`` or ``-rP``)."""
    yield
    for role, kinds in TIMINGS.items():
        total = sum(len(t) for t in kinds.values())
        spent = sum(sum(t) for t in kinds.values())
        print(f"\n{role}: {total} pages, {spent:.1f} s")
        for kind, times in sorted(kinds.items(), key=lambda kv: -sum(kv[1]))[:8]:
            print(f"  {kind}: {len(times)} × {1000 * sum(times) / len(times):.0f} ms")


@pytest.fixture(scope="module")
def record_urls(demo_world, django_db_blocker):
    """``_record_urls`` of each role, read once per module: the demo world does not change while the module
    runs (its tests only read), and each role's ten record tests and its scope test share one reading."""
    by_role: dict[str, dict[str, list[str]]] = {}

    def of(role: str) -> dict[str, list[str]]:
        if role not in by_role:
            with django_db_blocker.unblock():
                by_role[role] = _record_urls(get_user_model().objects.get(username=role))
        return by_role[role]

    return of


def _client(role: str) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=role))
    return client


class EveryRecord:
    """One class per demo role, so pytest-xdist (``--dist loadscope``) spreads the roles over its workers; one
    test per kind of record and per list page, so a failure names the role and the page."""

    role: str

    def test_scope(self, demo_world, db, record_urls):
        """The role's selectors give it records (a selector that suddenly scopes a role to nothing must not
        pass as "no problems"), and the administrator every record of the demo."""
        total = sum(len(urls) for urls in record_urls(self.role).values())
        if self.role == "admin":
            assert total == _every_record_count(), "the administrator opens every record the demo loads"
        assert total >= MINIMUM_RECORD_PAGES[self.role], (self.role, total)

    @pytest.mark.parametrize("kind", KINDS)
    def test_record_pages(self, demo_world, db, record_urls, kind):
        """Every record page of this kind the role's selectors give it answers 200 with no code in its text."""
        urls = record_urls(self.role)[kind]
        client = _client(self.role)
        problems: list[str] = []
        refused = []
        for url in urls:
            status, _html = _check(client, url, problems, self.role)
            if status != 200:
                refused.append(f"{url}: {status}")
        assert not problems, "\n".join(problems[:60]) + f"\n… {len(problems)} in all"
        assert not refused, f"{self.role} was refused {len(refused)} of its {len(urls)} {kind} pages: {refused[:20]}"

    @pytest.mark.parametrize("name", LIST_PAGES)
    def test_list_page_and_filters(self, demo_world, db, name):
        """The list page and each option of each of its filters answer without a 500 and without a code."""
        client = _client(self.role)
        problems: list[str] = []
        base = reverse(name)
        _status, html = _check(client, base, problems, self.role)
        for field, values in filter_options(html).items():
            for value in values:
                _check(client, f"{base}?{urlencode({field: value})}", problems, self.role)
        assert not problems, "\n".join(problems[:60]) + f"\n… {len(problems)} in all"


class TestAdmin(EveryRecord):
    role = "admin"


class TestReviewer(EveryRecord):
    role = "reviewer"


class TestQingnian(EveryRecord):
    role = "qingnian"


class TestZaoyuan(EveryRecord):
    role = "zaoyuan"


class TestZhujian(EveryRecord):
    role = "zhujian"


class TestGuihua(EveryRecord):
    role = "guihua"


class TestDaxing(EveryRecord):
    role = "daxing"


class TestCaizheng(EveryRecord):
    role = "caizheng"


def _every_record_count() -> int:
    """All record pages of the demo, counted from the tables (not through any selector)."""
    from approvals.models import EstablishmentRequest
    from communities.models import Community, Compound
    from compliance.models import Finding, Sweep
    from facilities.models import Facility
    from staffing.models import Person
    from supervision.models import Bulletin, SupervisionDocument

    return (2 * Community.objects.count() + sum(m.objects.count() for m in (
        Compound, Facility, EstablishmentRequest, Finding, Sweep, SupervisionDocument, Bulletin, Person)))
