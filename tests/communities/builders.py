"""Small builders for community tests; records go through the services like real ones."""

from __future__ import annotations

from communities import services
from communities.models import Community, Compound, SubDistrict


def community(street: SubDistrict, suffix: str = "001", **fields) -> Community:
    values = {"name": f"{street.name}{suffix}社区", "households": 1180, "population": 3892, **fields}
    return services.community_create(code=f"{street.code}{suffix}", sub_district=street, **values)


def compound(code: str, *, community: Community | None = None, street: SubDistrict | None = None, **fields) -> Compound:
    values = {"name": f"{code}小区", "households": 300, **fields}
    return services.compound_create(code=code, community=community, sub_district=street, **values)


def community_post(c: Community, **overrides) -> dict:
    """The edit form's POST body for ``c`` as it stands, with some fields changed."""
    data = {
        "code": c.code,
        "name": c.name,
        "sub_district": c.sub_district_id,
        "status": c.status,
        "households": c.households,
        "population": c.population,
        "founded_on": c.founded_on.isoformat() if c.founded_on else "",
        "approved_on": c.approved_on.isoformat() if c.approved_on else "",
        "election_on": c.election_on.isoformat() if c.election_on else "",
        "party_org_type": c.party_org_type,
        "east": c.east,
        "south": c.south,
        "west": c.west,
        "north": c.north,
        "social_org_count": c.social_org_count,
    }
    if c.has_property_committee:
        data["has_property_committee"] = "on"
    data.update(overrides)
    return data


def compound_post(c: Compound, **overrides) -> dict:
    data = {
        "code": c.code,
        "name": c.name,
        "community": c.community_id or "",
        "sub_district": c.sub_district_id or "",
        "households": c.households,
        "built_on": c.built_on.isoformat() if c.built_on else "",
        "property_service": c.property_service,
        "unclear_since": c.unclear_since.isoformat() if c.unclear_since else "",
        "ruling": c.ruling,
        "ruling_authority": c.ruling_authority,
        "ruling_on": c.ruling_on.isoformat() if c.ruling_on else "",
    }
    for flag in ("must_provide_facility", "facility_provided", "jurisdiction_unclear"):
        if getattr(c, flag):
            data[flag] = "on"
    data.update(overrides)
    return data


def error_codes(form, field: str) -> list[str]:
    return [e.code for e in form.errors.as_data().get(field, [])]
