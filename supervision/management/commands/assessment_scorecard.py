import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from supervision.assessment import AREAS, scorecard


class Command(BaseCommand):
    help = ("年度目标责任考核（措施二十）：按记录为 9 个街办和措施所列区级部门在六个方面计分、排名。"
            "--json 时每个单位输出一行 JSON。计分办法见系统“考核办法”页和 docs/design.md。")

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, help="考核年度，如 2026")
        parser.add_argument("--json", action="store_true", help="每个单位一行 JSON")
        parser.add_argument("--as-of", dest="as_of",
                            help="按该日的记录计分 YYYY-MM-DD（默认：该年 12 月 31 日与今天中较早者）")

    def handle(self, *args, year: int, json: bool = False, as_of: str | None = None, **options):
        if not 2000 <= year <= 2100:
            raise CommandError(f"年度“{year}”不合理。", returncode=1)
        day = None
        if as_of:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError:
                raise CommandError(f"日期“{as_of}”不是 YYYY-MM-DD 格式。", returncode=1) from None
            if day.year != year:
                raise CommandError(f"日期 {day:%Y-%m-%d} 不在 {year} 年内。", returncode=1)
        cards = scorecard(year, as_of=day)
        if json:
            for card in cards:
                self.stdout.write(_dumps(card.as_json()))
            return
        self.stdout.write(f"{year}年度目标责任考核（{'、'.join(AREAS)}，总分为六方面平均）")
        for card in cards:
            areas = " ".join(f"{a}{card.areas[a]}" for a in AREAS)
            self.stdout.write(f"{card.kind} 第{card.rank}名 {card.unit} 总分{card.total}：{areas}")


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)
