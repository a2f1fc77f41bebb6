"""Write operations on the district's structure. Each is one atomic unit;
views, the workbook import and load_demo all come through here."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from guardian.models import GroupObjectPermission

from accounts.roles import clerk_group_name
from audit.models import Kind
from audit.services import object_permission_detail, security_events_record
from compliance.rejudge import changed_columns, rejudge_on_commit
from core.records import apply_changes, bulk_insert, bulk_update, save_clean, set_history

from .models import (
    Community,
    CommunityAdjustment,
    CommunityStatus,
    Compound,
    MonitoringPoint,
    RetiredCommunityCode,
    SubDistrict,
    TypicalCase,
)

SUB_DISTRICT_OBJECT_PERMS = ("view_subdistrict", "change_subdistrict")


def sub_district_upsert(*, code: str, name: str) -> SubDistrict:
    """Create or rename a 街办 and make sure it has its clerk group and rights."""
    with transaction.atomic():
        street = SubDistrict.objects.select_related("clerk_group").filter(code=code).first()
        created = street is None
        if street is None:
            group, _ = Group.objects.get_or_create(name=clerk_group_name(name))
            street = SubDistrict.objects.create(code=code, name=name, clerk_group=group)
        else:
            changed = []
            if street.name != name:
                street.name = name
                changed.append("name")
            if street.clerk_group_id is None:
                street.clerk_group, _ = Group.objects.get_or_create(name=clerk_group_name(name))
                changed.append("clerk_group")
            if changed:
                street.save(update_fields=changed)
        _grant_sub_district(street, created=created)
        return street


def _grant_sub_district(street: SubDistrict, *, created: bool) -> None:
    """The clerk group's rights on its own 街办: one read of what it holds (none for a new 街办) and one INSERT
    of what is missing, instead of guardian's assign_perm per right (a read, a savepoint and an insert each).
    Bulk writes send no post_save: the events audit's receiver would write are written here."""
    group = street.clerk_group
    assert group is not None
    content_type = ContentType.objects.get_for_model(SubDistrict)
    permissions = Permission.objects.filter(content_type=content_type, codename__in=SUB_DISTRICT_OBJECT_PERMS)
    held: set[int] = set() if created else set(GroupObjectPermission.objects.filter(
        group=group, content_type=content_type, object_pk=str(street.pk)).values_list("permission_id", flat=True))
    missing = [permission for permission in permissions.order_by("codename") if permission.pk not in held]
    if not missing:
        return
    GroupObjectPermission.objects.bulk_create([
        GroupObjectPermission(group=group, permission=permission, content_type=content_type, object_pk=str(street.pk))
        for permission in missing])
    security_events_record(kind=Kind.PERMISSION_CHANGE, details=[
        object_permission_detail(action="add", holder=group, permission=permission, content_type=content_type,
                                 object_pk=street.pk) for permission in missing])


def community_create(*, user=None, reason: str | None = None, **fields: Any) -> Community:
    """A new community; its 街办's clerks hold it through their rights on the 街办 (communities.selectors)."""
    with transaction.atomic():
        community = Community(**fields)
        save_clean(community, user, reason)
        rejudge_on_commit(Community, [community], created=True)
        return community


def community_update(*, community: Community, user=None, reason: str | None = None, **fields: Any) -> list[str]:
    """Apply changes; returns the names of the fields that changed.

    A move to another 街办 needs a code with the new 街办's prefix; the old
    code is retired for good; its rights follow its 街办 (communities.selectors).
    """
    with transaction.atomic():
        old = Community.objects.select_for_update().get(pk=community.pk)
        changed = apply_changes(community, fields)
        if not changed:
            return []
        save_clean(community, user, reason)
        rejudge_on_commit(Community, [community, old], changed=changed_columns(old, community))
        if old.code != community.code:
            RetiredCommunityCode.objects.create(code=old.code, community=community)
        if old.sub_district_id != community.sub_district_id:
            community.compounds.update(sub_district=community.sub_district)
        return changed


def community_create_bulk(*, communities: list[Community], user=None, reason: str | None = None) -> list[Community]:
    """Write many new communities the caller has already validated (``community_problems`` with every code read once), with
    their history: the workbook import's new 社区 rows.

    The database's constraints still stand behind the caller's checks: a row they refuse fails the batch."""
    with transaction.atomic():
        bulk_insert(Community, communities, user=user, reason=reason)
        rejudge_on_commit(Community, communities, created=True)
        return communities


def community_update_bulk(*, communities: list[Community], fields: list[str], user=None,
                          reason: str | None = None) -> None:
    """Write ``fields`` of many validated communities that keep their code and 街办 (a move retires a code and
    moves its compounds: that is community_update's, one at a time), with their history."""
    with transaction.atomic():
        bulk_update(Community, communities, fields, user=user, reason=reason)
        attnames = {f.name: f.attname for f in Community._meta.concrete_fields}
        rejudge_on_commit(Community, communities, changed=[attnames[f] for f in fields])


