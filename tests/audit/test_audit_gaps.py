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
