"""Uploads under faults: the size decision counts real rows (never the sheet's <dimension>), a hard cap on what a
request imports, a queue that is down, a worker that died, and a confirmation against a stale preview."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from communities.models import Community
from communities.services import community_update
from imports import services
from imports.models import StoredUpload, UploadState
from tests.imports.test_import_workbook import (
    COMMUNITY_HEADERS,
    COMPOUND_HEADERS,
    community_row,
    compound_row,
    existing,  # noqa: F401 - fixture
    xlsx,
)

pytestmark = pytest.mark.django_db


def _post(client, data: bytes, name: str = "book.xlsx"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("imports:upload"), {"file": file}, follow=True)


def _lying_dimension(book: io.BytesIO, ref: str = "A1:I2") -> bytes:
    """The workbook with every sheet's <dimension> rewritten, as some writers (or an attacker) leave it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book.getvalue())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), data)
            dest.writestr(item, data)
    return out.getvalue()


def test_a_sheet_whose_dimension_hides_its_rows_goes_to_the_worker(client, existing, clerk_qingnian,  # noqa: F811
                                                                   django_capture_on_commit_callbacks):
    many = services.LARGE_IMPORT_ROWS + 500
    rows = [compound_row(f"XQ-DIM-{n:05d}", community="610104001001") for n in range(many)]
    data = _lying_dimension(xlsx({"小区": [COMPOUND_HEADERS, *rows]}))
    # The lie holds: a reader trusting the declared size sees one data row.
    declared = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["小区"].max_row
    assert declared == 2

    client.force_login(clerk_qingnian)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        _post(client, data)
    stored = StoredUpload.objects.get()
    assert stored.rows > services.LARGE_IMPORT_ROWS  # counted in the file (the count stops past the cap)
    assert services.runs_in_worker(stored) is True
    assert stored.state == UploadState.QUEUED and len(queued) == 1  # nothing was checked in the request


def test_a_small_file_is_checked_in_the_request(client, existing, clerk_qingnian):  # noqa: F811
    client.force_login(clerk_qingnian)
    _post(client, xlsx({"小区": [COMPOUND_HEADERS, compound_row("XQ-SMALL-1", community="610104001001")]}).getvalue())
    stored = StoredUpload.objects.get()
    assert (stored.rows, services.runs_in_worker(stored), stored.state) == (1, False, UploadState.CHECKED)


def test_the_request_stops_at_the_cap_whatever_the_count_said(client, existing, clerk_qingnian, monkeypatch,  # noqa: F811
                                                              django_capture_on_commit_callbacks):
    # A file the count got wrong (any way it could): the import itself refuses to go past the cap in a request.
    monkeypatch.setattr(services, "runs_in_worker", lambda upload: False)
    monkeypatch.setattr(services, "LARGE_IMPORT_ROWS", 3)
    rows = [community_row(f"6101040012{i:02d}", name=f"封顶社区{i}") for i in range(5)]
    client.force_login(clerk_qingnian)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        _post(client, xlsx({"社区": [COMMUNITY_HEADERS, *rows]}).getvalue())
    stored = StoredUpload.objects.get()
    assert stored.state == UploadState.QUEUED and stored.rows == 5 and stored.summary is None
    assert len(queued) == 1
    assert not Community.objects.filter(name__startswith="封顶社区").exists()


def test_the_row_count_reads_only_registered_sheets(existing):  # noqa: F811
    cap = services.LARGE_IMPORT_ROWS
    book = xlsx({"说明": [["x"]] * (cap + 50), "社区": [COMMUNITY_HEADERS, community_row("610104001201")]})
    assert services._count_data_rows(book.getvalue(), "a.xlsx")[0] == 1
    big = xlsx({"社区": [COMMUNITY_HEADERS, *[community_row(f"6101040{n:05d}") for n in range(cap + 300)]]})
    counted = services._count_data_rows(big.getvalue(), "a.xlsx")[0]
    assert counted > cap


# --------------------------------------------------------------------------- a confirmation against a stale preview


def _checked(client, rows, name="c.xlsx"):
    _post(client, xlsx({"社区": [COMMUNITY_HEADERS, *rows]}).getvalue(), name)
    stored = StoredUpload.objects.order_by("-created_at").first()
    assert stored.state == UploadState.CHECKED, stored.summary
    return stored


