"""The four roles of docs/design.md, as Django groups.

A clerk belongs to the shared 街办办事员 group (model-level add rights) and to
their own 街办's group (object permissions on that 街办's records, granted by
guardian). Reviewers and department users hold global view permissions, so
guardian's ``accept_global_perms`` lets them read everything.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractUser, AnonymousUser, Group, Permission
from django.db import transaction

from audit.models import Kind
from audit.services import group_created_detail, m2m_detail, security_events_record

from .access import access_changed


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
    """Create the role groups and (re)grant their model-level permissions; idempotent. A handful of queries
    whatever is missing (every test's fixtures and every deploy run this): the permissions, groups and grants
    are read in one query each and what is missing is written in one INSERT each. Bulk writes send no signals,
    so the security events the receivers would have written (audit/signals.py) and the new access generation
    are written here."""
    dotted = {p for perms in ROLE_PERMISSIONS.values() for p in perms}
    found = {f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")
             .filter(codename__in={d.split(".", 1)[1] for d in dotted},
                     content_type__app_label__in={d.split(".", 1)[0] for d in dotted})}
    missing = sorted(dotted - set(found))
    if missing:
        raise Permission.DoesNotExist(f"no such permission: {', '.join(missing)}")
    with transaction.atomic():
        by_name = {group.name: group for group in Group.objects.filter(name__in=[role.value for role in Role])}
        new = [Group(name=role.value) for role in Role if role.value not in by_name]
        if new:
            Group.objects.bulk_create(new)
            by_name.update((group.name, group) for group in new)
            security_events_record(kind=Kind.GROUP_CHANGE, details=[group_created_detail(g.name) for g in new])
        groups = {role: by_name[role.value] for role in Role}
        through = Group.permissions.through
        held = set(through.objects.filter(group__in=groups.values()).values_list("group_id", "permission_id"))
        grants, details = [], []
        for role, group in groups.items():
            wanted = {dotted_name: found[dotted_name] for dotted_name in ROLE_PERMISSIONS.get(role, [])}
            added = sorted(name for name, perm in wanted.items() if (group.pk, perm.pk) not in held)
            if added:
                grants += [through(group_id=group.pk, permission_id=wanted[name].pk) for name in added]
                details.append(m2m_detail("add", "group.permissions", {"group": group.name, "permissions": added}))
        if grants:
            through.objects.bulk_create(grants)
            security_events_record(kind=Kind.PERMISSION_CHANGE, details=details)
        if new or grants:
            access_changed()
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
