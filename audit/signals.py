"""Receivers that turn authentication and permission changes into security events."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from guardian.models import GroupObjectPermission, UserObjectPermission

from .models import Kind
from .services import security_event_record

User = get_user_model()


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs):
    security_event_record(kind=Kind.LOGIN, user=user, request=request)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        security_event_record(kind=Kind.LOGOUT, user=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password in ``credentials`` with asterisks; only the name is kept.
    username = str(credentials.get("username") or "")
    security_event_record(kind=Kind.LOGIN_FAILED, username=username, request=request,
                          detail={"username": username})


@receiver(user_locked_out, dispatch_uid="audit_lockout")
def _locked_out(sender, request, username, ip_address, **kwargs):
    security_event_record(kind=Kind.LOCKOUT, username=username or "", request=request, ip=ip_address,
                          detail={"username": username, "ip": ip_address})


def _names(model, pk_set) -> list[str]:
    if not pk_set:
        return []
    if model is Group:
        return sorted(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
    if model is User:
        return sorted(User.objects.filter(pk__in=pk_set).values_list(User.USERNAME_FIELD, flat=True))
    rows = model.objects.filter(pk__in=pk_set).values_list("content_type__app_label", "codename")
    return sorted(f"{app}.{codename}" for app, codename in rows)


_VERB = {"post_add": "add", "post_remove": "remove", "post_clear": "clear"}


def _m2m(kind: Kind, subject: str, label: str, field: str):
    def receiver_(sender, instance, action, reverse, model, pk_set, **kwargs):
        if action not in _VERB:
            return
        if reverse:
            # e.g. group.user_set.add(user): the instance is the other side.
            detail = {field: [str(instance)], subject: _names(model, pk_set)}
        else:
            detail = {subject: str(instance), field: _names(model, pk_set)}
        security_event_record(kind=kind, detail={"action": _VERB[action], "on": label, **detail})

    return receiver_


_user_groups = _m2m(Kind.GROUP_CHANGE, "user", "user.groups", "groups")
_user_perms = _m2m(Kind.PERMISSION_CHANGE, "user", "user.user_permissions", "permissions")
_group_perms = _m2m(Kind.PERMISSION_CHANGE, "group", "group.permissions", "permissions")
m2m_changed.connect(_user_groups, sender=User.groups.through, dispatch_uid="audit_user_groups")
m2m_changed.connect(_user_perms, sender=User.user_permissions.through, dispatch_uid="audit_user_perms")
m2m_changed.connect(_group_perms, sender=Group.permissions.through, dispatch_uid="audit_group_perms")


def _object_permission(instance, action: str) -> None:
    holder = getattr(instance, "group", None) or getattr(instance, "user", None)
    security_event_record(
        kind=Kind.PERMISSION_CHANGE,
        detail={
            "action": action,
            "on": "object_permission",
            "holder": str(holder),
            "permission": f"{instance.permission.content_type.app_label}.{instance.permission.codename}",
            "object": f"{instance.content_type.app_label}.{instance.content_type.model}:{instance.object_pk}",
        },
    )


@receiver(post_save, sender=UserObjectPermission, dispatch_uid="audit_user_obj_perm_save")
@receiver(post_save, sender=GroupObjectPermission, dispatch_uid="audit_group_obj_perm_save")
def _object_permission_saved(sender, instance, created, **kwargs):
    _object_permission(instance, "add" if created else "change")


@receiver(post_delete, sender=UserObjectPermission, dispatch_uid="audit_user_obj_perm_delete")
@receiver(post_delete, sender=GroupObjectPermission, dispatch_uid="audit_group_obj_perm_delete")
def _object_permission_deleted(sender, instance, **kwargs):
    _object_permission(instance, "remove")


def _upload_finished(sender, instance, **kwargs):
    """A workbook imported through the web (imports.StoredUpload reaching its final state)."""
    update_fields = kwargs.get("update_fields")
    if getattr(instance, "state", "") != "imported" or (update_fields is not None and "state" not in update_fields):
        return
    security_event_record(
        kind=Kind.IMPORT, user=instance.user,
        detail={"via": "web", "file": instance.filename, "sheet": instance.sheet, "summary": instance.summary},
    )


def _connect_imports() -> None:
    try:
        from imports.models import StoredUpload
    except ImportError:  # the web import is optional; the command records its own imports
        return
    post_save.connect(_upload_finished, sender=StoredUpload, dispatch_uid="audit_import_upload")


_connect_imports()
