"""Receivers that turn authentication and permission changes into security events."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from guardian.models import GroupObjectPermission, UserObjectPermission

from .models import Kind
from .services import group_created_detail, m2m_detail, object_permission_detail, security_event_record

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
        # add() of rows that are all there already still sends post_add, with an empty set: nothing changed.
        if action not in _VERB or (action != "post_clear" and not pk_set):
            return
        if reverse:
            # e.g. group.user_set.add(user): the instance is the other side.
            detail = {field: [str(instance)], subject: _names(model, pk_set)}
        else:
            detail = {subject: str(instance), field: _names(model, pk_set)}
        security_event_record(kind=kind, detail=m2m_detail(_VERB[action], label, detail))

    return receiver_


_user_groups = _m2m(Kind.GROUP_CHANGE, "user", "user.groups", "groups")
_user_perms = _m2m(Kind.PERMISSION_CHANGE, "user", "user.user_permissions", "permissions")
_group_perms = _m2m(Kind.PERMISSION_CHANGE, "group", "group.permissions", "permissions")
m2m_changed.connect(_user_groups, sender=User.groups.through, dispatch_uid="audit_user_groups")
m2m_changed.connect(_user_perms, sender=User.user_permissions.through, dispatch_uid="audit_user_perms")
m2m_changed.connect(_group_perms, sender=Group.permissions.through, dispatch_uid="audit_group_perms")


def _object_permission(instance, action: str) -> None:
    holder = getattr(instance, "group", None) or getattr(instance, "user", None)
    security_event_record(kind=Kind.PERMISSION_CHANGE, detail=object_permission_detail(
        action=action, holder=holder, permission=instance.permission, content_type=instance.content_type,
        object_pk=instance.object_pk))


@receiver(post_save, sender=UserObjectPermission, dispatch_uid="audit_user_obj_perm_save")
@receiver(post_save, sender=GroupObjectPermission, dispatch_uid="audit_group_obj_perm_save")
def _object_permission_saved(sender, instance, created, **kwargs):
    _object_permission(instance, "add" if created else "change")


@receiver(post_delete, sender=UserObjectPermission, dispatch_uid="audit_user_obj_perm_delete")
@receiver(post_delete, sender=GroupObjectPermission, dispatch_uid="audit_group_obj_perm_delete")
def _object_permission_deleted(sender, instance, **kwargs):
    _object_permission(instance, "remove")


# -- accounts and groups themselves: the flags that grant rights, and groups appearing, renamed or removed

_ACCOUNT_FLAGS = ("is_active", "is_staff", "is_superuser")


@receiver(pre_save, sender=User, dispatch_uid="audit_user_flags_before")
def _user_flags_before(sender, instance, update_fields=None, **kwargs):
    # Logins save last_login alone: no extra query for them.
    if instance.pk is None or (update_fields is not None and not set(update_fields) & set(_ACCOUNT_FLAGS)):
        return
    instance._audit_flags = User.objects.filter(pk=instance.pk).values(*_ACCOUNT_FLAGS).first()


@receiver(post_save, sender=User, dispatch_uid="audit_user_flags")
def _user_flags(sender, instance, created, **kwargs):
    if created:
        security_event_record(kind=Kind.PERMISSION_CHANGE, detail={
            "action": "create", "on": "user.account", "user": instance.get_username(),
            **{flag: getattr(instance, flag) for flag in _ACCOUNT_FLAGS}})
        return
    before = instance.__dict__.pop("_audit_flags", None)
    if not before:
        return
    changed = {flag: [before[flag], getattr(instance, flag)] for flag in _ACCOUNT_FLAGS
               if before[flag] != getattr(instance, flag)}
    if changed:
        security_event_record(kind=Kind.PERMISSION_CHANGE, detail={
            "action": "change", "on": "user.account", "user": instance.get_username(), "changed": changed})


@receiver(post_delete, sender=User, dispatch_uid="audit_user_deleted")
def _user_deleted(sender, instance, **kwargs):
    security_event_record(kind=Kind.PERMISSION_CHANGE,
                          detail={"action": "delete", "on": "user.account", "user": instance.get_username()})


@receiver(pre_save, sender=Group, dispatch_uid="audit_group_name_before")
def _group_name_before(sender, instance, **kwargs):
    if instance.pk is not None:
        instance._audit_name = Group.objects.filter(pk=instance.pk).values_list("name", flat=True).first()


@receiver(post_save, sender=Group, dispatch_uid="audit_group_saved")
def _group_saved(sender, instance, created, **kwargs):
    before = instance.__dict__.pop("_audit_name", None)
    if created:
        security_event_record(kind=Kind.GROUP_CHANGE, detail=group_created_detail(instance.name))
    elif before is not None and before != instance.name:
        security_event_record(kind=Kind.GROUP_CHANGE,
                              detail={"action": "rename", "on": "group", "group": instance.name, "from": before})


@receiver(pre_delete, sender=Group, dispatch_uid="audit_group_deleted")
def _group_deleted(sender, instance, **kwargs):
    # Before the delete: its members and rights go with it, without m2m signals.
    security_event_record(kind=Kind.GROUP_CHANGE, detail={
        "action": "delete", "on": "group", "group": instance.name,
        "users": _names(User, list(instance.user_set.values_list("pk", flat=True)))})


def _membership(instance, action: str) -> None:
    """A department user's unit decides which approval steps they act on: a role assignment."""
    security_event_record(kind=Kind.PERMISSION_CHANGE, detail={
        "action": action, "on": "department_membership", "user": str(instance.user), "unit": instance.unit})


