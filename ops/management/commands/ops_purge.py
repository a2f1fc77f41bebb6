"""Delete what the retention parameters no longer keep, in batches (see ops/retention.py)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ops import retention


class Command(BaseCommand):
    help = "按保存期限（日期生效的参数，键 retention）分批删除过期的已整改问题、巡检记录、后台任务记录和安全审计记录。"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=retention.BATCH, help="每批删除的行数")
        parser.add_argument("--dry-run", action="store_true", help="只统计，不删除")

    def handle(self, *args, batch: int, dry_run: bool, **options):
        if batch < 1:
            raise CommandError("每批行数至少为 1。")
        verb = "可删除" if dry_run else "已删除"
        for r in retention.purge(batch=batch, dry_run=dry_run):
            batches = "" if dry_run else f"，分 {r.batches} 批"
            self.stdout.write(f"{r.label}：保存 {r.days} 天，{verb} {r.deleted:,} 条{batches}")
