"""Pages a signed-in user cannot reach yet:

- until they replace a password someone else chose, every page sends them to the password-change page;
- an administrator or reviewer who must use two-factor sign-in (LIANHU_REQUIRE_2FA) and has not given a code
  in this session is sent to the code page, or to set up an authenticator if they have none.

Both read the session only (flags written at sign-in), so an ordinary page pays no query for them.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .access import access_of
from .services import MUST_CHANGE_SESSION_KEY, two_factor_device, two_factor_required, two_factor_verified

# Reachable whatever the account still owes: signing in and out.
ALWAYS_OPEN = {"login", "logout"}
PASSWORD_VIEWS = {"accounts:password_change"}
TWO_FACTOR_VIEWS = {"accounts:two_factor", "accounts:two_factor_verify"}


class AccountGateMiddleware:
    """After AuthenticationMiddleware and django-otp's OTPMiddleware; decides in ``process_view``, where the
    URL name is known."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.view_name in ALWAYS_OPEN or not request.user.is_authenticated:
            return None
        view = match.view_name
        must_change = bool(request.session.get(MUST_CHANGE_SESSION_KEY))
        # The initial password is replaced first: an authenticator enrolled with it would be the administrator's.
        if must_change:
            if view in PASSWORD_VIEWS:
                return None
            return HttpResponseRedirect(reverse("accounts:password_change"))
        if view in TWO_FACTOR_VIEWS or not two_factor_required(request) or two_factor_verified(request):
            return None
        if two_factor_device(request.user) is None:
            messages.warning(request, "管理员和审核员账户须使用双因素认证登录：请先设置身份验证器。")
            target = reverse("accounts:two_factor")
        else:
            target = reverse("accounts:two_factor_verify")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)


# The idle timeout's clock is pushed forward at most once a minute: writing the session back on every request
# (SESSION_SAVE_EVERY_REQUEST) cost each page three queries (cached_db: read-modify-write) for a timestamp
# that moves by seconds. A session therefore ends 29 to 30 minutes after its last request, never later.
IDLE_REFRESH_SECONDS = 60
IDLE_REFRESHED_KEY = "_idle_refreshed"


class IdleTimeoutMiddleware:
    """Right after SessionMiddleware: on the way out, marks a signed-in session modified when its expiry was
    last pushed a minute or more ago, so SessionMiddleware saves it with a fresh SESSION_COOKIE_AGE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get(IDLE_REFRESHED_KEY, 0) >= IDLE_REFRESH_SECONDS:
                session[IDLE_REFRESHED_KEY] = now
        return response


class AccessMiddleware:
    """Right after AuthenticationMiddleware: the signed-in user's groups, permissions and units from the access
    snapshot (accounts.access), so that neither the role checks nor ModelBackend's has_perm ask the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            access_of(request.user)
        return self.get_response(request)