def community_revoke(*, community: Community, on: date | None = None, user=None, reason: str = "") -> Community:
    """撤销: the record, its code and its history stay; it is simply no longer judged."""
    with transaction.atomic():
        old = copy.copy(community)
        community.status = CommunityStatus.REVOKED
        community.revoked_on = on or timezone.localdate()
        save_clean(community, user, reason or "撤销")
        rejudge_on_commit(Community, [community, old], changed=changed_columns(old, community))
        return community


def _compound_street(compound: Compound) -> None:
    if compound.community is not None:
        compound.sub_district = compound.community.sub_district


def compound_create(*, user=None, reason: str | None = None, **fields: Any) -> Compound:
    with transaction.atomic():
        compound = Compound(**fields)
        _compound_street(compound)
        if compound.jurisdiction_unclear and compound.unclear_since is None:
            compound.unclear_since = timezone.localdate()
        save_clean(compound, user, reason)
        rejudge_on_commit(Compound, [compound], created=True)
        return compound


def compound_update(*, compound: Compound, user=None, reason: str | None = None, **fields: Any) -> list[str]:
    with transaction.atomic():
        old = copy.copy(compound)  # as it was: a move re-judges the community it left too
        changed = apply_changes(compound, fields)
        if not changed:
            return []
        _compound_street(compound)
        if compound.jurisdiction_unclear and compound.unclear_since is None:
            compound.unclear_since = timezone.localdate()
        save_clean(compound, user, reason)
        rejudge_on_commit(Compound, [compound, old], changed=changed_columns(old, compound))
        return changed


def compound_write_bulk(*, creates: list[Compound], updates: list[Compound], fields: list[str], user=None,
                        reason: str | None = None) -> None:
    """Write many compounds the caller has already validated (``compound_problems``, the stored rows read once):
    the workbook import's 小区 rows. New ones and the ``fields`` of changed ones, with their history; the
    caller sets 所在街道 and 未明确登记日期 as compound_create/compound_update would."""
    with transaction.atomic():
        bulk_insert(Compound, creates, user=user, reason=reason)
        bulk_update(Compound, updates, fields, user=user, reason=reason)
        rejudge_on_commit(Compound, creates, created=True)
        if updates:
            attnames = {f.name: f.attname for f in Compound._meta.concrete_fields}
            rejudge_on_commit(Compound, updates, changed=[attnames[f] for f in fields])


def adjustment_create(*, community: Community, user=None, **fields: Any) -> CommunityAdjustment:
    with transaction.atomic():
        adjustment = CommunityAdjustment(community=community, **fields)
        save_clean(adjustment, user, None)
        rejudge_on_commit(CommunityAdjustment, [adjustment], created=True)
        return adjustment


def monitoring_point_create(*, community: Community, designated_on: date, note: str = "", user=None) -> MonitoringPoint:
    """Designate a community as a 减负增效监测点 (措施十七)."""
    with transaction.atomic():
        point = MonitoringPoint(community=community, designated_on=designated_on, note=note)
        save_clean(point, user, None)
        rejudge_on_commit(MonitoringPoint, [point], created=True)
        return point


def monitoring_point_update(*, point: MonitoringPoint, user=None, reason: str | None = None, **fields: Any) -> list[str]:
    with transaction.atomic():
        old = copy.copy(point)
        changed = apply_changes(point, fields)
        if not changed:
            return []
        save_clean(point, user, reason)
        rejudge_on_commit(MonitoringPoint, [point, old], changed=changed_columns(old, point))
        return changed


def monitoring_point_delete(*, point: MonitoringPoint, user=None, reason: str = "") -> None:
    """Withdraw a designation; the history keeps that it existed."""
    with transaction.atomic():
        set_history(point, user, reason or "取消监测点")
        gone = copy.copy(point)  # delete() clears the instance's pk
        point.delete()
        rejudge_on_commit(MonitoringPoint, [gone])


def typical_case_create(*, kind: str, title: str, community: Community, year: int, user=None) -> TypicalCase:
    with transaction.atomic():
        case = TypicalCase(kind=kind, title=title, community=community, year=year)
        save_clean(case, user, None)
        rejudge_on_commit(TypicalCase, [case], created=True)
        return case


def typical_case_update(*, case: TypicalCase, user=None, reason: str | None = None, **fields: Any) -> list[str]:
    with transaction.atomic():
        old = copy.copy(case)
        changed = apply_changes(case, fields)
        if not changed:
            return []
        save_clean(case, user, reason)
        rejudge_on_commit(TypicalCase, [case, old], changed=changed_columns(old, case))
        return changed


def typical_case_delete(*, case: TypicalCase, user=None, reason: str = "") -> None:
    with transaction.atomic():
        set_history(case, user, reason or "删除案例")
        gone = copy.copy(case)  # delete() clears the instance's pk
        case.delete()
        rejudge_on_commit(TypicalCase, [gone])
