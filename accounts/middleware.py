"""Pages a signed-in user cannot reach yet: until they replace a password someone else chose, every page sends
them to the password-change page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .services import MUST_CHANGE_SESSION_KEY

# What such a user may still reach: changing the password, signing out, and the error pages' targets.
OPEN_VIEWS = {"logout", "accounts:password_change", "login"}


class AccountGateMiddleware:
    """After AuthenticationMiddleware; decides in ``process_view`` where the URL name is known."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if not request.session.get(MUST_CHANGE_SESSION_KEY):
            return None
        match = request.resolver_match
        if match is None or match.view_name in OPEN_VIEWS or not request.user.is_authenticated:
            return None
        messages.warning(request, "您的密码是管理员设置的初始密码，请先修改密码再继续使用系统。")
        return HttpResponseRedirect(reverse("accounts:password_change"))
