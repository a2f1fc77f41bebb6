"""Third-party apps under Chinese names in the admin (their own verbose names are English)."""

from axes.apps import AppConfig as AxesAppConfig


class AxesConfig(AxesAppConfig):
    # The admin index heads each app's section with this; "AXES" meant nothing to a 管理员.
    verbose_name = "登录安全（失败与锁定记录）"
