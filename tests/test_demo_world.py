"""The session's demo (tests/demo_world.py) comes back whole after a transactional test's flush.

pytest-xdist hands modules to workers in any order, so a module that restores the demo may run after a
transactional test has flushed the database: ``post_migrate`` then writes the content types and permissions
again under new ids and the migrations' own rows are gone. The demo's clerk permissions (guardian rows that
name a content type and a permission by id) must still mean what they meant.
"""

import pytest
from django.core.management import call_command
from django.db import transaction

from .conftest import _forget_content_types
from .demo_world import restore


@pytest.mark.django_db(transaction=True)
def test_restore_after_a_flush_keeps_the_clerks_permissions(structure_demo_rows):
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from guardian.shortcuts import get_objects_for_group

    from accounts.roles import clerk_group_name
    from communities.models import Community, SubDistrict

    # What a transactional test leaves behind (its teardown flushes as this does, sequences not reset): the tables
    # emptied, content types and permissions written anew under new ids.
    call_command("flush", interactive=False, verbosity=0, reset_sequences=False)
    with transaction.atomic():
        restore(structure_demo_rows)
        street = SubDistrict.objects.get(code="610104001")
        group = Group.objects.get(name=clerk_group_name(street.name))
        assert ContentType.objects.get_for_model(Community).model == "community"
        # A community's rights are its 街办's (communities.selectors): the group keeps change on its 街办.
        assert list(get_objects_for_group(group, "communities.change_subdistrict", SubDistrict)) == [street]
        assert Community.objects.filter(sub_district=street).count() > 0
        transaction.set_rollback(True)
    # Rolled back: the flush's content types are back, while the cache still holds the captured ids ...
    in_database = ContentType.objects.get(app_label="communities", model="community").pk
    assert ContentType.objects.get_for_model(Community).pk != in_database
    # ... which every later module and test of this process drops first (tests/conftest.py), so guardian looks
    # permissions up by the content types that are there.
    _forget_content_types()
    assert ContentType.objects.get_for_model(Community).pk == in_database


@pytest.mark.django_db
def test_a_capture_read_from_another_worker_moves_the_sequences_past_its_rows(structure_demo_rows):
    """A worker that reads another worker's capture never ran ``load_demo``: its id sequences are behind the
    demo's ids, and a row a test adds after the restore must not take one of them."""
    import dataclasses

    from django.db import connection

    from communities.models import SubDistrict

    if connection.vendor != "postgresql":
        pytest.skip("SQLite gives a new row an id above the largest present without a sequence")
    foreign = dataclasses.replace(structure_demo_rows, sequences_behind=True)
    with connection.cursor() as cursor:  # as in a worker whose database never held the demo
        cursor.execute("SELECT setval(pg_get_serial_sequence('communities_subdistrict', 'id'), 1, false)")

    restore(foreign)

    added = SubDistrict.objects.create(code="610104999", name="测试街道")
    assert added.pk > max(SubDistrict.objects.exclude(pk=added.pk).values_list("pk", flat=True))
    assert foreign.sequences_behind is False, "moved once per process, not at every restore"
