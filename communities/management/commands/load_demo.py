from django.core.management.base import BaseCommand

from communities.demo import load_demo


class Command(BaseCommand):
    help = "载入莲湖区真实的9个街道办事处和142个社区（国家统计局2023年区划代码），以及示例户数、人口和小区；可重复运行。"

    def handle(self, *args, **options):
        summary = load_demo()
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。"))
