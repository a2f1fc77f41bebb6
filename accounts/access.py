"""What a user may do, read once and kept: their groups, model-level permissions, department units and the 街办
whose clerk group they are in.

Every page asked the database for these again: the role (groups), Django's ModelBackend (the user's and their
groups' permissions), the department units, and one "is this the user's 街办" query per facility step — four to
seven of a page's ten to fifteen queries, the same answer on every page of the session. They change only when an
administrator changes the user, a group or a membership.

So the snapshot is kept in the cache (Redis in production, shared by every process; a per-process cache only
under DJANGO_DEBUG, one process: settings.ACCESS_SNAPSHOT_SHARED) under a key that names a generation; any change
to those tables — through the admin, guardian, the demo or a service — starts a new generation (the receivers
below), and a snapshot of an older generation is never read again. A missing generation
(the cache restarted or evicted it) is a new one, so nothing older can be mistaken for current. The snapshot is
also kept on the user object for the rest of the request.

Object permissions (which 街办 a clerk holds, and through them its communities) are not part of it:
``communities.selectors`` reads them with one small statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

GENERATION_KEY = "lianhu:access:generation"
# A backstop only: any change starts a new generation at once.
SNAPSHOT_SECONDS = 15 * 60


@dataclass(frozen=True)
class Access:
    group_names: frozenset[str]
    user_perms: frozenset[str]  # "app_label.codename", as ModelBackend spells them
    group_perms: frozenset[str]
    units: frozenset[str]  # DepartmentMembership.unit values
    clerk_streets: frozenset[str]  # codes of the 街办 whose clerk group the user is in


def _generation() -> str:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        generation = cache.get(GENERATION_KEY) or "uncached"
    return generation


def _read(user) -> Access:
    from .models import DepartmentMembership

    groups = list(user.groups.values_list("name", "sub_district__code"))

    def perms(queryset) -> frozenset[str]:
        return frozenset(f"{app}.{codename}" for app, codename in
                         queryset.values_list("content_type__app_label", "codename"))

    return Access(
        group_names=frozenset(name for name, _code in groups),
        user_perms=perms(Permission.objects.filter(user=user)),
        group_perms=perms(Permission.objects.filter(group__user=user)),
        units=frozenset(DepartmentMembership.objects.filter(user=user).values_list("unit", flat=True)),
        clerk_streets=frozenset(code for _name, code in groups if code),
    )


def access_of(user) -> Access:
    """The user's snapshot: from the user object, else the cache, else the database (four small queries)."""
    access = getattr(user, "_access", None)
    if access is not None:
        return access
    if settings.ACCESS_SNAPSHOT_SHARED:
        # The generation and the user's snapshot (stored with the generation it was read in) in one round trip
        # to the cache: every page asks.
        key = f"lianhu:access:{user.pk}"
        held = cache.get_many([GENERATION_KEY, key])
        generation = held.get(GENERATION_KEY) or _generation()
        stored = held.get(key)
        if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == generation:
            access = stored[1]
        else:
            access = _read(user)
            cache.set(key, (generation, access), SNAPSHOT_SECONDS)
    else:
        access = _read(user)
    user._access = access
    if user.is_active and not user.is_superuser:
        # ModelBackend keeps what it reads on the user under these names and reads nothing when they are set
        # (django.contrib.auth.backends.ModelBackend._get_permissions / get_all_permissions).
        user._user_perm_cache = set(access.user_perms)
        user._group_perm_cache = set(access.group_perms)
        user._perm_cache = set(access.user_perms | access.group_perms)
    return access


def forget_access(user) -> None:
    """Drop what this user object holds, e.g. after changing its groups within one request or test."""
    for name in ("_access", "_user_perm_cache", "_group_perm_cache", "_perm_cache"):
        user.__dict__.pop(name, None)


def access_changed() -> None:
    """Start a new generation now and again when the transaction commits: a process that read the tables
    between the two (before the change was visible) stored its snapshot under the first new generation only."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, None))


def _changed(sender, **kwargs) -> None:
    action = kwargs.get("action")  # m2m_changed only
    if action is not None and (not action.startswith("post_") or (action != "post_clear" and not kwargs["pk_set"])):
        return  # before the change, or an add()/remove() of nothing
    access_changed()


def _user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    # A sign-in saves last_login only; anything else may change is_active or is_superuser.
    if created or update_fields is None or not set(update_fields) <= {"last_login", "password"}:
        access_changed()


def watch(*models) -> None:
    """Start a new generation whenever a row of these models is saved or deleted (an app whose table decides
    what the snapshot holds registers it: communities' 街办 name their clerk group)."""
    for model in models:
        label = model._meta.label_lower
        post_save.connect(_changed, sender=model, dispatch_uid=f"access_save_{label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"access_delete_{label}")


def connect() -> None:
    from .models import DepartmentMembership

    User = get_user_model()
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"access_{through._meta.label_lower}")
    watch(Group, Permission, DepartmentMembership)
    post_save.connect(_user_saved, sender=User, dispatch_uid="access_user_saved")
    post_delete.connect(_changed, sender=User, dispatch_uid="access_user_deleted")
