"""core/records.py: the bulk writers. On PostgreSQL insert_rows writes by COPY, with the ids drawn first and the
JSON columns sent as text; what lands must be what Django's own insert would have stored."""

from datetime import date

import pytest
from django.db import connection
from django.utils import timezone

from compliance.models import Finding
from core.records import among, concrete_attnames, insert_rows, loaded

VALUES = [None, 0, 0.0, 1, 1.0, True, False, 2.5, "3~5", "含\t制表符\n换行和\\反斜杠", "", {"甲": 1, "b": [1, "x"]},
          [1, "二", None], 0, "3~5", True, 1]  # repeats: the kept texts must not mix 1, 1.0 and True


def _finding(i: int, measured) -> Finding:
    return Finding(rule_id="M04.households", clause=4, target_type="community", target_key=f"K{i}", target_pk=i,
                   severity="warning", measured=measured, required=measured, message=f"第{i}条", first_seen=date(2026, 6, 1),
                   last_seen=date(2026, 6, 1), opened_at=timezone.now(), status="resolved")


@pytest.mark.django_db
@pytest.mark.parametrize("bulk", [False, True], ids=["bulk_create", "insert_rows"])
def test_json_columns_read_back_as_written(bulk):
    objs = [_finding(i, value) for i, value in enumerate(VALUES)]
    if bulk:
        insert_rows(Finding, objs, related=False)
    else:
        Finding.objects.bulk_create(objs)
    stored = dict(Finding.objects.values_list("target_pk", "measured"))
    for i, value in enumerate(VALUES):
        assert stored[i] == value and type(stored[i]) is type(value), (i, value, stored[i])
    # None is SQL NULL, as Django stores it, not JSON null.
    assert set(Finding.objects.filter(measured__isnull=True).values_list("target_pk", flat=True)) == {0}


@pytest.mark.django_db
def test_ids_are_drawn_for_every_row_and_match_the_table():
    if connection.vendor != "postgresql":
        pytest.skip("the ids are drawn from the sequence on PostgreSQL; elsewhere bulk_create sets them")
    objs = insert_rows(Finding, [_finding(i, i) for i in range(2500)], related=False)
    ids = [obj.pk for obj in objs]
    assert len(set(ids)) == 2500 and None not in ids
    assert dict(Finding.objects.values_list("pk", "target_pk")) == {obj.pk: obj.target_pk for obj in objs}
    assert all(not obj._state.adding for obj in objs)


@pytest.mark.django_db
def test_loaded_instances_are_saved_rows_as_the_queryset_gives_them():
    Finding.objects.bulk_create([_finding(i, value) for i, value in enumerate(VALUES[:5])])
    columns = concrete_attnames(Finding)
    loaded_ones = {f.pk: f for f in loaded(Finding, Finding.objects.values_list(*columns))}
    for expected in Finding.objects.all():
        got = loaded_ones[expected.pk]
        assert [getattr(got, c) for c in columns] == [getattr(expected, c) for c in columns]
        assert not got._state.adding and got._state.db == "default"
    # A save is an UPDATE of that row, not a second row.
    got = loaded_ones[min(loaded_ones)]
    got.message = "改过"
    got.save(update_fields=["message"])
    assert Finding.objects.count() == 5 and Finding.objects.get(pk=got.pk).message == "改过"


# Keys as a clerk's file may hold them: array syntax, quotes, backslashes, spaces, the word NULL, Chinese.
AWKWARD = ["K,1", "K{2}", 'K"3"', "K\\4", "K 5", " K6", "NULL", "null", "", "社区七", "K\\\"8", "K}9{", "K'10"]


@pytest.mark.django_db
def test_among_finds_exactly_the_keys_given_however_they_are_written():
    long_key = "K" + "x" * 63  # as long as the column (varchar(64)) holds
    objs = [_finding(i, None) for i in range(len(AWKWARD) + 3)]
    for obj, key in zip(objs, [*AWKWARD, "KEPT-OUT", "K", long_key], strict=True):
        obj.target_key = key
    insert_rows(Finding, objs, related=False)
    found = among(Finding.objects.all(), "target_key", AWKWARD).values_list("target_key", flat=True)
    assert sorted(found) == sorted(AWKWARD)
    assert among(Finding.objects.all(), "target_key", [long_key]).count() == 1
    # A longer key is not cut to the stored one's length, so it finds nothing.
    assert not among(Finding.objects.all(), "target_key", [long_key + "x"]).exists()
    assert not among(Finding.objects.all(), "target_key", []).exists()


@pytest.mark.django_db
def test_among_takes_integer_keys_and_foreign_keys():
    objs = insert_rows(Finding, [_finding(i, None) for i in range(5)], related=False)
    pks = [o.pk for o in objs]
    assert sorted(among(Finding.objects.all(), "id", [pks[1], pks[3], 10**12]).values_list("pk", flat=True)) == [
        pks[1], pks[3]]
    assert sorted(among(Finding.objects.all(), "target_pk", [0, 4]).values_list("target_pk", flat=True)) == [0, 4]
