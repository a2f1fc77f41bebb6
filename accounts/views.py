"""The signed-in user's own account: their password and (administrators, reviewers) two-factor sign-in."""

from __future__ import annotations

import re
from base64 import b32encode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from . import services
from .services import MUST_CHANGE_SESSION_KEY


class PasswordChange(auth_views.PasswordChangeView):
    """Every user's own password (Django's form; the save is recorded by accounts.signals)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["must_change"] = bool(self.request.session.get(MUST_CHANGE_SESSION_KEY))
        context["password_help"] = password_validators_help_texts()
        context["two_factor"] = services.two_factor_eligible(self.request.user)
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "密码已修改。")
        return response


# -- Two-factor sign-in ------------------------------------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse("home")


def _qr_svg(data: str) -> str:
    """The authenticator's set-up link as an inline SVG drawn on the server (no script, no outside service)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage)
    svg = image.to_string(encoding="unicode")
    # qrcode sizes the drawing in millimetres; 200 px (the viewBox scales it) scans well and fits a phone.
    return re.sub(r'^<svg width="[^"]*" height="[^"]*"', '<svg width="200" height="200"', svg, count=1)


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _show_codes(request: HttpRequest, codes: list[str], *, enrolled: bool) -> HttpResponse:
    response = render(request, "accounts/recovery_codes.html",
                      {"codes": codes, "enrolled": enrolled, "next": _next_url(request)})
    # Shown once: neither the browser's cache nor its back button keeps them.
    response["Cache-Control"] = "no-store"
    return response


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """An administrator's or reviewer's authenticator: set it up (QR code, first code, recovery codes) or see it."""
    if not services.two_factor_eligible(request.user):
        raise PermissionDenied("双因素认证用于管理员和审核员账户。")
    device = services.two_factor_device(request.user)
    error = ""
    if device is None and request.method == "POST":
        codes = services.two_factor_enrolment_confirm(request=request, token=request.POST.get("token", ""))
        if codes is not None:
            return _show_codes(request, codes, enrolled=True)
        error = "验证码不正确，请核对手机上身份验证器显示的 6 位数字后重新输入。"
    if device is not None:
        return render(request, "accounts/two_factor.html", {
            "device": device, "codes_left": services.recovery_codes_left(request.user),
            "verified": services.two_factor_verified(request), "next": _next_url(request)})
    pending = services.two_factor_enrolment_start(user=request.user)
    secret = b32encode(pending.bin_key).decode()
    return render(request, "accounts/two_factor.html", {
        "qr_svg": mark_safe(_qr_svg(pending.config_url)),  # our own SVG, drawn above from the device's key
        "secret": _grouped(secret), "error": error, "next": _next_url(request)},
        status=200 if not error else 400)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The sign-in's second step: a code from the authenticator, or one of the recovery codes."""
    if not services.two_factor_eligible(request.user) or services.two_factor_device(request.user) is None:
        return redirect("accounts:two_factor")
    if services.two_factor_verified(request):
        return redirect(_next_url(request))
    error = ""
    if request.method == "POST":
        result = services.two_factor_verify(request=request, token=request.POST.get("token", ""))
        if result == "recovery_code":
            left = services.recovery_codes_left(request.user)
            messages.warning(request, f"已使用一个恢复码（每个只能用一次），还剩 {left} 个。"
                                      "请尽快在“双因素认证”页面生成新的恢复码。")
            return redirect(_next_url(request))
        if result == "totp":
            return redirect(_next_url(request))
        error = ("验证码错误次数过多，请稍等片刻再试。" if result == "throttled"
                 else "验证码不正确或已使用过，请重新输入。")
    return render(request, "accounts/two_factor_verify.html", {"error": error, "next": _next_url(request)},
                  status=400 if error else 200)


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """A new set of recovery codes (the old ones stop working); only in a session verified with a code."""
    if services.two_factor_device(request.user) is None or not services.two_factor_verified(request):
        return redirect("accounts:two_factor")
    return _show_codes(request, services.recovery_codes_regenerate(request=request), enrolled=False)
