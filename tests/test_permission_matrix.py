"""Every view, as every role, by GET and POST, against the table below.

The cases come from the URL configuration itself: a view added without an
entry in EXPECTED (and, if it takes arguments, in ARGS) fails
``test_every_view_has_an_expected_row`` naming it. POSTs carry no data: an
allowed form answers 200 with its errors, a refused one 403/404, and nothing
is written either way (each case runs in its own rolled-back savepoint).

Statuses: 200 page/file, 302 redirect (anonymous → login), 403 refused,
404 not found or not yours (a clerk of another 街办 learns nothing), 405 method
not allowed. Run with ``LIANHU_MATRIX_PRINT=1`` to print what the views answer now.
"""

from __future__ import annotations

import os
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.permission_world import ROLES, world_records

# Thousands of pages, no response.context read: the test client's template-context copies left out.
pytestmark = pytest.mark.usefixtures("uninstrumented_templates")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    yield from world_records(django_db_blocker, tmp_path_factory)

SKIP_NAMESPACES = {"admin"}
SKIP_PREFIXES = ("static/", "media/", "__debug__/")


def _walk(patterns, namespace="", prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in SKIP_NAMESPACES:
                continue
            yield from _walk(entry.url_patterns, f"{namespace}{ns}:" if ns else namespace, route)
        elif isinstance(entry, URLPattern) and entry.name:
            if route.startswith(SKIP_PREFIXES):
                continue
            yield f"{namespace}{entry.name}", entry.pattern.converters if hasattr(entry.pattern, "converters") else {}


def url_names() -> list[str]:
    return sorted({name for name, _ in _walk(get_resolver().url_patterns)})


# How to fill each view's arguments from the world: a case name → (url name, kwargs builder, query).
def _o(key, attr="pk"):
    return lambda w: getattr(w.objects[key], attr)


ARGS = {
    "communities:community_detail": {"pk": _o("community")},
    "communities:community_history": {"pk": _o("community")},
    "communities:community_print": {"pk": _o("community")},
    "communities:community_edit": {"pk": _o("community")},
    "communities:community_revoke": {"pk": _o("community")},
    "communities:adjustment_create": {"pk": _o("community")},
    "communities:compound_detail": {"pk": _o("compound")},
    "communities:compound_history": {"pk": _o("compound")},
    "communities:compound_edit": {"pk": _o("compound")},
    "facilities:facility_detail": {"pk": _o("facility")},
    "facilities:facility_history": {"pk": _o("facility")},
    "facilities:facility_edit": {"pk": _o("facility")},
    "facilities:facility_advance": {"pk": _o("facility")},
    "staffing:composition": {"pk": _o("community")},
    "staffing:roster_export": {"pk": _o("community")},
    "staffing:worker_create": {"pk": _o("community")},
    "staffing:seat_create": {"pk": _o("community")},
    "staffing:training_create": {"pk": _o("community")},
    "staffing:assessment_year": {"pk": _o("community"), "year": lambda w: 2024},
    "staffing:person_detail": {"public_id": _o("person", "public_id")},
    "staffing:care_create": {"public_id": _o("person", "public_id")},
    "staffing:assessment_decision_create": {"pk": _o("assessment")},
    "staffing:person_reveal": {"public_id": _o("person", "public_id")},
    "staffing:transfer_decide": {"pk": _o("transfer")},
    "staffing:employment_edit": {"pk": _o("employment")},
    "staffing:exit_start": {"pk": _o("employment")},
    "staffing:exit_advance": {"pk": _o("exit")},
    "staffing:seat_end": {"pk": _o("seat")},
    "staffing:vacancy_fill": {"pk": _o("vacancy")},
    "compliance:finding_detail": {"pk": _o("finding")},
    "compliance:finding_waive": {"pk": _o("finding")},
    "compliance:finding_supervise": {"pk": _o("finding")},
    "compliance:parameter_set": {"rule_id": lambda w: "M04.households", "name": lambda w: "min_households"},
    "compliance:sweep_detail": {"pk": _o("sweep")},
    "approvals:request_detail": {"pk": _o("request")},
    "approvals:request_print": {"pk": _o("request")},
    "approvals:request_act": {"pk": _o("request")},
    "approvals:part_edit": {"pk": _o("part")},
    "approvals:attachment": {"pk": _o("attachment")},
    "approvals:year_end_report": {"year": lambda w: 2024},
    "imports:preview": {"pk": _o("upload")},
    "imports:progress": {"pk": _o("upload")},
    "imports:confirm": {"pk": _o("upload")},
    "imports:errors": {"pk": _o("upload")},
    "exports:ledger": {"kind": lambda w: "communities"},
    "exports:job_detail": {"pk": _o("export")},
    "exports:job_progress": {"pk": _o("export")},
    "exports:job_download": {"pk": _o("export")},
    "supervision:finding_act": {"pk": _o("finding")},
    "supervision:attachment": {"pk": _o("rect_attachment")},
    "supervision:document_detail": {"pk": _o("document")},
    "supervision:document_download": {"pk": _o("document")},
    "supervision:bulletin_detail": {"pk": _o("bulletin")},
    "supervision:bulletin_act": {"pk": _o("bulletin")},
    "supervision:bulletin_download": {"pk": _o("bulletin")},
    "supervision:assessment_workbook": {"year": lambda w: 2025},
    "supervision:assessment_unit": {"year": lambda w: 2025, "unit": lambda w: "青年路街道"},
}

# Extra cases of one view with other arguments or a query string: case → (url name, kwargs, query).
VARIANTS = {
    # Department users: their unit's findings only, never a person's (issue 14).
    "compliance:finding_detail[person]": ("compliance:finding_detail", {"pk": _o("person_finding")}, {}),
    "compliance:finding_detail[unit]": ("compliance:finding_detail", {"pk": _o("unit_finding")}, {}),
    "compliance:finding_list[M12]": ("compliance:finding_list", {}, {"rule": "M12.worker_training"}),
    "exports:compliance[as_of]": ("exports:compliance", {}, {"as_of": "2099-01-01"}),
    "exports:ledger[people,csv]": ("exports:ledger", {"kind": lambda w: "people"}, {"format": "csv"}),
    "exports:ledger[facilities]": ("exports:ledger", {"kind": lambda w: "facilities"}, {}),
    "exports:ledger[people]": ("exports:ledger", {"kind": lambda w: "people"}, {}),
    "exports:ledger[people,reveal]": ("exports:ledger", {"kind": lambda w: "people"}, {"reveal": "1"}),
    "exports:ledger[funding]": ("exports:ledger", {"kind": lambda w: "funding"}, {}),
    "exports:ledger[communities,own street]": ("exports:ledger", {"kind": lambda w: "communities"},
                                               {"street": "610104001"}),
    "exports:ledger[communities,csv]": ("exports:ledger", {"kind": lambda w: "communities"}, {"format": "csv"}),
}


def _row(*cells: str) -> dict[str, tuple[int, int]]:
    """One view: "GET/POST" per role, in the order of ROLES."""
    assert len(cells) == len(ROLES)
    return {role: tuple(int(x) for x in cell.split("/")) for role, cell in zip(ROLES, cells, strict=True)}


# Columns: anonymous, clerk of 青年路 (owner), clerk of 枣园 (other), reviewer, department (区住建局), admin.
EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    # Everyone's own password; two-factor sign-in is for reviewers and administrators (no device yet here: the
    # code page sends them to set one up; a wrong or missing first code is 400).
    "accounts:password_change": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "accounts:recovery_codes": _row("302/302", "405/302", "405/302", "405/302", "405/302", "405/302"),
    "accounts:two_factor": _row("302/302", "403/403", "403/403", "200/400", "403/403", "200/400"),
    "accounts:two_factor_verify": _row("302/302", "302/302", "302/302", "302/302", "302/302", "302/302"),
    "approvals:attachment": _row("302/302", "200/200", "404/404", "200/200", "404/404", "200/200"),
    "approvals:ledger": _row("302/302", "403/403", "403/403", "200/200", "403/403", "200/200"),
    "approvals:part_edit": _row("302/302", "403/403", "404/404", "403/403", "404/404", "403/403"),
    "approvals:request_act": _row("302/302", "405/302", "405/404", "405/302", "405/404", "405/302"),
    "approvals:request_detail": _row("302/302", "200/200", "404/404", "200/200", "404/404", "200/200"),
    "approvals:request_print": _row("302/302", "200/200", "404/404", "200/200", "404/404", "200/200"),
    "approvals:request_list": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "approvals:request_merge": _row("302/302", "200/200", "200/200", "403/403", "403/403", "403/403"),
    "approvals:request_new": _row("302/302", "200/200", "200/200", "403/403", "403/403", "403/403"),
    "approvals:request_split": _row("302/302", "200/200", "200/200", "403/403", "403/403", "403/403"),
    "approvals:year_end_report": _row("302/302", "403/403", "403/403", "200/200", "403/403", "200/200"),
    "communities:adjustment_create": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "communities:community_create": _row("302/302", "200/200", "200/200", "403/403", "403/403", "200/200"),
    "communities:community_detail": _row("302/302", "200/200", "404/404", "200/200", "200/200", "200/200"),
    "communities:community_history": _row("302/302", "200/200", "404/404", "200/200", "200/200", "200/200"),
    "communities:community_print": _row("302/302", "200/200", "404/404", "200/200", "200/200", "200/200"),
    # The operators' pages: administrators only (the status page answers 503 when a check fails, as in a test
    # world with no Celery worker to answer a ping).
    "ops:status": _row("302/405", "403/405", "403/405", "403/405", "403/405", "503/405"),
    "ops:tasks": _row("302/405", "403/405", "403/405", "403/405", "403/405", "200/405"),
    "communities:community_edit": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "communities:community_list": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "communities:community_revoke": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "communities:compound_create": _row("302/302", "200/200", "200/200", "403/403", "403/403", "200/200"),
    "communities:compound_detail": _row("302/302", "200/200", "404/404", "200/200", "200/200", "200/200"),
    "communities:compound_history": _row("302/302", "200/200", "404/404", "200/200", "200/200", "200/200"),
    "communities:compound_edit": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "communities:compound_list": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "communities:subdistrict_list": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "compliance:dashboard": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    # A 街办's finding (M04): not a department's to read (issue 14: their unit's findings only).
    "compliance:finding_detail": _row("302/302", "200/200", "404/404", "200/200", "404/404", "200/200"),
    "compliance:finding_detail[person]": _row("302/302", "200/200", "404/404", "200/200", "404/404", "200/200"),
    "compliance:finding_detail[unit]": _row("302/302", "200/200", "404/404", "200/200", "200/200", "200/200"),
    "compliance:finding_list[M12]": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "compliance:finding_list": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "compliance:finding_supervise": _row("302/302", "405/403", "405/404", "405/400", "405/404", "405/400"),
    "compliance:finding_waive": _row("302/302", "405/403", "405/404", "405/400", "405/404", "405/400"),
    "compliance:parameter_set": _row("302/302", "405/403", "405/403", "405/302", "405/403", "405/302"),
    "compliance:rule_catalogue": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "compliance:district_figures": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "compliance:supervision_list": _row("302/302", "200/403", "200/403", "200/400", "200/403", "200/400"),
    "compliance:sweep_detail": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "compliance:sweep_list": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "compliance:sweep_start": _row("302/302", "405/403", "405/403", "405/302", "405/403", "405/302"),
    "exports:compliance": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "exports:compliance[as_of]": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "exports:ledger": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "exports:ledger[communities,csv]": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "exports:ledger[communities,own street]": _row("302/302", "200/405", "404/405", "200/405", "200/405", "200/405"),
    "exports:ledger[facilities]": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "exports:ledger[funding]": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "exports:ledger[people,reveal]": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "exports:ledger[people]": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    # Background exports (我的导出): the file is its owner's alone, administrators included (a revealed 人员台账
    # is recorded against the one who asked for it). start: POST only; with no kind, nothing to export.
    "exports:start": _row("302/302", "405/404", "405/404", "405/404", "405/404", "405/404"),
    "exports:job_list": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "exports:job_detail": _row("302/302", "200/405", "404/405", "404/405", "404/405", "404/405"),
    "exports:job_progress": _row("302/302", "200/405", "404/405", "404/405", "404/405", "404/405"),
    "exports:job_download": _row("302/302", "200/405", "404/405", "404/405", "404/405", "404/405"),
    "exports:ledger[people,csv]": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "facilities:facility_advance": _row("302/302", "405/302", "405/404", "405/302", "405/302", "405/302"),
    "facilities:facility_create": _row("302/302", "200/200", "200/200", "403/403", "403/403", "200/200"),
    "facilities:facility_detail": _row("302/302", "200/200", "404/404", "200/200", "200/200", "200/200"),
    "facilities:facility_history": _row("302/302", "200/200", "404/404", "200/200", "200/200", "200/200"),
    "facilities:facility_edit": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "facilities:facility_list": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "funding:allocation_entry": _row("302/302", "403/403", "403/403", "200/200", "403/403", "200/200"),
    "funding:overview": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "funding:salary_entry": _row("302/302", "403/403", "403/403", "200/200", "403/403", "200/200"),
    "funding:task_fund_entry": _row("302/302", "403/403", "403/403", "200/200", "403/403", "200/200"),
    "home": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "imports:confirm": _row("302/302", "405/302", "405/404", "405/403", "405/403", "405/404"),
    "imports:errors": _row("302/302", "404/405", "404/405", "403/405", "403/405", "404/405"),
    "imports:index": _row("302/302", "200/405", "200/405", "200/405", "200/405", "200/405"),
    "imports:preview": _row("302/302", "200/405", "404/405", "403/405", "403/405", "404/405"),
    "imports:progress": _row("302/302", "200/405", "404/405", "403/405", "403/405", "404/405"),
    "imports:template": _row("302/302", "200/405", "200/405", "403/405", "403/405", "200/405"),
    "imports:upload": _row("302/302", "405/302", "405/302", "405/403", "405/403", "405/302"),
    "login": _row("200/200", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "logout": _row("405/302", "405/302", "405/302", "405/302", "405/302", "405/302"),
    "staffing:assessment_year": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "staffing:care_create": _row("302/302", "405/302", "405/404", "405/404", "405/404", "405/302"),
    "staffing:assessment_decision_create": _row("302/302", "405/302", "405/404", "405/404", "405/404", "405/302"),
    "staffing:composition": _row("302/302", "200/200", "404/404", "200/200", "403/403", "200/200"),
    "staffing:employment_edit": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "staffing:exit_advance": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "staffing:exit_start": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "staffing:person_detail": _row("302/302", "200/200", "404/404", "200/200", "404/404", "200/200"),
    # POST: the search by ID number (never in a URL), administrators only; an empty one finds nobody (302).
    "staffing:person_list": _row("302/302", "200/403", "200/403", "200/403", "200/403", "200/302"),
    # The whole number, posted and recorded: administrators only; people outside one's scope stay 404.
    "staffing:person_reveal": _row("302/302", "405/403", "405/404", "405/403", "405/404", "405/200"),
    "staffing:roster_export": _row("302/302", "200/200", "404/404", "200/200", "403/403", "200/200"),
    "staffing:seat_create": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "staffing:seat_end": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    # 人员调动: clerks ask (POST without data: the form again), the releasing 街办 or a reviewer decides.
    "staffing:transfer_list": _row("302/302", "200/200", "200/200", "200/403", "403/403", "200/200"),
    "staffing:transfer_decide": _row("302/302", "405/302", "405/404", "405/302", "405/404", "405/302"),
    "staffing:training_create": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "staffing:vacancy_fill": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "staffing:worker_create": _row("302/302", "200/200", "404/404", "404/404", "404/404", "200/200"),
    "supervision:assessment": _row("302/302", "403/403", "403/403", "200/200", "403/403", "200/200"),
    "supervision:assessment_method": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
    "supervision:assessment_unit": _row("302/302", "403/403", "403/403", "200/200", "403/403", "200/200"),
    "supervision:assessment_workbook": _row("302/302", "403/403", "403/403", "200/200", "403/403", "200/200"),
    "supervision:attachment": _row("302/302", "200/200", "404/404", "200/200", "404/404", "200/200"),
    "supervision:bulletin_act": _row("302/302", "405/404", "405/404", "405/302", "405/404", "405/302"),
    "supervision:bulletin_detail": _row("302/302", "404/404", "404/404", "200/200", "404/404", "200/200"),
    "supervision:bulletin_download": _row("302/302", "404/404", "404/404", "404/404", "404/404", "404/404"),
    "supervision:bulletin_list": _row("302/302", "200/403", "200/403", "200/200", "200/403", "200/200"),
    "supervision:document_detail": _row("302/302", "200/200", "404/404", "200/200", "404/404", "200/200"),
    "supervision:document_download": _row("302/302", "200/200", "404/404", "200/200", "404/404", "200/200"),
    "supervision:document_list": _row("302/302", "200/403", "200/403", "200/200", "200/403", "200/200"),
    "supervision:finding_act": _row("302/302", "405/302", "405/404", "405/302", "405/404", "405/302"),
    "supervision:todo": _row("302/302", "200/200", "200/200", "200/200", "200/200", "200/200"),
}


def cases() -> list[str]:
    return sorted({*url_names(), *VARIANTS})


def _resolve_case(case, world):
    if case in VARIANTS:
        name, kwargs, query = VARIANTS[case]
    else:
        name, kwargs, query = case, ARGS.get(case, {}), {}
    url = reverse(name, kwargs={k: f(world) for k, f in kwargs.items()})
    return url + ("?" + urlencode(query) if query else "")


def test_every_view_has_an_expected_row():
    names = url_names()
    missing = [n for n in names if n not in EXPECTED]
    assert not missing, (
        "views without a row in tests/test_permission_matrix.py EXPECTED (decide who may open them): "
        + ", ".join(missing)
    )
    unfilled = []
    for name, converters in _walk(get_resolver().url_patterns):
        if converters and name not in ARGS:
            unfilled.append(name)
    assert not unfilled, "views whose URL arguments ARGS cannot fill: " + ", ".join(sorted(set(unfilled)))
    stale = sorted(set(EXPECTED) - set(cases()))
    assert not stale, "rows for views that no longer exist: " + ", ".join(stale)


def _body_text(response) -> str:
    """What a reader of the response sees: the page, or every cell of a workbook."""
    import io
    import zipfile

    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist() if n.endswith(".xml"))
    return content.decode("utf-8", "replace")


