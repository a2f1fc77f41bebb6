"""Noticing a password being set, whoever sets it: the admin's add and password forms, the password-change page,
Django's ``createsuperuser`` and ``changepassword`` commands.

Done on the user's ``post_save`` rather than in each view so that the admin's own forms are covered without
copying them: ``set_password`` leaves the raw password on ``user._password`` until the save is done, which is
how a password change is told from any other save without a query.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save

from audit.context import COMMAND_LINE, current_command, current_request
from audit.models import Kind
from audit.services import security_event_record

from .access import access_of, forget_access
from .services import (
    MUST_CHANGE_SESSION_KEY,
    TWO_FACTOR_ENROLLED_SESSION_KEY,
    account_must_change_password,
    account_password_change_record,
    account_password_reset_record,
)

# Commands where an operator types someone's password; create_demo_users is not one (demo logins are public).
COMMANDS_SETTING_PASSWORDS = {"createsuperuser", "changepassword"}


def _password_saved(sender, instance, created, **kwargs):
    command = current_command.get()
    # UserManager.create_user (hence createsuperuser) hashes into ``password`` directly, without set_password.
    created_with_password = created and command in COMMANDS_SETTING_PASSWORDS and instance.has_usable_password()
    if getattr(instance, "_password", None) is None and not created_with_password:
        return
    request = current_request.get()
    actor = getattr(request, "user", None) if request is not None else None
    if actor is not None and actor.is_authenticated:
        if actor.pk == instance.pk:
            account_password_change_record(user=instance, request=request)
        else:
            account_password_reset_record(user=instance, by=actor.get_username(), via="admin", created=created,
                                          request=request)
    elif request is None and command in COMMANDS_SETTING_PASSWORDS:
        account_password_reset_record(user=instance, by=f"{COMMAND_LINE}{command}", via="command", created=created)


def _logged_in(sender, request, user, **kwargs):
    # Read once per sign-in and kept in the session, so pages pay no query for them.
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .middleware import IDLE_REFRESHED_KEY

    # Signing in saves the session with a fresh 30 minutes: the idle clock starts here, not at the next page.
    request.session[IDLE_REFRESHED_KEY] = int(time.time())

    # The access snapshot is read (or found) now, so the first page after signing in asks for no group or
    # permission either; what the user object held before is not trusted.
    forget_access(user)
    access_of(user)

    if account_must_change_password(user):
        request.session[MUST_CHANGE_SESSION_KEY] = True
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        request.session[TWO_FACTOR_ENROLLED_SESSION_KEY] = True


def _authenticator_removed(sender, instance, **kwargs):
    # An administrator deleting a lost phone's authenticator in the admin: the user sets up a new one.
    if instance.confirmed:
        security_event_record(kind=Kind.TWO_FACTOR, detail={
            "action": "remove", "user": instance.user.get_username(), "device": instance.name})


def connect() -> None:
    post_save.connect(_password_saved, sender=get_user_model(), dispatch_uid="accounts_password_saved")
    user_logged_in.connect(_logged_in, dispatch_uid="accounts_must_change_on_login")
    from django_otp.plugins.otp_totp.models import TOTPDevice

    post_delete.connect(_authenticator_removed, sender=TOTPDevice, dispatch_uid="accounts_authenticator_removed")
