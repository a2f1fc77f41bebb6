import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.context import audited_command
from audit.models import Kind
from audit.services import security_event_record
from compliance.workbook import findings_as_of, write_compliance_workbook
from core.writer import XlsxBook


class Command(BaseCommand):
    help = "写出合规工作簿：汇总表（街办 × 措施，按严重程度计数，注明评估日期和所依据的巡检）和每项措施一张问题清单。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="输出的 .xlsx 文件")
        parser.add_argument("--as-of", dest="as_of", help="评估日期 YYYY-MM-DD（默认：最近一次巡检的评估日期）")

    @audited_command
    def handle(self, *args, file: str, as_of: str | None, **options):
        day = None
        if as_of:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError:
                raise CommandError(f"评估日期“{as_of}”不是 YYYY-MM-DD 格式。", returncode=1) from None
        if not file.lower().endswith(".xlsx"):
            raise CommandError("输出文件名应以 .xlsx 结尾。", returncode=1)
        book = XlsxBook(file)
        try:
            written = write_compliance_workbook(book, as_of=day)
        finally:
            book.close()
        total = sum(written.values())
        _findings, evaluated, sweep = findings_as_of(None, day)
        security_event_record(
            kind=Kind.EXPORT,
            detail={"file": str(Path(file).resolve()), "export": "compliance", "as_of": evaluated,
                    "as_of_requested": day, "sweep": sweep.pk if sweep is not None else None, "rows": total,
                    "sheets": len(written)},
        )
        self.stdout.write(self.style.SUCCESS(f"已写出 {file}：{total} 条问题，{len(written)} 个措施工作表。"))
