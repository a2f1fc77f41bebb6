"""Which district unit a user works for.

The clauses name units, not roles: 资源规划莲湖分局 approves a facility's
planning, 区住建局 or 大兴新区管委会 accepts it, 区民政局 hands it over, 区财政局
and 区民政局 enter funding. A 部门用户 acts only on the steps of the unit(s)
recorded here; the 区民政局审核员 role is itself of 区民政局.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Unit(models.TextChoices):
    PLANNING = "planning", "资源规划莲湖分局"
    HOUSING = "housing", "区住建局"
    DAXING = "daxing", "大兴新区管委会"
    CIVIL_AFFAIRS = "civil_affairs", "区民政局"
    FINANCE = "finance", "区财政局"


class DepartmentMembership(models.Model):
    # Indexed as the first column of department_membership_unique.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, db_index=False,
        related_name="department_units"
    )
    unit = models.CharField("单位", max_length=20, choices=Unit.choices)

    class Meta:
        verbose_name = "部门用户所属单位"
        verbose_name_plural = "部门用户所属单位"
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="department_membership_unique"),
            models.CheckConstraint(condition=models.Q(unit__in=[u.value for u in Unit]), name="department_unit_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_unit_display()}"


def units_of(user) -> set[str]:
    """The units a user acts for; reviewers and administrators are 区民政局."""
    from accounts.access import access_of
    from accounts.roles import is_reviewer

    if user is None or not user.is_authenticated:
        return set()
    units = set(access_of(user).units)
    if is_reviewer(user):
        units.add(Unit.CIVIL_AFFAIRS.value)
    return units


class AccountSecurity(models.Model):
    """Per-account password state kept beside Django's user (which the project does not replace).

    ``must_change_password`` is set when someone other than the user chose the password (an administrator
    in the admin, or ``createsuperuser``/``changepassword`` on the command line) and cleared when the user
    picks their own; until then every page sends them to the password-change page.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, primary_key=True,
        related_name="account_security",
    )
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)
    password_changed_at = models.DateTimeField("本人上次修改密码", null=True, blank=True)
    password_set_by = models.CharField("密码设置人", max_length=150, blank=True,
                                       help_text="最近一次由他人（管理员或命令行）设置密码时的操作人")

    class Meta:
        verbose_name = "账户安全状态"
        verbose_name_plural = "账户安全状态"

    def __str__(self) -> str:
        return f"{self.user} · {'须修改密码' if self.must_change_password else '正常'}"
