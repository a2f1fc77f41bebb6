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
    from .rules import FacilityArea, counting, facility_sum

    rule_ids = ("M07.facility_area", "M07.outdoor_plaza", "M07.activity_share")
    rules = [registry.get(r) for r in rule_ids]
    params = params_for_rules(rules, as_of)
    row = (
        Community.objects.filter(pk=community.pk)
        .annotate(
            area=facility_sum("building_area", FacilityKind.CENTER, as_of),
            activity=facility_sum("activity_area", FacilityKind.CENTER, as_of),
            plaza=facility_sum("site_area", FacilityKind.PLAZA, as_of),
        )
        .values("pk", "households", "founded_on", "area", "activity", "plaza")
        .get()
    )
    required_area, basis = cast(FacilityArea, rules[0]).required(row, params["M07.facility_area"])
    present = set(
        Facility.objects.filter(counting(as_of), community=community, kind=FacilityKind.EMBEDDED)
        .values_list("service_category", flat=True)
    )
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
