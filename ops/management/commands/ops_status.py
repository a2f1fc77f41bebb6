"""The status page's checks for cron or a monitor: exit 0 when all is well, 1 when something is wrong."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from ops import health


class Command(BaseCommand):
    help = "检查数据库、Redis、Celery worker 和 beat、夜间巡检、任务队列和附件存储空间；有异常时退出码为 1。"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    def handle(self, *args, **options):
        checks = health.full_status()
        ok = all(c.ok for c in checks)
        if options["json"]:
            self.stdout.write(json.dumps({"ok": ok, "checks": [c.as_dict() for c in checks]}, ensure_ascii=False))
        else:
            for c in checks:
                self.stdout.write(f"{'正常' if c.ok else '异常'}  {c.label}：{c.detail}")
            self.stdout.write("全部正常" if ok else "有异常")
        if not ok:
            raise SystemExit(1)
