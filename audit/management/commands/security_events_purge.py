"""Remove security events older than the retention period (at least 180 days).

This is the only way rows leave the audit log, and it goes around the
append-only guards on purpose: the model and its queryset refuse deletes, so
the rows are deleted with plain SQL; on PostgreSQL the trigger lets a DELETE
through only inside a transaction that set ``audit.purge = on`` and only for
rows older than 180 days, whatever this command is told.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from audit.models import MIN_RETENTION_DAYS, SecurityEvent


class Command(BaseCommand):
    help = "删除超过保存期限（至少180天）的安全审计记录。"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help=f"保存天数（默认 AUDIT_RETENTION_DAYS，不少于 {MIN_RETENTION_DAYS}）")
        parser.add_argument("--dry-run", action="store_true", help="只统计，不删除")

    def handle(self, *args, days=None, dry_run=False, **options):
        days = days if days is not None else getattr(settings, "AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS)
        if days < MIN_RETENTION_DAYS:
            raise CommandError(f"安全审计记录至少保存 {MIN_RETENTION_DAYS} 天，不能按 {days} 天清理。")
        cutoff = timezone.now() - timedelta(days=days)
        table = connection.ops.quote_name(SecurityEvent._meta.db_table)
        column = connection.ops.quote_name("when")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} < %s", [cutoff])
            count = cursor.fetchone()[0]
            if not dry_run and count:
                if connection.vendor == "postgresql":
                    cursor.execute("SET LOCAL audit.purge = 'on'")
                cursor.execute(f"DELETE FROM {table} WHERE {column} < %s", [cutoff])
        verb = "可删除" if dry_run else "已删除"
        self.stdout.write(f"{verb} {count} 条 {timezone.localtime(cutoff):%Y-%m-%d %H:%M} 之前的安全审计记录（保存 {days} 天）。")
