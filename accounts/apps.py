from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与角色"

    def ready(self) -> None:
        from django.contrib.auth.management.commands import changepassword, createsuperuser

        from audit.context import audited_command

        from . import signals

        signals.connect()
        # Django's own commands that set a password: run them as audited commands, so the security log names
        # the command line and the account they set must change its password at first login.
        for command in (changepassword.Command, createsuperuser.Command):
            if not getattr(command.handle, "_lianhu_audited", False):
                command.handle = audited_command(command.handle)  # type: ignore[method-assign]
                command.handle._lianhu_audited = True  # type: ignore[attr-defined]
