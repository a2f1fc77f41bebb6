"""The facility lifecycle of 措施七、八 as one table.

规划 → 在建 → 已验收 → 已移交 → 使用中 (⇄ 停用). Each row names the step, the
unit the clause makes responsible, and a condition that returns the unmet
reason in Chinese (or None). Nothing else may change a facility's status:
a move that is not a row here skips a step and is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from accounts.models import Unit, units_of
from accounts.roles import is_admin, is_clerk_of

from .models import Facility, FacilityStatus

# The facility's own 街办 (its clerks), as opposed to a district unit.
STREET = "street"


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    step: str
    units: tuple[str, ...]
    condition: Callable[[Facility, date, str], str | None]
    sets_date: str | None = None

    def unit_labels(self) -> str:
        return "或".join("所属街办" if u == STREET else Unit(u).label for u in self.units)


def _always(facility: Facility, on: date, note: str) -> str | None:
    return None


def _handover_after_acceptance(facility: Facility, on: date, note: str) -> str | None:
    if facility.accepted_on is None:
        return "该设施没有验收日期，未经验收不得移交。"
    if on < facility.accepted_on:
        return f"移交日期 {on:%Y-%m-%d} 早于验收日期 {facility.accepted_on:%Y-%m-%d}。"
    return None


def _needs_reason(facility: Facility, on: date, note: str) -> str | None:
    return None if note.strip() else "停用设施须在备注中说明原因。"


S = FacilityStatus
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.PLANNED, S.BUILDING, "规划审批", (Unit.PLANNING,), _always),
    Transition(S.BUILDING, S.ACCEPTED, "竣工验收", (Unit.HOUSING, Unit.DAXING), _always, sets_date="accepted_on"),
    # 措施八: 区民政局 hands over to the 街办 (the 街办 is named in the step's unit).
    Transition(S.ACCEPTED, S.HANDED_OVER, "移交街办", (Unit.CIVIL_AFFAIRS,), _handover_after_acceptance,
               sets_date="handed_over_on"),
    Transition(S.HANDED_OVER, S.IN_USE, "街办接收", (STREET,), _always),
    Transition(S.IN_USE, S.CLOSED, "停用", (STREET,), _needs_reason),
    Transition(S.CLOSED, S.IN_USE, "恢复使用", (STREET,), _always),
)

ORDER = [S.PLANNED, S.BUILDING, S.ACCEPTED, S.HANDED_OVER, S.IN_USE]


def transition_for(source: str, target: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.source == source and t.target == target), None)


def transitions_from(source: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == source]


def acting_units(user, facility: Facility) -> set[str]:
    """The units the user acts for on this facility (STREET when it is their 街办's)."""
    units = set(units_of(user))
    if is_clerk_of(user, facility.community.sub_district_id):
        units.add(STREET)
    return units


def may_act(user, transition: Transition, facility: Facility) -> bool:
    if is_admin(user):
        return True
    return bool(acting_units(user, facility) & set(transition.units))


def skip_message(facility: Facility, target: str) -> str:
    allowed = "、".join(f"“{S(t.target).label}”" for t in transitions_from(facility.status)) or "无"
    return (
        f"设施当前状态为“{facility.get_status_display()}”，不能直接改为“{S(target).label}”；"
        f"流程须依次经过 规划→在建→已验收→已移交→使用中，当前可转为：{allowed}。"
    )
