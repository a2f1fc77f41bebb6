from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import demo_users_ensure
from approvals.demo import demo_requests_ensure
from audit.context import audited_command


def _pad(text: str, width: int) -> str:
    # Chinese characters take two columns in a terminal.
    shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return text + " " * max(width - shown, 0)


class Command(BaseCommand):
    help = (
        "为每个角色创建一个演示用户（青年路街道办事员、枣园街道办事员、区民政局审核员、资源规划莲湖分局、区住建局、"
        "大兴新区管委会、区财政局的部门用户、管理员）并打印登录信息；可重复运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="在 DEBUG 关闭时也创建（演示密码是公开的，生产环境切勿使用）"
        )

    @audited_command
    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG 未开启：演示用户使用公开的密码，生产环境不应创建。确需创建请加 --force。"
            )
        logins = demo_users_ensure()
        # Work in progress needs its users: the 青年路 clerk's 新设 request waits at step 2.
        in_progress = demo_requests_ensure(clerk=get_user_model().objects.get(username="qingnian"))
        # The table comes last: under `make run` it is what sits just above the server's address.
        for line in in_progress:
            self.stdout.write(line)
        columns = [("角色", 16), ("范围", 18), ("用户名", 12), ("密码", 18)]
        self.stdout.write("演示用户登录信息：")
        self.stdout.write("".join(_pad(title, width) for title, width in columns).rstrip())
        self.stdout.write("-" * sum(width for _t, width in columns))
        for login in logins:
            cells = [login.role, login.scope, login.username, login.password]
            self.stdout.write("".join(_pad(c, w) for c, (_t, w) in zip(cells, columns, strict=True)).rstrip())
