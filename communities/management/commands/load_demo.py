import time

from django.core.management.base import BaseCommand

from audit.context import audited_command
from communities.demo import load_demo


class Command(BaseCommand):
    help = (
        "载入莲湖区真实的9个街道办事处和142个社区（国家统计局2023年区划代码），以及示例户数、人口、小区、"
        "服务设施、经费和社区工作者；可重复运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--structure-only", action="store_true",
            help="只载入街办、社区、小区和调整记录，不载入服务设施、经费和人员（测试用，快得多）",
        )

    @audited_command
    def handle(self, *args, structure_only: bool = False, **options):
        started = last = time.monotonic()

        def progress(line: str) -> None:
            # Each stage as it finishes, with its own time: the whole demo takes a minute or more.
            nonlocal last
            now = time.monotonic()
            self.stdout.write(f"{line}（{now - last:.1f} 秒）")
            self.stdout.flush()
            last = now

        summary = load_demo(other_apps=not structure_only, progress=progress)
        progress("复核完毕")
        for line in summary.closing_lines():
            self.stdout.write(line)
        self.stdout.write(f"共用时 {time.monotonic() - started:.1f} 秒。")
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。"))
