"""The status page's checks for cron, a systemd timer or a monitor: exit 0 when all is well, 1 when not."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

from django.core.mail import mail_admins
from django.core.management.base import BaseCommand

from ops import health

# The same failing checks mail again after this long; a change in which checks fail mails at once.
MAIL_AGAIN_AFTER = 3600


class Command(BaseCommand):
    help = "检查数据库、Redis、Celery worker 和 beat、夜间巡检、任务队列和附件存储空间；有异常时退出码为 1。"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        parser.add_argument("--mail", action="store_true", help="有异常时给 ADMINS 发邮件（同样的异常每小时至多一封）")
        parser.add_argument("--state", default="", help="记住上次发信的文件（与 --mail 一起用）")

    def handle(self, *args, **options):
        checks = health.full_status()
        ok = all(c.ok for c in checks)
        lines = [f"{'正常' if c.ok else '异常'}  {c.label}：{c.detail}" for c in checks]
        if options["json"]:
            self.stdout.write(json.dumps({"ok": ok, "checks": [c.as_dict() for c in checks]}, ensure_ascii=False))
        else:
            for line in lines:
                self.stdout.write(line)
            self.stdout.write("全部正常" if ok else "有异常")
        if not ok and options["mail"]:
            failing = sorted(c.key for c in checks if not c.ok)
            if self._due(options["state"], failing):
                labels = "、".join(c.label for c in checks if not c.ok)
                mail_admins(f"运行状态异常：{labels}", "\n".join(lines), fail_silently=True)
        if not ok:
            raise SystemExit(1)

    @staticmethod
    def _due(state: str, failing: list[str]) -> bool:
        if not state:
            return True
        path = Path(state)
        try:
            last = json.loads(path.read_text())
        except (OSError, ValueError):
            last = {}
        if last.get("failing") == failing and time.time() - float(last.get("at", 0)) < MAIL_AGAIN_AFTER:
            return False
        with contextlib.suppress(OSError):
            path.write_text(json.dumps({"failing": failing, "at": time.time()}))
        return True