def _secrets(world, role) -> list[str]:
    """What must never reach this role: another 街办's records, and full ID numbers for non-administrators."""
    person = world.objects["person"]
    community = world.objects["community"]
    hidden = [] if role == "admin" else [person.id_number]
    if role == "clerk_other":
        hidden += [community.code, community.name, person.name, person.public_id]
    if role == "department":
        hidden += [person.name, person.public_id]
    return hidden


def _answer(client, method, url, secrets):
    response = getattr(client, method)(url)
    if response.status_code == 200:
        body = _body_text(response)
        leaked = [s for s in secrets if s in body]
        if leaked:
            return f"{response.status_code} leaking {leaked}"
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("case", cases())
def test_view_answers_each_role_as_expected(case, world):
    url = _resolve_case(case, world)
    observed = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        user = world.users[role]
        if user is not None:
            client.force_login(user)
        got = []
        for method in ("get", "post"):
            sid = transaction.savepoint()
            try:
                got.append(_answer(client, method, url, _secrets(world, role)))
            finally:
                transaction.savepoint_rollback(sid)
        observed[role] = tuple(got)
    if os.environ.get("LIANHU_MATRIX_PRINT"):
        print(f"\nMATRIX {case!r}: {observed!r},")
    if case not in EXPECTED:
        pytest.fail(f"{case}: no row in EXPECTED (see test_every_view_has_an_expected_row); it answers {observed}")
    expected = EXPECTED[case]
    wrong = {role: f"expected GET/POST {expected[role]}, got {observed[role]}" for role in ROLES
             if observed[role] != expected[role]}
    assert not wrong, f"{case} ({url}):\n" + "\n".join(f"  {r}: {m}" for r, m in wrong.items())


