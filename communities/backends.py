"""``user.has_perm("communities.change_community", community)`` answers as communities.selectors does: a right on
a community is the same right on its 街办, which guardian holds (communities.selectors.STREET_PERM_FOR). The
app asks the selectors; this keeps Django's own question (the admin, any library) giving the same answer."""

from __future__ import annotations

from typing import Any


class StreetScopeBackend:
    def authenticate(self, request, **credentials: Any) -> None:
        return None  # grants rights, signs no one in

    def has_perm(self, user_obj, perm: str, obj: Any = None) -> bool:
        from .models import Community
        from .selectors import STREET_PERM_FOR

        if not isinstance(obj, Community) or not user_obj.is_active:
            return False
        app_label, _, codename = perm.partition(".")
        street_perm = STREET_PERM_FOR.get(codename)
        if app_label != "communities" or street_perm is None or obj.sub_district_id is None:
            return False
        return user_obj.has_perm(f"communities.{street_perm}", obj.sub_district)
