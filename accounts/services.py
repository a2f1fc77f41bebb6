"""Account write operations: who chose a password, and the security log entries that go with it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.models import Kind
from audit.services import security_event_record

from .models import AccountSecurity

# Session key: the signed-in user still has a password someone else chose (read by accounts.middleware).
MUST_CHANGE_SESSION_KEY = "accounts_must_change_password"


@transaction.atomic
def account_password_change_record(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> None:
    """The user chose their own password: the must-change flag goes, the change is logged."""
    AccountSecurity.objects.update_or_create(
        user=user, defaults={"must_change_password": False, "password_changed_at": timezone.now()}
    )
    if request is not None and hasattr(request, "session"):
        request.session.pop(MUST_CHANGE_SESSION_KEY, None)
    security_event_record(kind=Kind.PASSWORD_CHANGE, user=user, request=request,
                          detail={"user": user.get_username()})


@transaction.atomic
def account_password_reset_record(*, user: AbstractBaseUser, by: str, via: str, created: bool,
                                  request: HttpRequest | None = None) -> None:
    """Someone else set ``user``'s password (an initial one or a reset): the user must change it at login."""
    AccountSecurity.objects.update_or_create(
        user=user, defaults={"must_change_password": True, "password_set_by": by[:150]}
    )
    security_event_record(kind=Kind.PASSWORD_RESET, request=request, detail={
        "user": user.get_username(), "via": via, "action": "initial" if created else "reset"})


def account_must_change_password(user) -> bool:
    return AccountSecurity.objects.filter(user=user, must_change_password=True).exists()
