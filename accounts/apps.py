from django.apps import AppConfig


class AccountsConfig(AppConfig):
    # This module also holds django-otp's configs (below): say which one "accounts" in INSTALLED_APPS means.
    default = True
    name = "accounts"
    verbose_name = "用户与角色"

    def ready(self) -> None:
        from django.contrib.auth.management.commands import changepassword, createsuperuser

        from audit.context import audited_command

        from . import access, signals

        signals.connect()
        access.connect()
        # Django's own commands that set a password: run them as audited commands, so the security log names
        # the command line and the account they set must change its password at first login.
        for command in (changepassword.Command, createsuperuser.Command):
            if not getattr(command.handle, "_lianhu_audited", False):
                command.handle = audited_command(command.handle)  # type: ignore[method-assign]
                command.handle._lianhu_audited = True  # type: ignore[attr-defined]


# django-otp's apps carry no verbose name (the admin showed "Otp_Totp"); the models' own names stay as shipped,
# since changing their Meta would ask for migrations inside django-otp.
from django_otp.plugins.otp_static.apps import DefaultConfig as _StaticConfig  # noqa: E402
from django_otp.plugins.otp_totp.apps import DefaultConfig as _TotpConfig  # noqa: E402


def _chinese_model_names(config: AppConfig, names: dict[str, str]) -> None:
    # The admin index read "TOTP devices"/"Static devices". Set on _meta at start-up, not in Meta:
    # migrations read Meta's original attributes, so nothing is asked of django-otp's migrations.
    for model_name, label in names.items():
        meta = config.get_model(model_name)._meta
        meta.verbose_name = meta.verbose_name_plural = label


class OtpTotpConfig(_TotpConfig):
    verbose_name = "双因素认证：身份验证器"

    def ready(self) -> None:
        super().ready()
        _chinese_model_names(self, {"TOTPDevice": "身份验证器设备"})


class OtpStaticConfig(_StaticConfig):
    verbose_name = "双因素认证：恢复码"

    def ready(self) -> None:
        super().ready()
        _chinese_model_names(self, {"StaticDevice": "恢复码设备", "StaticToken": "恢复码"})
