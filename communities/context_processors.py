from accounts.roles import ROLE_LABELS, roles_of


def user_scope(request):
    """Puts the user's role names in every page's header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = roles_of(user)
    return {"user_role_labels": [ROLE_LABELS[r] for r in sorted(roles)]}