def _confirm(client, stored):
    page = client.post(reverse("imports:confirm", args=[stored.pk]), follow=True).content.decode()
    stored.refresh_from_db()
    return page


def _file_codes(stored):
    return [i["code"] for i in stored.summary["file_issues"]]


def test_a_row_edited_since_the_preview_is_not_overwritten(client, existing, clerk_qingnian, reviewer):  # noqa: F811
    client.force_login(clerk_qingnian)
    stored = _checked(client, [community_row("610104001001", name="莲湖路第一社区居委会", households=1500, population=5000)])
    assert stored.fingerprint  # the preview noted the row it would change
    first = Community.objects.get(code="610104001001")
    community_update(community=first, user=reviewer, reason="核对", households=1250)

    page = _confirm(client, stored)
    assert stored.state == UploadState.REFUSED and _file_codes(stored) == ["stale_preview"]
    assert "重新上传并预览" in page
    assert Community.objects.get(code="610104001001").households == 1250


def test_a_row_created_by_someone_else_since_the_preview_is_refused(client, existing, clerk_qingnian):  # noqa: F811
    client.force_login(clerk_qingnian)
    stored = _checked(client, [community_row("610104001301", name="预览新社区")])
    assert stored.summary["sheets"][0]["created"] == ["610104001301"]
    from communities.services import community_create

    community_create(code="610104001301", name="别人先建的社区", sub_district=existing["first"].sub_district,
                     households=900, population=2000)
    _confirm(client, stored)
    assert _file_codes(stored) == ["stale_preview"]
    assert Community.objects.get(code="610104001301").name == "别人先建的社区"


def test_an_untouched_preview_imports(client, existing, clerk_qingnian):  # noqa: F811
    client.force_login(clerk_qingnian)
    stored = _checked(client, [community_row("610104001001", name="莲湖路第一社区居委会", households=1500,
                                             population=5000), community_row("610104001302", name="又一个新社区")])
    community_update(community=existing["other"], user=None, reason="别的社区", households=2100)  # not in the file
    _confirm(client, stored)
    assert stored.state == UploadState.IMPORTED
    assert Community.objects.get(code="610104001001").households == 1500


# --------------------------------------------------------------------------- a worker that died


def _running(clerk, state, beat_age: float | None, attempts=1):
    upload = StoredUpload.objects.create(user=clerk, filename="x.xlsx", state=state, attempts=attempts,
                                         heartbeat_at=None if beat_age is None
                                         else timezone.now() - timedelta(seconds=beat_age))
    return upload


def test_a_redelivered_task_takes_over_an_upload_whose_worker_died(existing, clerk_qingnian, settings):  # noqa: F811
    settings.IMPORT_LEASE_SECONDS = 60
    dead = _running(clerk_qingnian, UploadState.IMPORTING, beat_age=61)
    claimed = services.upload_claim(upload_id=dead.pk, dry_run=False, wait=lambda s: None)
    assert claimed is not None and claimed.attempts == 2


def test_a_redelivered_task_leaves_a_live_worker_alone(existing, clerk_qingnian, settings):  # noqa: F811
    settings.IMPORT_LEASE_SECONDS = 60
    alive = _running(clerk_qingnian, UploadState.CHECKING, beat_age=5)
    waits = []

    def wait(seconds):
        waits.append(seconds)
        if len(waits) == 2:  # the live worker finishes meanwhile
            StoredUpload.objects.filter(pk=alive.pk).update(state=UploadState.CHECKED)

    assert services.upload_claim(upload_id=alive.pk, dry_run=True, wait=wait) is None
    assert len(waits) == 2
    alive.refresh_from_db()
    assert (alive.state, alive.attempts) == (UploadState.CHECKED, 1)


def test_a_file_that_keeps_killing_its_worker_is_given_up_with_a_message(existing, clerk_qingnian):  # noqa: F811
    upload = _running(clerk_qingnian, UploadState.IMPORTING, beat_age=None, attempts=services.MAX_ATTEMPTS)
    assert services.upload_claim(upload_id=upload.pk, dry_run=False, wait=lambda s: None) is None
    upload.refresh_from_db()
    assert upload.state == UploadState.FAILED and "多次中断" in upload.error
