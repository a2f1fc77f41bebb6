from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from audit.context import audited_command
from audit.models import Kind
from audit.services import security_event_record
from imports.services import workbook_import


class Command(BaseCommand):
    help = (
        "导入工作簿（.xlsx，工作表名为 社区、小区 等），或一次一个工作表的 CSV（文件名即工作表名，或用 --sheet 指定）。"
        "全部成功才写入：任何一行有错，什么都不写，逐条打印“工作表 第N行 列: 说明”并以状态 1 退出。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=".xlsx 工作簿或 .csv 文件")
        parser.add_argument("--dry-run", action="store_true", help="只检查并列出将新增、更新的记录，不写入")
        parser.add_argument("--sheet", help="只导入这个工作表；CSV 文件名不是工作表名时必须指定")
        parser.add_argument("--user", help="以该用户名导入：记入修改历史，并按其权限限制范围")

    @audited_command
    def handle(self, *args, file: str, dry_run: bool, sheet: str | None, user: str | None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}", returncode=1)
        acting = None
        if user:
            acting = get_user_model().objects.filter(username=user).first()
            if acting is None:
                raise CommandError(f"没有用户“{user}”。", returncode=1)

        result = workbook_import(file=path, user=acting, dry_run=dry_run, sheet=sheet)

        for issue in result.issues:
            self.stderr.write(str(issue))
        for name in result.skipped_sheets:
            self.stdout.write(f"跳过工作表“{name}”：不是可导入的工作表。")
        if not result.ok:
            raise CommandError(f"导入失败：共 {len(result.issues)} 处错误，未写入任何数据。", returncode=1)

        verb = "将" if dry_run else "已"
        for sheet_result in result.sheets:
            self.stdout.write(
                f"{sheet_result.name}：共 {sheet_result.rows} 行，{verb}新增 {len(sheet_result.created)}，"
                f"{verb}更新 {len(sheet_result.updated)}，无变化 {len(sheet_result.unchanged)}"
            )
            if dry_run:
                if sheet_result.created:
                    self.stdout.write(f"  将新增：{'、'.join(sheet_result.created)}")
                if sheet_result.updated:
                    self.stdout.write(f"  将更新：{'、'.join(sheet_result.updated)}")
        if dry_run:
            self.stdout.write(self.style.WARNING("试运行：没有写入任何数据。"))
        else:
            security_event_record(
                kind=Kind.IMPORT, user=acting,
                detail={"file": str(path.resolve()), "sheet": sheet or "",
                        "sheets": {r.name: {"created": len(r.created), "updated": len(r.updated)}
                                   for r in result.sheets}},
            )
            self.stdout.write(self.style.SUCCESS("导入完成。"))
