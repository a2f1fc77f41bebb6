"""After an import the result page says what the rules' re-judging found: the findings it opened and resolved, or,
when a whole city's rows went to a sweep in the Celery workers, that the findings are not current yet.

Transactional: the re-judging runs at the import's own commit, as in production (inside a test's transaction
it would wait for the test's end)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

import compliance.rejudge
from compliance.changes import capture_changes, capturing
from compliance.models import Finding, Sweep
from imports import services
from imports.models import UploadState
from tests.imports.test_import_workbook import (
    COMMUNITY_HEADERS,
    community_row,
    existing,  # noqa: F401 - fixture
    xlsx,
)
from tests.imports.test_upload_faults import _checked, _confirm

pytestmark = pytest.mark.django_db(transaction=True)

NEW = "610104001301"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _rows():
    # A new 社区 (no 两委, no workers yet: findings open) and the first one grown to a size the rules accept.
    return [community_row(NEW, name="新建社区"),
            community_row("610104001001", name="莲湖路第一社区居委会", households=2500, population=8000)]


def test_the_result_page_says_what_the_rejudging_opened_and_resolved(client, existing, clerk_qingnian):  # noqa: F811
    bounds = Finding.objects.get(rule_id="M04.boundaries", target_key="610104001001", status="open")
    started = timezone.now()
    client.force_login(clerk_qingnian)
    stored = _checked(client, _rows())
    page = _confirm(client, stored)

    assert stored.state == UploadState.IMPORTED
    opened = Finding.objects.filter(opened_at__gte=started).count()
    resolved = Finding.objects.filter(status="resolved", resolved_at__gte=started)
    assert opened == Finding.objects.filter(target_key=NEW).count() > 0
    assert bounds.pk in {f.pk for f in resolved}  # the file gives its 四至
    assert stored.summary["rejudged"] == {"opened": opened, "resolved": resolved.count(), "pending": 0, "errors": 0,
                                          "sweep": None}
    assert f'id="rejudge-done" data-opened="{opened}" data-resolved="{resolved.count()}"' in page
    assert "rejudge-pending" not in page


def test_a_rejudge_handed_to_the_workers_is_said_to_be_pending(client, existing, clerk_qingnian, settings,  # noqa: F811
                                                               monkeypatch):
    client.force_login(clerk_qingnian)
    stored = _checked(client, _rows())
    queued = []
    monkeypatch.setattr(compliance.rejudge, "SWEEP_INSTEAD_ABOVE", 0)
    monkeypatch.setattr(compliance.rejudge, "enqueue", lambda task, *args, **kw: queued.append(args))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    page = _confirm(client, stored)

    assert stored.state == UploadState.IMPORTED and len(queued) == 1
    pending = stored.summary["rejudged"]["pending"]
    assert pending > 0 and stored.summary["rejudged"]["opened"] == 0
    assert not Finding.objects.filter(target_key=NEW).exists()  # the workers have not judged yet
    assert f'id="rejudge-pending" data-pending="{pending}"' in page
    assert "rejudge-done" not in page


def test_a_rejudge_swept_here_is_counted_from_its_sweep(client, existing, clerk_qingnian, monkeypatch):  # noqa: F811
    client.force_login(clerk_qingnian)
    stored = _checked(client, _rows())
    monkeypatch.setattr(compliance.rejudge, "SWEEP_INSTEAD_ABOVE", 0)
    page = _confirm(client, stored)

    sweep = Sweep.objects.get(triggered_by=compliance.rejudge.REJUDGE_SWEEP_TRIGGER)
    assert sweep.opened >= Finding.objects.filter(target_key=NEW).count() > 0
    assert stored.summary["rejudged"] == {"opened": sweep.opened, "resolved": sweep.resolved, "pending": 0,
                                          "errors": len(sweep.errors), "sweep": sweep.pk}
    assert f'href="/compliance/sweeps/{sweep.pk}/"' in page


def test_an_import_judges_in_its_own_process_even_with_a_broker(existing, settings, monkeypatch):  # noqa: F811
    """Recording what the re-judging did does not make it a page's save, which would queue it."""
    settings.COMPLIANCE_REJUDGE_ASYNC = True
    monkeypatch.setattr(compliance.rejudge.rejudge, "apply_async",
                        lambda *a, **kw: pytest.fail("an import's re-judging went to the queue"))
    result = services.workbook_import(file=xlsx({"社区": [COMMUNITY_HEADERS, *_rows()]}))
    assert result.written and result.rejudged.opened == Finding.objects.filter(target_key=NEW).count() > 0


def test_nothing_is_said_for_a_dry_run_or_an_import_inside_a_transaction(existing):  # noqa: F811
    book = [COMMUNITY_HEADERS, *_rows()]
    assert services.workbook_import(file=xlsx({"社区": book}), dry_run=True).rejudged is None
    with transaction.atomic():
        result = services.workbook_import(file=xlsx({"社区": book}))
        # The re-judging runs at the outer commit, after the import returned: not known here.
        assert result.written and result.rejudged is None
    assert Finding.objects.filter(target_key=NEW).exists()


def test_a_listening_capture_is_not_a_page_and_leaves_by_identity(db):
    with capture_changes(page=False) as outer:
        assert not capturing()
        with capture_changes() as inner:  # equal to outer (both empty): the inner one must be the one removed
            assert capturing()
        assert not capturing()
        compliance.changes.publish(compliance.changes.Changes(pending=3))
    assert outer.pending == 3 and inner.pending == 0
