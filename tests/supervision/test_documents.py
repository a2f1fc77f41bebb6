"""督办单/约谈通知 and 通报: numbered per year without repeats, printable, downloadable, frozen once issued."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from compliance.models import SupervisionAction
from supervision import reports, services
from supervision.models import DocCounter, SupervisionDocument

pytestmark = pytest.mark.django_db


def test_chinese_dates():
    assert reports.chinese_date(dt.date(2026, 12, 3)) == "二〇二六年十二月三日"
    assert reports.chinese_date(dt.date(2025, 1, 20)) == "二〇二五年一月二十日"
    assert reports.chinese_date(dt.date(2024, 10, 31)) == "二〇二四年十月三十一日"
    assert reports.chinese_date(dt.date(2024, 2, 29)) == "二〇二四年二月二十九日"


def test_numbers_never_repeat_within_a_year(make_community, finding_factory, reviewer, streets):
    for _ in range(2):
        finding_factory(community=make_community())
    finding_factory(community=make_community(street="zaoyuan"))
    docs = [services.supervision_document_issue(user=reviewer, unit="青年路街道", kind="supervise") for _ in range(3)]
    docs.append(services.supervision_document_issue(user=reviewer, unit="枣园街道", kind="supervise"))
    interview = services.supervision_document_issue(user=reviewer, unit="青年路街道", kind="interview")
    year = timezone.localdate().year
    assert [d.number for d in docs] == [1, 2, 3, 4]
    assert interview.number == 1 and interview.doc_no == f"莲民约〔{year}〕1号"
    assert docs[0].doc_no == f"莲民督〔{year}〕1号"
    assert SupervisionAction.objects.filter(level="supervise", unit="青年路街道").count() == 3
    assert docs[0].action.unit == "青年路街道" and len(docs[0].findings) == 2
    # Even a counter set back cannot give a number twice: the database refuses it.
    DocCounter.objects.filter(year=year, kind="supervise").update(last_number=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        services.supervision_document_issue(user=reviewer, unit="青年路街道", kind="supervise")
    assert SupervisionDocument.objects.filter(kind="supervise").count() == 4


def test_next_year_starts_again(make_community, finding_factory, reviewer):
    with transaction.atomic():
        assert services.number_take(year=2025, kind="supervise") == 1
        assert services.number_take(year=2025, kind="supervise") == 2
        assert services.number_take(year=2026, kind="supervise") == 1


def test_a_unit_with_nothing_overdue_gets_no_document(make_community, finding_factory, reviewer, clerk_qingnian):
    finding_factory(community=make_community(), days_overdue=-30, first_seen=timezone.localdate())
    with pytest.raises(ValidationError) as exc:
        services.supervision_document_issue(user=reviewer, unit="青年路街道", kind="interview")
    assert exc.value.code == "no_findings_at_level"
    with pytest.raises(PermissionDenied):
        services.supervision_document_issue(user=clerk_qingnian, unit="青年路街道", kind="supervise")
    assert not SupervisionAction.objects.exists() and not DocCounter.objects.exists()


def test_document_print_page_and_download(client, make_community, finding_factory, reviewer, clerk_qingnian,
                                          clerk_zaoyuan):
    finding_factory(community=make_community(), rule_id="M07.outdoor_plaza")
    client.force_login(reviewer)
    r = client.post(reverse("supervision:document_list"), {"unit": "青年路街道", "kind": "supervise"})
    doc = SupervisionDocument.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("supervision:document_detail", args=[doc.pk])
    page = client.get(r["Location"]).content.decode()
    for text in (doc.doc_no, "督 办 单", "青年路街道", "室外活动广场面积不低于1000平方米", "措施七", "签发", "盖章",
                 reports.chinese_date(doc.issued_on), "supervision-print.css"):
        assert text in page
    download = client.get(reverse("supervision:document_download", args=[doc.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert "@page" in download.content.decode() and doc.doc_no in download.content.decode()
    client.force_login(clerk_qingnian)  # the unit it is addressed to may read it
    assert client.get(reverse("supervision:document_detail", args=[doc.pk])).status_code == 200
    client.force_login(clerk_zaoyuan)
    assert client.get(reverse("supervision:document_detail", args=[doc.pk])).status_code == 404


def test_bulletin_is_drafted_reviewed_issued_and_frozen(client, make_community, finding_factory, reviewer, reviewer2):
    from supervision.models import Bulletin

    today = timezone.localdate()
    start, end = reports.month_bounds(today.replace(day=1) - dt.timedelta(days=1))
    # Found last month; found the month before and closed last month; overdue at the end of last month.
    plaza = "M07.outdoor_plaza"  # a violation: 30 days to put right
    finding_factory(community=make_community(), rule_id=plaza, first_seen=start + dt.timedelta(days=2),
                    due=start + dt.timedelta(days=32))
    prev_start, _prev_end = reports.previous_period(start, end)
    closed = finding_factory(community=make_community(), rule_id=plaza, first_seen=prev_start,
                             due=prev_start + dt.timedelta(days=30),
                             status="resolved", resolved_at=timezone.make_aware(
                                 dt.datetime.combine(start + dt.timedelta(days=5), dt.time(10))))
    finding_factory(community=make_community(street="zaoyuan"), rule_id=plaza,
                    first_seen=prev_start - dt.timedelta(days=90), due=prev_start - dt.timedelta(days=60))
    b = services.bulletin_draft(user=reviewer, period_start=start, period_end=end)
    rows = {r["unit"]: r for r in b.figures["units"]}
    assert rows["青年路街道"]["new"] == 1 and rows["青年路街道"]["closed"] == 1
    assert rows["青年路街道"]["prev_new"] == 1
    assert rows["枣园街道"]["overdue"] == 1 and rows["枣园街道"]["prev_overdue"] == 1
    assert b.title == f"关于{start.year}年{start.month}月社区管理问题整改情况的通报"
    with pytest.raises(ValidationError) as exc:
        services.bulletin_act(user=reviewer, bulletin_id=b.pk, action="review")
    assert exc.value.code == "own_draft"
    with pytest.raises(ValidationError) as exc:
        services.bulletin_act(user=reviewer2, bulletin_id=b.pk, action="issue")
    assert exc.value.code == "wrong_state"
    services.bulletin_act(user=reviewer2, bulletin_id=b.pk, action="review")
    b = services.bulletin_act(user=reviewer, bulletin_id=b.pk, action="issue")
    assert b.number == 1 and b.doc_no == f"莲民通〔{today.year}〕1号"
    frozen = b.figures
    finding_factory(community=make_community(), first_seen=start + dt.timedelta(days=3))
    with pytest.raises(ValidationError) as exc:
        services.bulletin_redraft(user=reviewer, bulletin_id=b.pk)
    assert exc.value.code == "bulletin_frozen"
    assert Bulletin.objects.get(pk=b.pk).figures == frozen
    client.force_login(reviewer)
    page = client.get(reverse("supervision:bulletin_detail", args=[b.pk])).content.decode()
    assert b.doc_no in page and "较上期" in page and "盖章" in page
    download = client.get(reverse("supervision:bulletin_download", args=[b.pk]))
    assert download["Content-Disposition"].startswith("attachment") and b.doc_no in download.content.decode()
    assert closed.pk


def test_future_period_is_refused(reviewer):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        services.bulletin_draft(user=reviewer, period_start=today, period_end=today + dt.timedelta(days=1))
    assert exc.value.code == "period_future"


def test_document_and_bulletin_pages_queries_do_not_grow(client, make_community, finding_factory, reviewer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    finding_factory(community=make_community())
    services.supervision_document_issue(user=reviewer, unit="青年路街道", kind="supervise")
    client.force_login(reviewer)
    urls = [reverse("supervision:document_list"), reverse("supervision:bulletin_list"),
            reverse("supervision:assessment")]
    for url in urls:
        client.get(url)
    counts = []
    for _ in range(2):
        seen = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            seen.append(len(queries))
        counts.append(seen)
        for street in ("qingnian", "zaoyuan", "zaoyuan"):
            finding_factory(community=make_community(street=street))
        services.supervision_document_issue(user=reviewer, unit="枣园街道", kind="interview")
        services.supervision_document_issue(user=reviewer, unit="青年路街道", kind="supervise")
    assert counts[0] == counts[1]
