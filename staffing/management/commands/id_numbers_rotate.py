"""Re-encrypt every stored ID number under the first DJANGO_FIELD_ENCRYPTION_KEY (and, with --rehash,
recompute the look-up digests under DJANGO_FIELD_HASH_KEY). docs/deployment.md, "身份证号加密密钥", gives the
order of steps; prints counts only, never a number."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from audit.context import audited_command

BATCH = 1000


class Command(BaseCommand):
    help = "用当前第一个加密密钥重新加密全部身份证号；--rehash 同时按当前摘要密钥重算摘要。"

    def add_arguments(self, parser):
        parser.add_argument("--rehash", action="store_true", help="按 DJANGO_FIELD_HASH_KEY 重算摘要列")

    @audited_command
    def handle(self, *args, rehash: bool = False, **options):
        from staffing import idcrypto, idnumbers

        table = connection.ops.quote_name("staffing_person")
        done = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT id, id_number FROM {table} ORDER BY id FOR UPDATE" if connection.vendor ==
                           "postgresql" else f"SELECT id, id_number FROM {table} ORDER BY id")
            rows = cursor.fetchall()
            for start in range(0, len(rows), BATCH):
                updates: list[tuple] = []
                for pk, token in rows[start:start + BATCH]:
                    if rehash:
                        number = idnumbers.normalize(idcrypto.decrypt(token))
                        updates.append((idcrypto.encrypt(number), idcrypto.digest(number), pk))
                    else:
                        updates.append((idcrypto.rotate(token), pk))
                sql = (f"UPDATE {table} SET id_number = %s, id_number_hash = %s WHERE id = %s" if rehash
                       else f"UPDATE {table} SET id_number = %s WHERE id = %s")
                cursor.executemany(sql, updates)
                done += len(updates)
        self.stdout.write(f"已重新加密 {done} 个身份证号" + ("，并重算摘要。" if rehash else "。"))
