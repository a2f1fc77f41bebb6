"""Audit gaps of issue 14: refused object access, refused hostile uploads, the requester's address on a
worker's events, TRUNCATE refused on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import Kind, SecurityEvent

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_postgresql_refuses_truncate_of_the_security_log_and_the_purge_still_works(db):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    kept = SecurityEvent.objects.create(kind=Kind.LOGIN, username="kept")
    old = SecurityEvent.objects.create(kind=Kind.LOGIN, username="old", when=timezone.now() - timedelta(days=200))
    for sql in ("TRUNCATE audit_securityevent", "TRUNCATE audit_securityevent RESTART IDENTITY CASCADE"):
        with pytest.raises(DatabaseError, match="不能清空"), transaction.atomic(), connection.cursor() as cursor:
            # What production runs with: the switch only the test database turns on is off.
            cursor.execute("SET LOCAL audit.truncate = 'off'")
            cursor.execute(sql)
    assert SecurityEvent.objects.filter(pk=kept.pk).exists()
    call_command("security_events_purge", stdout=StringIO())
    assert list(SecurityEvent.objects.filter(pk__in=[kept.pk, old.pk]).values_list("username", flat=True)) == ["kept"]


# --------------------------------------------------------------------------- refused object access


def _kinds(kind):
    return list(SecurityEvent.objects.filter(kind=kind).order_by("id"))


def test_another_street_s_record_is_a_refused_access_with_who_and_where(client, clerk_qingnian, streets):
    from django.urls import reverse

    from communities.services import community_create

    theirs = community_create(code="610104009001", name="枣园社区", sub_district=streets["zaoyuan"],
                              households=2000, population=6000)
    client.force_login(clerk_qingnian)
    response = client.get(reverse("communities:community_detail", args=[theirs.pk]), REMOTE_ADDR="10.7.7.7")
    assert response.status_code == 404
    (event,) = _kinds(Kind.ACCESS_DENIED)
    assert (event.user_id, event.ip) == (clerk_qingnian.pk, "10.7.7.7")
    assert event.detail["status"] == 404 and event.detail["view"] == "communities:community_detail"
    assert event.detail["kwargs"] == {"pk": str(theirs.pk)}

    # A path that names no object is a typo, not a probe; a 403 is always a refusal.
    assert client.get("/no-such-page/").status_code == 404
    assert client.post(reverse("compliance:sweep_start"), {"as_of": "2025-06-30"}).status_code == 403
    events = _kinds(Kind.ACCESS_DENIED)
    assert [e.detail["status"] for e in events] == [404, 403]


def test_own_records_are_not_refusals(client, clerk_qingnian, streets):
    from django.urls import reverse

    from communities.services import community_create

    mine = community_create(code="610104001001", name="莲湖路第一社区", sub_district=streets["qingnian"],
                            households=1180, population=3892)
    client.force_login(clerk_qingnian)
    assert client.get(reverse("communities:community_detail", args=[mine.pk])).status_code == 200
    assert _kinds(Kind.ACCESS_DENIED) == []


# --------------------------------------------------------------------------- refused hostile uploads


def _upload(client, data: bytes, name: str, **extra):
    import io

    from django.urls import reverse

    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("imports:upload"), {"file": file}, **extra)


def _with_macro(book: bytes) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(out, "w") as dest:
        for item in source.infolist():
            dest.writestr(item, source.read(item.filename))
        dest.writestr("xl/vbaProject.bin", b"\x00" * 64)
    return out.getvalue()


@pytest.fixture
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_hostile_uploads_are_recorded_with_the_reason_and_a_typing_error_is_not(client, clerk_qingnian, streets,
                                                                                _media):
    from tests.imports.test_import_workbook import COMMUNITY_HEADERS, community_row, xlsx

    client.force_login(clerk_qingnian)
    good = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001090")]}).getvalue()
    _upload(client, _with_macro(good), "macro.xlsx", REMOTE_ADDR="10.6.6.6")
    formula = community_row("610104001091")
    formula[3] = "=1+1"
    _upload(client, xlsx({"社区": [COMMUNITY_HEADERS, formula]}).getvalue(), "formula.xlsx")
    typo = community_row("610104001092", households="很多")
    _upload(client, xlsx({"社区": [COMMUNITY_HEADERS, typo]}).getvalue(), "typo.xlsx")

    events = _kinds(Kind.UPLOAD_REFUSED)
    assert [(e.detail["file"], [r["code"] for r in e.detail["reasons"]]) for e in events] == [
        ("macro.xlsx", ["macro_workbook"]), ("formula.xlsx", ["formula"])]
    assert events[0].ip == "10.6.6.6" and events[0].user_id == clerk_qingnian.pk
    assert all(r["reason"] for e in events for r in e.detail["reasons"])  # said in words


def test_an_oversized_upload_is_recorded(client, clerk_qingnian, streets, settings, _media):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    client.force_login(clerk_qingnian)
    _upload(client, b"\xe7\xa4\xbe" * 2000, "huge.csv")
    (event,) = _kinds(Kind.UPLOAD_REFUSED)
    assert [r["code"] for r in event.detail["reasons"]] == ["file_too_large"]


# --------------------------------------------------------------------------- a worker's events name the requester


def test_an_import_run_by_a_worker_records_the_address_of_the_confirming_request(
        client, clerk_qingnian, streets, monkeypatch, django_capture_on_commit_callbacks, _media):
    from django.urls import reverse

    from imports import services
    from imports.models import StoredUpload, UploadState
    from tests.imports.test_import_workbook import COMMUNITY_HEADERS, community_row, xlsx

    monkeypatch.setattr(services, "LARGE_IMPORT_ROWS", 1)
    client.force_login(clerk_qingnian)
    rows = [community_row("610104001093", name="工人社区甲"), community_row("610104001094", name="工人社区乙")]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        _upload(client, xlsx({"社区": [COMMUNITY_HEADERS, *rows]}).getvalue(), "big.xlsx", REMOTE_ADDR="10.5.5.1")
    (check,) = queued
    check()  # the worker, with no request at hand
    stored = StoredUpload.objects.get()
    assert stored.state == UploadState.CHECKED
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(reverse("imports:confirm", args=[stored.pk]), REMOTE_ADDR="10.5.5.2")
    (run,) = queued
    run()
    stored.refresh_from_db()
    assert stored.state == UploadState.IMPORTED
    (event,) = _kinds(Kind.IMPORT)
    assert (event.ip, event.user_id) == ("10.5.5.2", clerk_qingnian.pk)


def test_a_sweep_run_by_a_worker_records_who_queued_it_and_from_where(client, reviewer, monkeypatch):
    from django.urls import reverse

    from compliance import tasks

    sent = []
    monkeypatch.setattr("compliance.views.enqueue", lambda task, *args, **kwargs: sent.append((args, kwargs)))
    client.force_login(reviewer)
    client.post(reverse("compliance:sweep_start"), {"as_of": "2025-06-30"}, REMOTE_ADDR="10.4.4.4")
    ((args, kwargs),) = sent
    kwargs.pop("what")
    tasks.nightly_sweep(*args, **kwargs, chunks=1)  # as the worker runs it: no request
    (event,) = _kinds(Kind.SWEEP)
    assert (event.ip, event.user_id) == ("10.4.4.4", reviewer.pk)
    assert event.detail["as_of"] == "2025-06-30" and event.detail["via"] == "worker"
