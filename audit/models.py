"""The security audit log (等保2.0 安全审计): who did what, when, from where.

Rows are written once and never changed. The model refuses ``save`` of an
existing row, ``delete`` and queryset ``update``/``delete``; the database
refuses UPDATE and DELETE too (triggers in migration 0002), so neither the
application nor a stray admin action can rewrite history. Only the
``security_events_purge`` command removes rows, and only rows past the
retention period (at least 180 days).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

MIN_RETENTION_DAYS = 180


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a security event."""


class Kind(models.TextChoices):
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOCKOUT = "lockout", "账户锁定"
    LOGOUT = "logout", "退出"
    PERMISSION_CHANGE = "permission_change", "权限变更"
    GROUP_CHANGE = "group_change", "用户组变更"
    APPROVAL = "approval", "审批办理"
    IMPORT = "import", "数据导入"
    EXPORT = "export", "数据导出"
    PARAMETER_CHANGE = "parameter_change", "参数调整"
    PASSWORD_CHANGE = "password_change", "修改密码"
    # An administrator set another user's password (admin form or command); that user must change it at login.
    PASSWORD_RESET = "password_reset", "重置他人密码"
    TWO_FACTOR = "two_factor", "双因素认证"
    TWO_FACTOR_FAILED = "two_factor_failed", "双因素验证失败"
    # A signed-in user refused an object page or download (403, or 404 for another 街办's record).
    ACCESS_DENIED = "access_denied", "拒绝访问"
    # A hostile or unreadable upload refused before anything was parsed or written (zip bomb, macro, formula…).
    UPLOAD_REFUSED = "upload_refused", "拒绝上传"
    # A sweep started by a worker on someone's request (or by the nightly schedule).
    SWEEP = "sweep", "规则巡检"
    # An administrator asked for whole ID numbers (a person page or an export with reveal).
    ID_REVEAL = "id_reveal", "查看完整身份证号"


class SecurityEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("安全审计记录只能追加，不能修改。")

    def delete(self):
        raise AppendOnlyError("安全审计记录只能追加，不能删除；过期记录由 security_events_purge 清理。")


class SecurityEvent(models.Model):
    kind = models.CharField("事件类型", max_length=20, choices=Kind.choices, db_index=True)
    # No database constraint and no cascade: deleting a user must not touch (or be blocked by) the log;
    # the username is kept as written.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    username = models.CharField("用户名", max_length=150, blank=True)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    when = models.DateTimeField("时间", default=timezone.now, db_index=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        verbose_name = "安全审计记录"
        verbose_name_plural = "安全审计记录"
        ordering = ["-when", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=[k.value for k in Kind]), name="security_event_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.when):%Y-%m-%d %H:%M:%S} {self.get_kind_display()} {self.username}"

    def save(self, *args, **kwargs):
        if self.pk is not None or kwargs.get("force_update"):
            raise AppendOnlyError("安全审计记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("安全审计记录只能追加，不能删除；过期记录由 security_events_purge 清理。")
