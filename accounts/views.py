"""The signed-in user's own account: changing their password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.password_validation import password_validators_help_texts
from django.urls import reverse_lazy

from .services import MUST_CHANGE_SESSION_KEY


class PasswordChange(auth_views.PasswordChangeView):
    """Every user's own password (Django's form; the save is recorded by accounts.signals)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["must_change"] = bool(self.request.session.get(MUST_CHANGE_SESSION_KEY))
        context["password_help"] = password_validators_help_texts()
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "密码已修改。")
        return response
