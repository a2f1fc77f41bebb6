"""The admin page of a training: attendees shown without a query (or a person list) each."""

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from staffing.models import TrainingAttendance, TrainingEvent

from . import builders as b


def _page(client, event):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:staffing_trainingevent_change", args=[event.pk]))
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content


def test_training_change_page_queries_do_not_grow_with_attendees(client, admin_user, streets):
    client.force_login(admin_user)
    event = TrainingEvent.objects.create(title="全员培训", kind="general", held_on=date(2026, 5, 1))
    people = b.bulk_people(40)
    TrainingAttendance.objects.bulk_create([TrainingAttendance(event=event, person=p) for p in people[:3]])
    _page(client, event)  # first request of the session fills caches (content types, session)
    few, small = _page(client, event)
    TrainingAttendance.objects.bulk_create([TrainingAttendance(event=event, person=p) for p in people[3:]])
    many, large = _page(client, event)
    assert many == few
    # No <select> listing every person per attendee: the page grows by a row per attendee, not a list.
    assert len(large) - len(small) < 37 * 4_000
    assert large.count(b"<option") == small.count(b"<option")
