"""core.constraints.exactly: the database refuses exactly what the old ``^[…]{n}$`` checks refused."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from communities.models import Community, SubDistrict
from staffing.models import Person
from tests.staffing import builders as b

HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "digest",
    ["", HEX[:63], HEX[:63] + "g", HEX[:63] + "A", HEX[:63] + " ", " " + HEX[:63], HEX[:32] + "-" + HEX[:31]],
)
def test_database_refuses_a_person_digest_that_is_not_64_hex(streets, digest):
    p = b.person()
    with pytest.raises(IntegrityError, match="person_id_hash_shape"), transaction.atomic():
        Person.objects.filter(pk=p.pk).update(id_number_hash=digest)
    assert Person.objects.get(pk=p.pk).id_number_hash == p.id_number_hash


def test_database_takes_a_64_hex_digest(streets):
    p = b.person()
    Person.objects.filter(pk=p.pk).update(id_number_hash=HEX)
    assert Person.objects.get(pk=p.pk).id_number_hash == HEX


# Longer codes than the column holds are refused by its varchar length before any check.
@pytest.mark.parametrize("code", ["61010400100", "61010400100X", "61010400100 "])
def test_database_refuses_a_community_code_that_is_not_12_digits(streets, code):
    c = b.community(streets["qingnian"])
    with pytest.raises(IntegrityError, match="community_code_12_digits"), transaction.atomic():
        Community.objects.filter(pk=c.pk).update(code=code)
    assert Community.objects.get(pk=c.pk).code == c.code


@pytest.mark.parametrize("code", ["61010400", "61010400X", "６１０１０４００１"])
def test_database_refuses_a_street_code_that_is_not_9_digits(streets, code):
    with pytest.raises(IntegrityError, match="subdistrict_code_9_digits"), transaction.atomic():
        SubDistrict.objects.create(code=code, name="检查街道")
    assert not SubDistrict.objects.filter(code=code).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="compares PostgreSQL's own regex readings")
def test_same_strings_as_the_bounded_regex_on_postgresql(db):
    """Over edge strings, ``^[0-9a-f]+$`` with a length of 64 says yes exactly where ``^[0-9a-f]{64}$`` did."""
    candidates = ["", HEX, HEX[:63], HEX + "0", HEX.upper(), HEX[:63] + "\n", "\n" + HEX[:63], HEX[:63] + "é",
                  HEX[:62] + "ff", "０" + HEX[:63]]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s, s ~ '^[0-9a-f]{64}$', (s ~ '^[0-9a-f]+$' AND length(s) = 64) FROM unnest(%s::text[]) AS s",
            [candidates])
        rows = cursor.fetchall()
    assert [old for _s, old, _new in rows] == [new for _s, _old, new in rows]
    assert sum(old for _s, old, _new in rows) == 2  # HEX and HEX[:62] + "ff"
