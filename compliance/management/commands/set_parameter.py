import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.context import audited_command
from compliance.parameters import param_label
from compliance.services import rule_parameter_set


class Command(BaseCommand):
    help = ("从某一日期起设置规则参数，与规则目录页面上的调整相同：旧值及其日期保留，"
            "之前日期的评估仍用旧值；记入安全审计日志。")

    def add_arguments(self, parser):
        parser.add_argument("rule_id", help="规则编号，如 M04.households")
        parser.add_argument("name", help="参数名，如 max_households")
        parser.add_argument("value", help="新取值")
        parser.add_argument("--from", dest="effective_from", required=True, help="生效日期 YYYY-MM-DD")
        parser.add_argument("--reason", required=True, help="调整理由")
        parser.add_argument("--user", help="以该用户名记录（默认：命令行）")

    @audited_command
    def handle(self, *args, rule_id: str, name: str, value: str, effective_from: str, reason: str,
               user: str | None, **options):
        try:
            day = dt.date.fromisoformat(effective_from)
        except ValueError:
            raise CommandError(f"生效日期“{effective_from}”不是 YYYY-MM-DD 格式。", returncode=1) from None
        acting = None
        if user:
            acting = get_user_model().objects.filter(username=user).first()
            if acting is None:
                raise CommandError(f"没有用户“{user}”。", returncode=1)
        try:
            parameter = rule_parameter_set(rule_id=rule_id, name=name, value=value, effective_from=day,
                                           user=acting, reason=reason)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages), returncode=1) from None
        self.stdout.write(self.style.SUCCESS(
            f"已设置 {rule_id} 的“{param_label(name)}”为 {parameter.value}，自 {day:%Y-%m-%d} 起生效。"))
