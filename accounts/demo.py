"""Demo logins, one per role, for a development machine."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .models import DepartmentMembership, Unit
from .roles import Role, ensure_role_groups

# One fixed development password, strong enough for the validators (≥10
# characters, upper, lower, digit and symbol) so it also works where they run.
DEMO_PASSWORD = "Lianhu@2024demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    scope: str
    password: str = DEMO_PASSWORD


@dataclass(frozen=True)
class _Spec:
    username: str
    display: str
    role: Role
    street_name: str | None = None
    superuser: bool = False
    unit: Unit | None = None  # 部门用户: the unit whose steps and records they handle


SPECS = [
    _Spec("qingnian", "青年路街道办事员", Role.CLERK, street_name="青年路街道"),
    _Spec("zaoyuan", "枣园街道办事员", Role.CLERK, street_name="枣园街道"),
    _Spec("reviewer", "区民政局审核员", Role.REVIEWER),
    _Spec("guihua", "资源规划莲湖分局部门用户", Role.DEPARTMENT, unit=Unit.PLANNING),
    _Spec("zhujian", "区住建局部门用户", Role.DEPARTMENT, unit=Unit.HOUSING),
    _Spec("daxing", "大兴新区管委会部门用户", Role.DEPARTMENT, unit=Unit.DAXING),
    _Spec("caizheng", "区财政局部门用户", Role.DEPARTMENT, unit=Unit.FINANCE),
    _Spec("admin", "系统管理员", Role.ADMIN, superuser=True),
]


def _street(name: str):
    """The 街办 by name; created from the NBS list when load_demo has not run yet."""
    from communities.demo import read_structure
    from communities.models import SubDistrict
    from communities.services import sub_district_upsert

    street = SubDistrict.objects.filter(name=name).first()
    if street is not None and street.clerk_group_id:
        return street
    code = next(r.street_code for r in read_structure() if r.street_name == name)
    return sub_district_upsert(code=code, name=name)


def demo_users_ensure() -> list[DemoLogin]:
    """Create or repair the demo users; a second run changes nothing."""
    User = get_user_model()
    logins = []
    hashed = ""  # one hash of the one public password for every new demo user: each costs a third of a second
    with transaction.atomic():
        groups = ensure_role_groups()
        for spec in SPECS:
            user, created = User.objects.get_or_create(username=spec.username)
            wanted = {
                "last_name": spec.display,
                "is_active": True,
                "is_staff": spec.superuser,
                "is_superuser": spec.superuser,
            }
            dirty = created
            for name, value in wanted.items():
                if getattr(user, name) != value:
                    setattr(user, name, value)
                    dirty = True
            if created or not user.check_password(DEMO_PASSWORD):
                validate_password(DEMO_PASSWORD, user)
                hashed = hashed or make_password(DEMO_PASSWORD)
                user.password = hashed
                dirty = True
            if dirty:
                user.save()
            user.groups.add(groups[spec.role])
            scope = "全区"
            if spec.street_name:
                street = _street(spec.street_name)
                user.groups.add(street.clerk_group)
                scope = street.name
            if spec.unit:
                DepartmentMembership.objects.get_or_create(user=user, unit=spec.unit)
                scope = spec.unit.label
            logins.append(DemoLogin(username=spec.username, role=spec.role.value, scope=scope))
    return logins
