"""ID numbers at rest: ciphertext and a keyed digest in the database, nothing in clear in any table or dump."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import date

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from staffing import idcrypto, idnumbers, services
from staffing.models import Person

from . import builders as b

pytestmark = pytest.mark.django_db

# Any run of 17 digits and a check character, as a dump or a table would show a number in clear.
CLEAR = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def clear_numbers(text: str) -> list[str]:
    """The 18-character runs of ``text`` that are valid ID numbers (right check character)."""
    return [m for m in CLEAR.findall(text) if idnumbers.check_char(m[:17]) == m[17].upper()]


def raw_rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.fixture
def qn(streets):
    return b.community(streets["qingnian"], "001")


def test_the_table_holds_ciphertext_and_a_digest(qn):
    p = b.worker(qn).person
    [(stored, digest)] = raw_rows("SELECT id_number, id_number_hash FROM staffing_person")
    assert stored.startswith(idcrypto.TOKEN_PREFIX) and p.id_number not in stored
    assert digest == idcrypto.digest(p.id_number) and re.fullmatch(r"[0-9a-f]{64}", digest)
    assert Person.objects.get(pk=p.pk).id_number == p.id_number  # read back in clear
    assert Person.objects.with_id_number(p.id_number.lower()).get() == p
    # Saving again draws a fresh IV: the ciphertext cannot be compared, only the digest can.
    services.person_update(person=p, name="改名")
    [(again,)] = raw_rows("SELECT id_number FROM staffing_person")
    assert again != stored


def test_no_table_holds_a_number_in_clear(qn):
    p = b.worker(qn).person
    services.person_update(person=p, name="改名", education="硕士")
    tables = [t for t in connection.introspection.table_names() if t.startswith("staffing_")]
    for table in tables:
        for row in raw_rows(f"SELECT * FROM {connection.ops.quote_name(table)}"):
            assert not clear_numbers(" ".join(str(v) for v in row)), table
    columns = {c.name for c in connection.introspection.get_table_description(connection.cursor(),
                                                                             "staffing_historicalperson")}
    assert "id_number" not in columns and "id_number_hash" not in columns


def test_the_number_column_refuses_comparison():
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number="610104198001010018"))
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number__startswith="610104"))


def test_duplicates_are_still_refused_by_digest(qn):
    p = b.person()
    with pytest.raises(ValidationError) as refused:
        services.person_create(id_number=p.id_number.lower() if p.id_number.endswith("X") else p.id_number,
                               name="另一人")
    assert refused.value.error_dict["id_number"][0].code == "id_taken"
    # One message, masked, on the number: the digest's unique constraint adds none of its own.
    assert set(refused.value.error_dict) == {"id_number"}
    assert Person.objects.count() == 1


def test_the_database_refuses_a_second_row_for_a_number_and_a_public_id(qn):
    p = b.person()
    twin = Person(id_number=p.id_number, name="另一人", birth_date=p.birth_date, sex=p.sex)
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.bulk_create([twin])
    other = b.person()
    other.public_id = p.public_id
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save(update_fields=["public_id"])


def test_bulk_insert_writes_digests_too(qn):
    people = b.bulk_people(3, qn)
    digests = {d for (d,) in raw_rows("SELECT id_number_hash FROM staffing_person")}
    assert digests == {idcrypto.digest(p.id_number) for p in people}


def test_rotation_reencrypts_under_the_new_key(qn, settings):
    p = b.worker(qn).person
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("id_numbers_rotate", stdout=out)
    assert p.id_number not in out.getvalue() and "1 个" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert Person.objects.get(pk=p.pk).id_number == p.id_number
    settings.FIELD_ENCRYPTION_KEYS = [old]
    with pytest.raises(ImproperlyConfigured):
        Person.objects.get(pk=p.pk)


def test_rehash_follows_a_new_hash_key(qn, settings):
    p = b.worker(qn).person
    settings.FIELD_HASH_KEY = "another-hash-key-for-the-test"
    assert not Person.objects.with_id_number(p.id_number).exists()
    call_command("id_numbers_rotate", "--rehash", stdout=io.StringIO())
    assert Person.objects.with_id_number(p.id_number).get() == p


def test_missing_keys_stop_use_and_the_deploy_check(settings):
    from staffing.checks import id_number_keys

    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        idcrypto.encrypt("610104198001010018")
    assert [m.id for m in id_number_keys(None)] == ["staffing.E001"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump dumps a PostgreSQL database")
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_pg_dump_holds_no_id_number(streets, admin_user, client):
    """The whole test database, as a backup would hold it: people, their history, the security log of a
    revealed export and a reveal on a page."""
    qn = b.community(streets["qingnian"], "001")
    jobs = [b.worker(qn, entry_on=date(2020, 1, 1)) for _ in range(3)]
    services.person_update(person=jobs[0].person, name="改名")
    # Imported people go in by the bulk path (COPY on PostgreSQL), not through save().
    from imports.services import workbook_import

    from .test_sheets import PERSON_HEADERS, person_row, xlsx

    imported = [b.id_number("19770707"), b.id_number("19880808")]
    result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, *(person_row(n) for n in imported)]}))
    assert result.ok and Person.objects.with_id_numbers(imported).count() == 2
    client.force_login(admin_user)
    client.post(reverse("staffing:person_reveal", args=[jobs[0].person.public_id]))
    assert client.get(reverse("exports:ledger", args=["people"]), {"reveal": "1", "format": "csv"}).status_code == 200
    settings = connection.settings_dict
    command = ["pg_dump", "--data-only", "--no-owner", "--dbname", settings["NAME"]]
    if settings.get("HOST"):
        command += ["--host", settings["HOST"]]
    if settings.get("PORT"):
        command += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        command += ["--username", settings["USER"]]
    env = {"PGPASSWORD": settings.get("PASSWORD") or ""}
    dump = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120,
                          env={**os.environ, **env}).stdout
    assert "staffing_person" in dump
    assert all(j.person.id_number not in dump for j in jobs) and all(n not in dump for n in imported)
    assert clear_numbers(dump) == []


def test_admin_search_change_and_save_keep_working(client, qn, admin_user):
    from audit.models import Kind, SecurityEvent

    p = b.worker(qn).person
    client.force_login(admin_user)
    listing = client.get(reverse("admin:staffing_person_changelist")).content.decode()
    assert idnumbers.mask(p.id_number) in listing and p.id_number not in listing
    assert p.public_id not in client.get(reverse("admin:staffing_person_changelist"), {"q": p.id_number}).content.decode()
    found = client.post(reverse("admin:staffing_person_id_search"), {"id_number": p.id_number})
    assert found.status_code == 302 and found["Location"] == reverse("admin:staffing_person_change", args=[p.pk])
    page = client.get(found["Location"]).content.decode()
    assert p.id_number in page
    assert SecurityEvent.objects.filter(kind=Kind.ID_REVEAL, detail__where="admin_change").count() == 1
    other = b.id_number("19850505")
    data = {"id_number": other, "name": p.name, "education": "硕士", "phone": "", "community": qn.pk,
            "seats-TOTAL_FORMS": 0, "seats-INITIAL_FORMS": 0, "employments-TOTAL_FORMS": 1,
            "employments-INITIAL_FORMS": 1}
    job = p.employments.get()
    data.update({"employments-0-id": job.pk, "employments-0-person": p.pk, "employments-0-community": qn.pk,
                 "employments-0-full_time": "on", "employments-0-post": job.post, "employments-0-grade": job.grade,
                 "employments-0-entry_on": f"{job.entry_on:%Y-%m-%d}", "employments-0-entry_channel": job.entry_channel})
    response = client.post(reverse("admin:staffing_person_change", args=[p.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    p.refresh_from_db()
    assert p.id_number == other and p.birth_date == date(1985, 5, 5)
    assert Person.objects.with_id_number(other).get() == p
