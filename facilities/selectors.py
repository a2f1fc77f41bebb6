"""User-scoped reads of facilities: a facility is visible (or editable) exactly
when its community is, through ``communities_for_user``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django.db.models import QuerySet

from communities.models import Community
from communities.selectors import communities_for_user
from core.shortcuts import one_or_404

from .models import Facility


def facilities_for_user(user, perm: str = "view_community") -> QuerySet[Facility]:
    if not user.is_authenticated:
        return Facility.objects.none()
    return Facility.objects.filter(community__in=communities_for_user(user, perm))


def facility_for_user(user, pk, perm: str = "view_community") -> Facility:
    return one_or_404(facilities_for_user(user, perm).select_related("community__sub_district"),
                      "没有找到这个设施，或您无权查看。", pk=pk)


def facility_requirements(community: Community, as_of: dt.date) -> dict[str, Any]:
    """应配 vs 实有 for the community page, measured by the rules themselves."""
    from compliance.parameters import params_for_rules
    from compliance.rules import registry

    from .models import CORE_SERVICES, FacilityKind
    from .rules import ZERO, FacilityArea, counting

    rule_ids = ("M07.facility_area", "M07.outdoor_plaza", "M07.activity_share")
    rules = [registry.get(r) for r in rule_ids]
    params = params_for_rules(rules, as_of)
    # One community's few counting facilities, summed here: the rules' facility_sum subqueries (three, and a
    # fourth query for the services) cost the page ~10 ms of ORM work for a handful of rows. SUM's ways kept:
    # NULL areas left out, nothing counted is 0.
    counted: list[tuple[Any, ...]] = list(Facility.objects.filter(counting(as_of), community=community)
                   .values_list("kind", "building_area", "activity_area", "site_area", "service_category"))

    def total(kind: str, column: int) -> Decimal:
        return sum((f[column] for f in counted if f[0] == kind and f[column] is not None), ZERO)

    row: dict[str, Any] = {"pk": community.pk, "households": community.households,
                           "founded_on": community.founded_on, "area": total(FacilityKind.CENTER, 1),
                           "activity": total(FacilityKind.CENTER, 2), "plaza": total(FacilityKind.PLAZA, 3)}
    required_area, basis = cast(FacilityArea, rules[0]).required(row, params["M07.facility_area"])
    present = {f[4] for f in counted if f[0] == FacilityKind.EMBEDDED}
    area, activity = Decimal(row["area"]), Decimal(row["activity"])
    min_share = Decimal(str(params["M07.activity_share"]["min_activity_share"]))
    min_plaza = Decimal(str(params["M07.outdoor_plaza"]["min_plaza_area"]))
    return {
        "area": area,
        "required_area": required_area,
        "area_basis": basis,
        "area_ok": area >= required_area,
        "plaza": Decimal(row["plaza"]),
        "required_plaza": min_plaza,
        "plaza_ok": Decimal(row["plaza"]) >= min_plaza,
        "activity": activity,
        "share": (activity * 100 / area).quantize(Decimal("0.01")) if area else Decimal("0"),
        "required_share": min_share,
        "share_ok": area > 0 and activity * 100 >= area * min_share,
        "services": [(c.label, c.value in present) for c in CORE_SERVICES],
    }
