"""Redis down (the broker, the result backend and the cache all at a closed port): a clerk signs in, reads a page
and saves; starting a sweep or a large upload says in Chinese that the queue is unavailable, quickly, and leaves
nothing 排队中 or 进行中."""

from __future__ import annotations

import io
import socket
import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from compliance.models import Sweep, SweepStatus
from imports import services as import_services
from imports.models import RUNNING_STATES, StoredUpload, UploadState
from tests.imports.test_import_workbook import COMMUNITY_HEADERS, community_row, existing, xlsx  # noqa: F401

pytestmark = pytest.mark.django_db

PASSWORD = "Lianhu#2024pass"
QUICK = 10  # seconds: the broker's error comes back in about two, never the 19 s of Celery's default retries


def _closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the block ends
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def redis_down(settings):
    from lianhu.celery import app

    url = _closed_url()
    settings.CACHES = {"default": {"BACKEND": "lianhu.cache.ForgivingRedisCache", "LOCATION": url,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    down = {"task_always_eager": False, "broker_url": url, "result_backend": url,
            "broker_connection_timeout": 1, "broker_transport_options": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "result_backend_transport_options": settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS}
    saved = {key: app.conf.get(key) for key in down}
    app.conf.update(down)
    _forget_connections(app)
    yield url
    app.conf.update(saved)
    _forget_connections(app)


def _forget_connections(app):
    # Producer pools and the result backend remember their Redis; forget them so the next use sees the URL now.
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    app.__dict__.pop("backend", None)
    app._local.__dict__.pop("backend", None)


def _nothing_stuck():
    assert not Sweep.objects.filter(status=SweepStatus.RUNNING).exists()
    assert not StoredUpload.objects.filter(state__in=RUNNING_STATES).exists()


def test_login_page_and_save_work_with_redis_down(client, clerk_qingnian, existing, redis_down):  # noqa: F811
    assert cache.get("anything") is None  # the cache answers a miss instead of raising
    response = client.post(reverse("login"), {"username": "clerk_qn", "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:300]
    page = client.get(reverse("communities:community_list"))
    assert page.status_code == 200
    c = existing["first"]
    data = {"code": c.code, "name": c.name, "sub_district": c.sub_district_id, "status": "active",
            "households": 1300, "population": 4100, "party_org_type": "branch", "social_org_count": 0}
    saved = client.post(reverse("communities:community_edit", args=[c.pk]), data)
    assert saved.status_code == 302, saved.content.decode()[:500]
    c.refresh_from_db()
    assert c.households == 1300
    # Still signed in on the next request: the session is in the database.
    assert client.get(reverse("communities:community_list")).status_code == 200


def test_starting_a_sweep_with_the_broker_down_says_so_quickly(client, reviewer, redis_down):
    client.force_login(reviewer)
    began = time.monotonic()
    response = client.post(reverse("compliance:sweep_start"), {"as_of": "2025-06-30"}, follow=True)
    assert time.monotonic() - began < QUICK
    assert response.status_code == 200
    assert "任务队列暂时不可用" in response.content.decode()
    _nothing_stuck()


@pytest.mark.django_db(transaction=True)  # as in production: no transaction around the view, the queue is asked at once
def test_a_large_upload_with_the_broker_down_says_so_and_is_not_left_queued(client, clerk_qingnian, existing,  # noqa: F811
                                                                              redis_down, monkeypatch):
    monkeypatch.setattr(import_services, "LARGE_IMPORT_ROWS", 2)
    client.force_login(clerk_qingnian)
    file = io.BytesIO(xlsx({"社区": [COMMUNITY_HEADERS, *[community_row(f"6101040014{i:02d}") for i in range(5)]]})
                      .getvalue())
    file.name = "big.xlsx"
    began = time.monotonic()
    response = client.post(reverse("imports:upload"), {"file": file}, follow=True)
    assert time.monotonic() - began < QUICK
    assert response.status_code == 200
    assert "任务队列暂时不可用" in response.content.decode()
    stored = StoredUpload.objects.get()
    assert stored.state == UploadState.FAILED and "任务队列暂时不可用" in stored.error
    _nothing_stuck()


@pytest.mark.django_db(transaction=True)
def test_confirming_a_large_import_with_the_broker_down_keeps_it_checked(client, clerk_qingnian, existing,  # noqa: F811
                                                                         redis_down, monkeypatch):
    client.force_login(clerk_qingnian)
    stored = StoredUpload.objects.create(user=clerk_qingnian, filename="big.xlsx", rows=5, state=UploadState.CHECKED,
                                         summary={"ok": True, "sheets": [], "file_issues": []})
    monkeypatch.setattr(import_services, "runs_in_worker", lambda upload: True)
    response = client.post(reverse("imports:confirm", args=[stored.pk]), follow=True)
    assert response.status_code == 200 and "任务队列暂时不可用" in response.content.decode()
    stored.refresh_from_db()
    assert stored.state == UploadState.CHECKED  # may be confirmed again once the queue is back
    _nothing_stuck()
