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


# -- Two-factor sign-in (等保2.0 level 3: two kinds of authentication for privileged accounts) --------------------

RECOVERY_CODE_COUNT = 10
# Kept in the session at sign-in: the user has a confirmed authenticator, so it is asked for even where
# LIANHU_REQUIRE_2FA is off (a demo reviewer who enrolled).
TWO_FACTOR_ENROLLED_SESSION_KEY = "accounts_two_factor_enrolled"


def two_factor_eligible(user) -> bool:
    """Administrators (staff, superusers) and 区民政局审核员: the accounts two-factor sign-in is for."""
    from .roles import is_reviewer

    return bool(user.is_authenticated and (user.is_staff or is_reviewer(user)))


def two_factor_required(request: HttpRequest) -> bool:
    """Whether this signed-in request must show a second factor before any page."""
    from django.conf import settings

    user = request.user
    if not user.is_authenticated:
        return False
    if not (getattr(settings, "LIANHU_REQUIRE_2FA", False) or request.session.get(TWO_FACTOR_ENROLLED_SESSION_KEY)):
        return False
    return two_factor_eligible(user)


def two_factor_verified(request: HttpRequest) -> bool:
    """Whether this session has given a second factor (django-otp's OTPMiddleware adds ``is_verified``)."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def two_factor_device(user):
    """The user's confirmed authenticator (TOTP device), or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_codes_left(user) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def two_factor_enrolment_start(*, user):
    """The authenticator being set up: the unconfirmed device, kept so that reloading shows the same QR code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=False)
    return device


def recovery_code_digest(code: str) -> str:
    """What is stored for a recovery code: a keyed hash (16 hex digits fill django-otp's token column), so a
    database dump or the admin shows no usable code. The key is derived from DJANGO_SECRET_KEY: rotating it
    voids the recovery codes (users generate new ones after signing in with their authenticator)."""
    import hashlib
    import hmac

    from django.conf import settings

    key = hashlib.sha256(b"lianhu-recovery-code:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, _normalise(code).encode(), hashlib.sha256).hexdigest()[:16]


def _new_recovery_codes(user) -> list[str]:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="恢复码", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=recovery_code_digest(c)) for c in codes])
    return codes


@transaction.atomic
def two_factor_enrolment_confirm(*, request: HttpRequest, token: str) -> list[str] | None:
    """Confirms the authenticator with its first code: the session counts as verified and a fresh set of
    recovery codes is returned (to be shown once). None when the code is wrong."""
    import django_otp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = request.user
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    token = _normalise(token)
    if device is None or not token.isdigit() or not device.verify_token(token):
        security_event_record(kind=Kind.TWO_FACTOR_FAILED, request=request, detail={"step": "enrol"})
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    django_otp.login(request, device)
    request.session[TWO_FACTOR_ENROLLED_SESSION_KEY] = True
    codes = _new_recovery_codes(user)
    security_event_record(kind=Kind.TWO_FACTOR, request=request,
                          detail={"action": "enrol", "recovery_codes": len(codes)})
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, request: HttpRequest) -> list[str]:
    """New recovery codes for a verified user; the old ones stop working."""
    codes = _new_recovery_codes(request.user)
    security_event_record(kind=Kind.TWO_FACTOR, request=request,
                          detail={"action": "recovery_codes_regenerate", "recovery_codes": len(codes)})
    return codes


def _normalise(token: str) -> str:
    return "".join(ch for ch in (token or "") if ch not in " -\t").lower()


@transaction.atomic
def two_factor_verify(*, request: HttpRequest, token: str) -> str:
    """Checks a sign-in's second factor: a 6-digit authenticator code, or a recovery code (each works once).

    Returns ``"totp"`` or ``"recovery_code"`` and marks the session verified; ``"wrong"`` for a wrong code;
    ``"throttled"`` while django-otp's back-off after wrong codes runs (the next try waits 1, 2, 4, … seconds).
    Failures are logged and committed like successes (nothing is raised inside the transaction).
    """
    import django_otp
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = request.user
    token = _normalise(token)
    # A code's shape says which device to ask, so a mistyped recovery code does not slow the authenticator down.
    if token.isdigit() and len(token) == 6:
        model, method = TOTPDevice, "totp"
    elif len(token) == 8 and token.isalnum():
        model, method = StaticDevice, "recovery_code"
    else:
        model, method = None, ""
    devices = list(model.objects.select_for_update().filter(user=user, confirmed=True)) if model else []
    if devices and not any(device.verify_is_allowed()[0] for device in devices):
        security_event_record(kind=Kind.TWO_FACTOR_FAILED, request=request, detail={"step": "login", "throttled": True})
        return "throttled"
    stored = recovery_code_digest(token) if method == "recovery_code" else token
    matched = next((device for device in devices if device.verify_token(stored)), None)
    if matched is None:
        security_event_record(kind=Kind.TWO_FACTOR_FAILED, request=request,
                              detail={"step": "login", "method": method or "malformed"})
        return "wrong"
    django_otp.login(request, matched)
    request.session[TWO_FACTOR_ENROLLED_SESSION_KEY] = True
    detail: dict[str, object] = {"action": "verify", "method": method}
    if method == "recovery_code":
        detail["recovery_codes_left"] = recovery_codes_left(user)
    security_event_record(kind=Kind.TWO_FACTOR, request=request, detail=detail)
    return method
