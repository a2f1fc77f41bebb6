"""身份证号 at rest, step 2 of 3: every clear number is encrypted and its digest written.

Raw SQL on purpose: the model field would try to decrypt what is still clear text. Rows already encrypted
(a re-run) are left as they are. Backwards decrypts, so the schema step before it can be reversed."""

from django.db import migrations

BATCH = 1000


def encrypt_numbers(apps, schema_editor):
    from staffing import idcrypto, idnumbers

    connection = schema_editor.connection
    table = connection.ops.quote_name("staffing_person")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, id_number FROM {table}")
        rows = [(pk, value) for pk, value in cursor.fetchall()
                if value and not value.startswith(idcrypto.TOKEN_PREFIX)]
        updates = []
        for pk, value in rows:
            number = idnumbers.normalize(value)
            updates.append((idcrypto.encrypt(number), idcrypto.digest(number), pk))
        for start in range(0, len(updates), BATCH):
            cursor.executemany(f"UPDATE {table} SET id_number = %s, id_number_hash = %s WHERE id = %s",
                               updates[start:start + BATCH])


def decrypt_numbers(apps, schema_editor):
    from staffing import idcrypto

    connection = schema_editor.connection
    table = connection.ops.quote_name("staffing_person")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, id_number FROM {table}")
        updates = [(idcrypto.decrypt(value), pk) for pk, value in cursor.fetchall()
                   if value and value.startswith(idcrypto.TOKEN_PREFIX)]
        for start in range(0, len(updates), BATCH):
            cursor.executemany(f"UPDATE {table} SET id_number = %s, id_number_hash = NULL WHERE id = %s",
                               updates[start:start + BATCH])


class Migration(migrations.Migration):

    dependencies = [("staffing", "0003_person_id_number_encrypted_schema")]

    operations = [migrations.RunPython(encrypt_numbers, decrypt_numbers)]
