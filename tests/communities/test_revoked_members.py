"""Compounds and facilities that stayed with a community when it was revoked remain valid and editable;
nothing new may be put into a revoked community."""

import pytest
from django.core.exceptions import ValidationError

from communities.services import community_create, community_revoke, compound_create, compound_update

pytestmark = pytest.mark.django_db


def test_members_of_a_revoked_community_stay_valid_but_none_can_join(streets):
    from facilities.services import facility_create

    street = streets["qingnian"]
    old = community_create(code="610104001001", name="旧社区", sub_district=street, households=1180, population=3892)
    compound = compound_create(code="XQ-1", name="北院", community=old, households=1180)
    facility = facility_create(code="SS-1", community=old, name="服务站", kind="center", building_area=400,
                               activity_area=300)
    community_revoke(community=old)
    compound.refresh_from_db()
    facility.refresh_from_db()
    compound.full_clean()
    facility.full_clean()
    compound_update(compound=compound, households=1200)  # still editable

    with pytest.raises(ValidationError) as info:
        compound_create(code="XQ-2", name="南院", community=old, households=10)
    assert info.value.error_dict["community"][0].code == "community_revoked"
    other = compound_create(code="XQ-3", name="东院", sub_district=street, households=10)
    with pytest.raises(ValidationError) as info:
        compound_update(compound=other, community=old)
    assert info.value.error_dict["community"][0].code == "community_revoked"
