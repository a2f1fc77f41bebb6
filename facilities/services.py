"""Write operations on facilities; views and the workbook import come through here."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Unit
from compliance.rejudge import changed_columns, rejudge_on_commit
from core.records import apply_changes, bulk_insert, save_clean

from .lifecycle import STREET, acting_units, may_act, skip_message, transition_for
from .models import Facility, FacilityStatus, FacilityStep


def facility_create(*, user=None, reason: str | None = None, **fields: Any) -> Facility:
    """Records a facility as it is today, in whatever status it has reached."""
    with transaction.atomic():
        facility = Facility(**fields)
        save_clean(facility, user, reason)
        rejudge_on_commit(Facility, [facility], created=True)
        return facility


def facilities_create_bulk(*, facilities: list[Facility], user=None, reason: str | None = None) -> None:
    """Records many facilities as they are today, each already checked by the caller (core.records.clean_new),
    with their history: the demo district's. The database's unique code stands behind the caller's check."""
    with transaction.atomic():
        bulk_insert(Facility, facilities, user=user, reason=reason)
        rejudge_on_commit(Facility, facilities, created=True)


def facility_update(*, facility: Facility, user=None, reason: str | None = None, **fields: Any) -> list[str]:
    """Edits the record; the status moves only through ``facility_advance``."""
    with transaction.atomic():
        current = Facility.objects.select_for_update().get(pk=facility.pk)
        if "status" in fields and fields["status"] != current.status:
            raise ValidationError({"status": ValidationError(skip_message(current, fields["status"]), code="lifecycle_skip")})
        changed = apply_changes(facility, fields)
        if not changed:
            return []
        save_clean(facility, user, reason)
        rejudge_on_commit(Facility, [facility, current], changed=changed_columns(current, facility))
        return changed


def _unit_label(user, facility: Facility, units: tuple[str, ...]) -> str:
    street = facility.community.sub_district.name
    mine = acting_units(user, facility) & set(units) if user is not None else set()
    chosen = sorted(mine)[0] if mine else units[0]
    if chosen == STREET:
        return street
    if chosen == Unit.CIVIL_AFFAIRS:
        return f"{Unit(chosen).label}（会同{street}）"
    return Unit(chosen).label


def facility_advance(
    *,
    facility: Facility,
    to_status: str,
    user=None,
    on: date | None = None,
    note: str = "",
    check_actor: bool = True,
    unit_label: str | None = None,
) -> FacilityStep:
    """One step of the lifecycle table, recorded with who, when, which unit and a note.

    A move that is not a row of the table is refused (``lifecycle_skip``); a
    user whose unit the row does not name gets PermissionDenied. The workbook
    import passes ``check_actor=False`` and names itself as the unit.
    """
    on = on or timezone.localdate()
    with transaction.atomic():
        facility = Facility.objects.select_for_update().select_related("community__sub_district").get(pk=facility.pk)
        if to_status not in FacilityStatus.values:
            # A forged or empty form value: say so instead of failing on an unknown status.
            raise ValidationError({"status": ValidationError(f"没有“{to_status or '（空）'}”这个设施状态。",
                                                             code="unknown_status")})
        transition = transition_for(facility.status, to_status)
        if transition is None:
            raise ValidationError({"status": ValidationError(skip_message(facility, to_status), code="lifecycle_skip")})
        if check_actor and not may_act(user, transition, facility):
            raise PermissionDenied(f"“{transition.step}”由{transition.unit_labels()}办理，您无权办理。")
        if on > timezone.localdate():
            raise ValidationError({"on": ValidationError("办理日期不能晚于今天。", code="date_in_future")})
        reason = transition.condition(facility, on, note)
        if reason:
            raise ValidationError({"status": ValidationError(reason, code="lifecycle_condition")})
        old = copy.copy(facility)
        source = facility.status
        facility.status = to_status
        if transition.sets_date:
            setattr(facility, transition.sets_date, on)
        save_clean(facility, user, transition.step)
        rejudge_on_commit(Facility, [facility, old], changed=changed_columns(old, facility))
        return FacilityStep.objects.create(
            facility=facility,
            from_status=source,
            to_status=to_status,
            step=transition.step,
            unit=unit_label or _unit_label(user, facility, transition.units),
            actor=user if user is not None and user.is_authenticated else None,
            on=on,
            note=note,
        )
