"""Every read that depends on who is asking goes through here.

Views never filter by user themselves: they ask for ``communities_for_user``
(or one of its siblings) and, for a single record, ``community_for_user`` which
raises 404 for a record the user may not see, so another 街办's id typed into
the URL reveals nothing.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.db.models import Model, Q, QuerySet
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.access import access_of
from accounts.roles import is_admin
from core import pagememo
from core.shortcuts import one_or_404

from .models import Community, CommunityAdjustment, CommunityQuerySet, Compound, SubDistrict

M = TypeVar("M", bound=Model)


def _granted_sql() -> str:
    """The object_pk of every object the user (first %s) holds a right on (content type, codename: the next two
    %s), directly or through a group (the same three again): guardian's two tables in one small statement. Plain
    SQL that PostgreSQL and SQLite (make run) both read."""
    through = get_user_model()._meta.get_field("groups").remote_field.through
    assert through is not None
    right = f'JOIN "{Permission._meta.db_table}" p ON p.id = o.permission_id'
    wanted = "p.content_type_id = %s AND p.codename = %s"
    return (
        f'SELECT o.object_pk FROM "{UserObjectPermission._meta.db_table}" o {right} '
        f"WHERE o.user_id = %s AND {wanted} "
        f'UNION SELECT o.object_pk FROM "{GroupObjectPermission._meta.db_table}" o {right} '
        f'JOIN "{through._meta.db_table}" m ON m.group_id = o.group_id WHERE m.user_id = %s AND {wanted}'
    )


def _granted_params(user, model: type[Model], codename: str) -> list:
    return [user.pk, ContentType.objects.get_for_model(model).pk, codename] * 2


def granted_pks(user, model: type[Model], codename: str) -> list:
    """pks of ``model`` rows on which ``user`` holds ``codename`` per object, directly or through a group.

    What guardian's get_objects_for_user(accept_global_perms=True) filters by once the global permission
    is ruled out, read with one small statement: guardian builds two ORM subqueries per call (~4 ms of
    Python on every page, two or three calls a page), and compares the varchar object_pk with each row's
    id cast to text.
    """
    with connections[router.db_for_read(model)].cursor() as cursor:
        cursor.execute(_granted_sql(), _granted_params(user, model, codename))
        return [model._meta.pk.to_python(row[0]) for row in cursor.fetchall()]


def _for_user(user, model: type[M], perm: str) -> QuerySet[M]:
    if is_admin(user) or user.has_perm(f"communities.{perm}"):  # a global permission: every row
        return model._default_manager.all()
    return model._default_manager.filter(pk__in=granted_pks(user, model, perm))


# A community's rights come from its 街办: whoever holds view (change) on a 街办 through guardian views (changes)
# its communities, the clerk's scope in docs/design.md. No row per community: a new or imported community is in
# its 街办's scope at once, a move to another 街办 moves it, and a 115,000-row import writes no 230,000 rights
# rows (seven indexes and three foreign-key checks each in guardian's table).
STREET_PERM_FOR = {"view_community": "view_subdistrict", "change_community": "change_subdistrict"}


def _granted_streets_sql() -> str:
    # CAST rather than PostgreSQL's ::text: SQLite (make run) reads it too.
    return f'SELECT s.code FROM "{SubDistrict._meta.db_table}" s WHERE CAST(s.id AS TEXT) IN ({_granted_sql()})'


def _granted_street_rights_sql() -> str:
    """(code, codename) of every 街办 on which the user holds either right of STREET_PERM_FOR: _granted_sql for
    two codenames at once."""
    through = get_user_model()._meta.get_field("groups").remote_field.through
    assert through is not None
    right = f'JOIN "{Permission._meta.db_table}" p ON p.id = o.permission_id'
    wanted = "p.content_type_id = %s AND p.codename IN (%s, %s)"
    granted = (
        f'SELECT o.object_pk, p.codename FROM "{UserObjectPermission._meta.db_table}" o {right} '
        f"WHERE o.user_id = %s AND {wanted} "
        f'UNION SELECT o.object_pk, p.codename FROM "{GroupObjectPermission._meta.db_table}" o {right} '
        f'JOIN "{through._meta.db_table}" m ON m.group_id = o.group_id WHERE m.user_id = %s AND {wanted}'
    )
    return (f'SELECT s.code, g.codename FROM "{SubDistrict._meta.db_table}" s '
            f"JOIN ({granted}) g ON CAST(s.id AS TEXT) = g.object_pk")


def granted_street_codes(user, community_perm: str) -> list[str]:
    """Codes of the 街办 whose communities ``user`` holds ``community_perm`` on (see STREET_PERM_FOR): one
    small statement, as granted_pks."""
    page = pagememo.memo()
    if page is None:
        with connections[router.db_for_read(Community)].cursor() as cursor:
            cursor.execute(_granted_streets_sql(), _granted_params(user, SubDistrict, STREET_PERM_FOR[community_perm]))
            return [row[0] for row in cursor.fetchall()]
    # A page asks for both rights (the record or list, its panels, whether it may be edited): one statement
    # for both, once per GET.
    key = ("granted_streets", user.pk)
    if key not in page:
        perm_of = {street_perm: perm for perm, street_perm in STREET_PERM_FOR.items()}
        rights: dict[str, list[str]] = {perm: [] for perm in STREET_PERM_FOR}
        content_type = ContentType.objects.get_for_model(SubDistrict).pk
        with connections[router.db_for_read(Community)].cursor() as cursor:
            cursor.execute(_granted_street_rights_sql(), [user.pk, content_type, *perm_of] * 2)
            for code, codename in cursor.fetchall():
                rights[perm_of[codename]].append(code)
        page[key] = {perm: tuple(sorted(codes)) for perm, codes in rights.items()}
    return list(page[key][community_perm])


def sub_districts_for_user(user, perm: str = "view_subdistrict") -> QuerySet[SubDistrict]:
    if not user.is_authenticated:
        return SubDistrict.objects.none()
    if perm not in STREET_PERM_FOR.values():
        return _for_user(user, SubDistrict, perm)
    codes = sub_district_codes_for_user(user, perm)
    if codes is None:
        return SubDistrict.objects.all()
    # By code from the rights the page has read already (granted_street_codes), not a second look-up by pk.
    return SubDistrict.objects.filter(code__in=codes)


def sub_district_codes_for_user(user, perm: str = "view_subdistrict") -> list[str] | None:
    """The codes of ``sub_districts_for_user(user, perm)``, None for every 街办 (an administrator, a global
    permission): what the findings selectors filter by, without a query of the 街办 table."""
    if not user.is_authenticated:
        return []
    if is_admin(user) or user.has_perm(f"communities.{perm}"):
        return None
    community_perm = {v: k for k, v in STREET_PERM_FOR.items()}[perm]
    return granted_street_codes(user, community_perm)


def own_sub_districts(user) -> QuerySet[SubDistrict]:
    """The 街办 a clerk works for (through their 街办 group); empty for other roles."""
    if not user.is_authenticated:
        return SubDistrict.objects.none()
    # From the access snapshot: for anyone but a clerk the list is empty and Django sends no query at all.
    return SubDistrict.objects.filter(code__in=sorted(access_of(user).clerk_streets))


def communities_for_user(user, perm: str = "view_community") -> CommunityQuerySet:
    if not user.is_authenticated:
        return Community.objects.none()
    if is_admin(user) or user.has_perm(f"communities.{perm}"):  # a global permission: every row
        return Community.objects.all()  # the default manager's queryset, so it keeps judged()/with_scale()
    return Community.objects.filter(sub_district_id__in=granted_street_codes(user, perm))


def community_permitted(user, pk, perm: str = "change_community") -> bool:
    """Whether ``communities_for_user(user, perm)`` holds the community ``pk``: the global permission, or the
    right on the community's 街办, asked in one statement."""
    if not user.is_authenticated:
        return False
    if is_admin(user) or user.has_perm(f"communities.{perm}"):
        return True
    with connections[router.db_for_read(Community)].cursor() as cursor:
        cursor.execute(_permitted_sql(), [pk, *_granted_params(user, SubDistrict, STREET_PERM_FOR[perm])])
        return cursor.fetchone() is not None


def may_change_community(user, community: Community, perm: str = "change_community") -> bool:
    """``community_permitted`` for a community already read: its 街办 against those granted, no query of its own."""
    if not user.is_authenticated:
        return False
    if is_admin(user) or user.has_perm(f"communities.{perm}"):
        return True
    return community.sub_district_id in granted_street_codes(user, perm)


def _permitted_sql() -> str:
    return (f'SELECT 1 FROM "{Community._meta.db_table}" c WHERE c.id = %s AND c.sub_district_code IN ('
            f"{_granted_streets_sql()})")


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