@pytest.mark.django_db
def test_the_leak_check_reads_inside_workbooks(world):
    """The owner's roster does carry the names the other roles must not see (the check is not blind)."""
    client = Client()
    client.force_login(world.users["clerk_own"])
    url = reverse("staffing:roster_export", args=[world.objects["community"].pk])
    body = _body_text(client.get(url))
    person = world.objects["person"]
    assert person.name in body
    assert person.id_number not in body  # masked for a clerk
    client.force_login(world.users["admin"])
    people = _body_text(client.get(reverse("exports:ledger", args=["people"]) + "?reveal=1"))
    assert person.name in people
    # The person finding is in the reviewer's workbook and list, so the department rows above test something.
    client.force_login(world.users["reviewer"])
    workbook = _body_text(client.get(reverse("exports:compliance") + "?as_of=2099-01-01"))
    assert person.name in workbook and person.public_id in workbook
    assert person.name in _body_text(client.get(reverse("compliance:finding_list") + "?rule=M12.worker_training"))


def test_a_view_added_without_a_row_is_named(settings, monkeypatch):
    import sys
    import types

    from django.http import HttpResponse
    from django.urls import clear_url_caches, include, path

    extra = types.ModuleType("tests._matrix_extra_urls")
    extra.urlpatterns = [path("", include("lianhu.urls")),
                         path("brand-new/<int:pk>/", lambda request, pk: HttpResponse("x"), name="brand_new")]
    monkeypatch.setitem(sys.modules, extra.__name__, extra)
    settings.ROOT_URLCONF = extra.__name__
    clear_url_caches()
    try:
        with pytest.raises(AssertionError, match="brand_new"):
            test_every_view_has_an_expected_row()
    finally:
        clear_url_caches()
