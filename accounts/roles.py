"""The four roles of docs/design.md, as Django groups.

A clerk belongs to the shared 街办办事员 group (model-level add rights) and to
their own 街办's group (object permissions on that 街办's records, granted by
guardian). Reviewers and department users hold global view permissions, so
guardian's ``accept_global_perms`` lets them read everything.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractUser, AnonymousUser, Group, Permission


class Role(StrEnum):
    CLERK = "街办办事员"
    REVIEWER = "区民政局审核员"
    DEPARTMENT = "部门用户"
    ADMIN = "管理员"


ROLE_LABELS = {
    Role.CLERK: "街办办事员",
    Role.REVIEWER: "区民政局审核员",
    Role.DEPARTMENT: "部门用户",
    Role.ADMIN: "管理员",
}

# Model-level permissions per role ("app_label.codename"). Object-level rights
# of clerks come from their 街办 group, not from here.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.CLERK: [
        "communities.add_community",
        "communities.add_compound",
        "communities.add_communityadjustment",
    ],
    Role.REVIEWER: [
        "communities.view_subdistrict",
        "communities.view_community",
        "communities.view_compound",
        "communities.view_communityadjustment",
    ],
    Role.DEPARTMENT: [
        "communities.view_subdistrict",
        "communities.view_community",
        "communities.view_compound",
    ],
    Role.ADMIN: [],  # administrators are superusers
}

CLERK_GROUP_PREFIX = "街办办事员·"


def clerk_group_name(sub_district_name: str) -> str:
    return f"{CLERK_GROUP_PREFIX}{sub_district_name}"


def register_role_permissions(role: Role, perms: list[str]) -> None:
    """Lets a later app add its own model-level permissions to a role."""
    ROLE_PERMISSIONS.setdefault(role, []).extend(p for p in perms if p not in ROLE_PERMISSIONS[role])


def ensure_role_groups() -> dict[Role, Group]:
    """Create the role groups and (re)grant their model-level permissions; idempotent. The permissions are read
    in one query (every test's fixtures and every deploy run this)."""
    dotted = {p for perms in ROLE_PERMISSIONS.values() for p in perms}
    found = {f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")
             .filter(codename__in={d.split(".", 1)[1] for d in dotted},
                     content_type__app_label__in={d.split(".", 1)[0] for d in dotted})}
    missing = sorted(dotted - set(found))
    if missing:
        raise Permission.DoesNotExist(f"no such permission: {', '.join(missing)}")
    groups = {}
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.add(*[found[p] for p in ROLE_PERMISSIONS.get(role, [])])
        groups[role] = group
    return groups


def roles_of(user: AbstractUser | AnonymousUser) -> set[Role]:
    from .access import access_of

    if not user.is_authenticated:
        return set()
    names = access_of(user).group_names
    roles = {role for role in Role if role.value in names}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    return roles


def has_role(user, role: Role) -> bool:
    return role in roles_of(user)


def is_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or has_role(user, Role.ADMIN))


def is_reviewer(user) -> bool:
    return has_role(user, Role.REVIEWER) or is_admin(user)


def is_clerk(user) -> bool:
    return has_role(user, Role.CLERK)


def is_clerk_of(user, sub_district_code: str) -> bool:
    """Whether the user is in that 街办's clerk group (from the access snapshot: no query on most pages)."""
    from .access import access_of

    return user.is_authenticated and sub_district_code in access_of(user).clerk_streets


def is_department(user) -> bool:
    return has_role(user, Role.DEPARTMENT)
