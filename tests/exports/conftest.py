"""Two 街办 with a community each, a facility, a worker with a seat, and funding: what the ledgers list."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from communities.services import community_create
from facilities.services import facility_create
from funding.models import FundingLevel
from funding.services import allocation_upsert
from tests.staffing import builders


@pytest.fixture
def district(streets):
    data = {}
    for key, street in streets.items():
        community = community_create(code=f"{street.code}001", name=f"{street.name}第一社区", sub_district=street,
                                     households=1200, population=4000, founded_on=date(2001, 5, 1),
                                     east="东大街", social_org_count=3)
        facility = facility_create(code=f"SS-{street.code}", community=community, name=f"{street.name}服务中心",
                                   kind="center", building_area=Decimal("280.50"), status="in_use",
                                   accepted_on=date(2015, 1, 1), handed_over_on=date(2015, 2, 1))
        person = builders.person(name=f"{street.name}张三")
        builders.worker(community, who=person, grade=12)
        builders.seat(community, "party", "secretary", who=person)
        allocation_upsert(community=community, year=2025, level=FundingLevel.CITY, planned=Decimal("50000.00"))
        data[key] = {"community": community, "facility": facility, "person": person}
    return data
