"""Every read that depends on who is asking goes through here.

Views never filter by user themselves: they ask for ``communities_for_user``
(or one of its siblings) and, for a single record, ``community_for_user`` which
raises 404 for a record the user may not see, so another 街办's id typed into
the URL reveals nothing.
"""

from __future__ import annotations

from typing import TypeVar, cast

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from accounts.roles import is_admin

from .models import Community, CommunityAdjustment, CommunityQuerySet, Compound, SubDistrict

M = TypeVar("M", bound=Model)


def one_or_404(queryset: QuerySet[M], message: str, **lookup) -> M:
    """The one row of a user-scoped queryset, else 404 with ``message``: a record of
    another 街办 and one that does not exist look the same (so does a malformed id)."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):  # every Model.DoesNotExist subclasses it
        raise Http404(message) from None


def sub_districts_for_user(user, perm: str = "view_subdistrict") -> QuerySet[SubDistrict]:
    if not user.is_authenticated:
        return SubDistrict.objects.none()
    if is_admin(user):
        return SubDistrict.objects.all()
    return get_objects_for_user(user, f"communities.{perm}", SubDistrict, accept_global_perms=True)


def own_sub_districts(user) -> QuerySet[SubDistrict]:
    """The 街办 a clerk works for (through their 街办 group); empty for other roles."""
    if not user.is_authenticated:
        return SubDistrict.objects.none()
    return SubDistrict.objects.filter(clerk_group__user=user)


def communities_for_user(user, perm: str = "view_community") -> CommunityQuerySet:
    if not user.is_authenticated:
        return Community.objects.none()
    if is_admin(user):
        return Community.objects.all()
    # guardian filters the default manager's queryset, so it keeps judged()/with_scale().
    return cast(CommunityQuerySet,
                get_objects_for_user(user, f"communities.{perm}", Community, accept_global_perms=True))


def community_for_user(user, pk, perm: str = "view_community") -> Community:
    return one_or_404(communities_for_user(user, perm).select_related("sub_district"),
                      "没有找到这个社区，或您无权查看。", pk=pk)


def compounds_for_user(user, perm: str = "view") -> QuerySet[Compound]:
    """Compounds of the user's communities, plus their 街办's unassigned ones."""
    if not user.is_authenticated:
        return Compound.objects.none()
    if is_admin(user) or (perm == "view" and user.has_perm("communities.view_compound")):
        return Compound.objects.all()
    communities = communities_for_user(user, f"{perm}_community")
    streets = sub_districts_for_user(user, f"{perm}_subdistrict")
    return Compound.objects.filter(
        Q(community__in=communities) | Q(community__isnull=True, sub_district__in=streets)
    )


def compound_for_user(user, pk, perm: str = "view") -> Compound:
    return one_or_404(compounds_for_user(user, perm).select_related("community", "sub_district"),
                      "没有找到这个小区，或您无权查看。", pk=pk)


def adjustments_for_user(user) -> QuerySet[CommunityAdjustment]:
    return CommunityAdjustment.objects.filter(community__in=communities_for_user(user))
