"""Every query parameter of every GET view, as every role, with hostile values: never a 500.

The parameters a view reads are found by asking it: a first request records every key the view looks up in
``request.GET`` (a bound filter form reads all of its fields), then each hostile value goes into all of them at
once (rotated, so that each key meets each value), for every role. The views come from the URL
configuration (as in tests/test_permission_matrix.py), so a view added later is fuzzed without anyone
remembering to. Answers may be the page, a redirect, 400, 403 or 404; 500 fails.
"""

from __future__ import annotations

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from django.urls import NoReverseMatch
from django.utils.functional import cached_property

from tests.permission_world import ROLES, world_records
from tests.test_permission_matrix import VARIANTS, _resolve_case, url_names

# Keys every list and download may read, tried even where the first request did not read them.
COMMON_KEYS = ("q", "street", "unit", "year", "page", "format", "as_of", "status", "kind", "community")
# Values that reach the views (rotated over the keys: each key gets each value in one of the requests).
ROTATED = ("9" * 24, "-1", "abc", "-" + "9" * 24, "2025-02-30", "1e309")
# Values the middleware answers before any view (cheap: no session is even read).
REFUSED_EARLY = ("a\x00b", "x" * 9000)
# Rotations per role: the administrator sees every view and gets them all; the others fewer (CI time).
ROTATIONS = {"admin": len(ROTATED), "clerk_own": 2, "reviewer": 2}

_seen: list[str] = []

# Thousands of pages, no response.context read: the test client's template-context copies left out.
pytestmark = pytest.mark.usefixtures("uninstrumented_templates")


class _RecordingQueryDict(QueryDict):
    """Notes each key a view asks for."""

    def __getitem__(self, key):
        _seen.append(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        _seen.append(key)
        return super().get(key, default)

    def getlist(self, key, default=None):
        _seen.append(key)
        return super().getlist(key, default)

    def __contains__(self, key):
        _seen.append(key)
        return super().__contains__(key)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    yield from world_records(django_db_blocker, tmp_path_factory)


@pytest.fixture
def recording(monkeypatch):
    def get(self):
        return _RecordingQueryDict(self.environ.get("QUERY_STRING", ""), encoding=self._encoding)

    prop = cached_property(get)
    prop.__set_name__(WSGIRequest, "GET")
    monkeypatch.setattr(WSGIRequest, "GET", prop)
    yield _seen


def _get(client, url, params=None):
    sid = transaction.savepoint()
    try:
        query = ("&" if "?" in url else "?") + params.urlencode() if params else ""
        response = client.get(url + query)
        if response.streaming:
            b"".join(response.streaming_content)
        return response.status_code
    finally:
        transaction.savepoint_rollback(sid)


def _params(keys, value) -> QueryDict:
    q = QueryDict(mutable=True)
    for key in keys:
        q[key] = value
    return q


def cases() -> list[str]:
    return sorted({*url_names(), *VARIANTS})


def _server_error(status: int) -> bool:
    return status >= 500 and status != 503  # 503: the health page saying a service is down, on purpose


def _rotation(keys: list[str], shift: int) -> QueryDict:
    q = QueryDict(mutable=True)
    for i, key in enumerate(keys):
        q[key] = ROTATED[(i + shift) % len(ROTATED)]
    return q


def _clients(world) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if world.users[role] is not None:
            client.force_login(world.users[role])
        clients[role] = client
    return clients


@pytest.mark.django_db
@pytest.mark.parametrize("case", cases())
def test_hostile_query_parameters_never_answer_500(case, world, recording):
    try:
        url = _resolve_case(case, world)
    except NoReverseMatch:
        pytest.skip("its URL arguments have no entry in test_permission_matrix.ARGS (that test names it)")
    clients = _clients(world)
    recording.clear()
    if _get(clients["admin"], url, _params(["_fuzz"], "1")) == 405:
        return  # POST only
    _get(clients["clerk_own"], url, _params(["_fuzz"], "1"))
    keys = sorted({*recording, *COMMON_KEYS} - {"_fuzz"})
    failures = []
    for role, client in clients.items():
        for shift in range(ROTATIONS.get(role, 1)):
            params = _rotation(keys, shift)
            status = _get(client, url, params)
            if _server_error(status):
                failures.append(f"{role} {params.urlencode()[:200]}: {status}")
        for value in REFUSED_EARLY if role == "admin" else REFUSED_EARLY[:1]:
            status = _get(client, url, _params(keys, value))
            if status != 400 and role != "anonymous":
                failures.append(f"{role} all keys={value[:20]!r}: {status}, not 400")
    assert not failures, f"{case} ({url}):\n" + "\n".join(failures)


@pytest.mark.django_db
def test_a_nul_byte_anywhere_in_the_query_is_a_400_in_chinese(client, world):
    client.force_login(world.users["clerk_own"])
    for query in ("?q=%00", "?street=610104001%00", "?a%00b=1", "?unit=x&q=ok%00"):
        response = client.get("/communities/" + query)
        assert response.status_code == 400, query
        assert "查询参数" in response.content.decode()