def _membership_saved(sender, instance, created, **kwargs):
    _membership(instance, "add" if created else "change")


def _membership_deleted(sender, instance, **kwargs):
    _membership(instance, "remove")


def _deadline(instance, action: str) -> None:
    security_event_record(kind=Kind.PARAMETER_CHANGE, detail={
        "action": action, "parameter": "approval_step_deadline", "state": instance.state,
        "days": instance.days})


def _deadline_saved(sender, instance, created, **kwargs):
    _deadline(instance, "add" if created else "change")


def _deadline_deleted(sender, instance, **kwargs):
    _deadline(instance, "remove")


def _connect_apps() -> None:
    # Connected by signal rather than in the services: the admin edits these rows too.
    from accounts.models import DepartmentMembership
    from approvals.models import StepDeadline

    post_save.connect(_membership_saved, sender=DepartmentMembership, dispatch_uid="audit_membership_save")
    post_delete.connect(_membership_deleted, sender=DepartmentMembership, dispatch_uid="audit_membership_delete")
    post_save.connect(_deadline_saved, sender=StepDeadline, dispatch_uid="audit_deadline_save")
    post_delete.connect(_deadline_deleted, sender=StepDeadline, dispatch_uid="audit_deadline_delete")


_connect_apps()


# Why a file was refused before any of its rows counted: hostile or unreadable files, not a clerk's typing errors.
REFUSAL_REASONS = {
    "unpacked_too_large": "解压后过大（疑似压缩炸弹）",
    "too_many_parts": "内部文件过多",
    "macro_workbook": "含宏",
    "file_too_large": "文件过大",
    "formula": "含公式",
    "not_xlsx": "不是有效的工作簿",
    "truncated": "文件损坏或不完整",
    "old_xls": "旧版 .xls",
    "unreadable": "无法解析",
}


def _refusal_reasons(summary) -> list[dict[str, str]]:
    summary = summary if isinstance(summary, dict) else {}
    codes = [i.get("code", "") for i in summary.get("file_issues", [])]
    codes += [i.get("code", "") for s in summary.get("sheets", []) for r in s.get("refused", [])
              for i in r.get("issues", []) if i.get("code") == "formula"]
    seen = dict.fromkeys(c for c in codes if c in REFUSAL_REASONS)
    return [{"code": code, "reason": REFUSAL_REASONS[code]} for code in seen]


def _upload_finished(sender, instance, **kwargs):
    """A workbook imported through the web (imports.StoredUpload reaching its final state), or refused as hostile.

    A worker has no request: the address is the one the upload (or its confirmation) came from."""
    update_fields = kwargs.get("update_fields")
    state = getattr(instance, "state", "")
    if update_fields is not None and "state" not in update_fields:
        return
    ip = getattr(instance, "ip", None) or None
    if state == "imported":
        security_event_record(
            kind=Kind.IMPORT, user=instance.user, ip=ip,
            detail={"via": "web", "file": instance.filename, "sheet": instance.sheet, "summary": instance.summary},
        )
    elif state == "refused" and (reasons := _refusal_reasons(instance.summary)):
        security_event_record(
            kind=Kind.UPLOAD_REFUSED, user=instance.user, ip=ip,
            detail={"via": "web", "file": instance.filename, "size": instance.size, "reasons": reasons},
        )


def _connect_imports() -> None:
    try:
        from imports.models import StoredUpload
    except ImportError:  # the web import is optional; the command records its own imports
        return
    post_save.connect(_upload_finished, sender=StoredUpload, dispatch_uid="audit_import_upload")


_connect_imports()
