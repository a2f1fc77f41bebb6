"""Data errors are refused with their codes, by clean() and by the database."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from facilities.models import Facility
from facilities.services import facility_create, facility_update


def _codes(excinfo, field):
    return [e.code for e in excinfo.value.error_dict[field]]


def _center(community, **kw):
    fields = dict(code="SS-001", community=community, name="青年路社区党群服务中心", kind="center",
                  building_area=Decimal("1200"), activity_area=Decimal("800"), status="in_use")
    fields.update(kw)
    return fields


@pytest.mark.django_db
class TestDataErrors:
    def test_activity_area_larger_than_building(self, community):
        with pytest.raises(ValidationError) as e:
            facility_create(**_center(community, activity_area=Decimal("1200.01")))
        assert _codes(e, "activity_area") == ["activity_exceeds_building"]
        assert "不能大于建筑面积" in e.value.error_dict["activity_area"][0].message
        assert not Facility.objects.exists()

    def test_activity_equal_to_building_is_fine(self, community):
        facility = facility_create(**_center(community, activity_area=Decimal("1200")))
        facility.refresh_from_db()
        assert (facility.building_area, facility.activity_area) == (Decimal("1200"), Decimal("1200"))

    @pytest.mark.parametrize("field", ["building_area", "activity_area", "site_area"])
    def test_negative_area(self, community, field):
        with pytest.raises(ValidationError) as e:
            facility_create(**_center(community, **{field: Decimal("-0.01")}))
        assert "area_negative" in _codes(e, field)

    def test_handover_before_acceptance(self, community):
        with pytest.raises(ValidationError) as e:
            facility_create(**_center(community, accepted_on=date(2024, 5, 2), handed_over_on=date(2024, 5, 1)))
        assert _codes(e, "handed_over_on") == ["handover_before_acceptance"]

    def test_handover_without_acceptance(self, community):
        with pytest.raises(ValidationError) as e:
            facility_create(**_center(community, handed_over_on=date(2024, 5, 1)))
        assert _codes(e, "handed_over_on") == ["handover_before_acceptance"]

    def test_embedded_without_category(self, community):
        with pytest.raises(ValidationError) as e:
            facility_create(**_center(community, kind="embedded", service_category=""))
        assert _codes(e, "service_category") == ["service_category_required"]

    def test_category_on_a_center(self, community):
        with pytest.raises(ValidationError) as e:
            facility_create(**_center(community, service_category="elderly"))
        assert _codes(e, "service_category") == ["service_category_not_embedded"]

    def test_plaza_with_building_area(self, community):
        with pytest.raises(ValidationError) as e:
            facility_create(**_center(community, kind="plaza", activity_area=None, site_area=Decimal("1000")))
        assert _codes(e, "building_area") == ["plaza_building_area"]

    def test_plaza_without_building_area(self, community):
        plaza = facility_create(**_center(community, kind="plaza", building_area=None, activity_area=None,
                                          site_area=1000))
        plaza.refresh_from_db()
        assert plaza.kind == "plaza" and plaza.building_area is None and plaza.site_area == Decimal("1000")

    def test_dates_that_the_status_has_not_reached(self, community):
        with pytest.raises(ValidationError) as e:
            facility_create(**_center(community, status="building", accepted_on=date(2024, 5, 1)))
        assert _codes(e, "accepted_on") == ["date_status_mismatch"]

    def test_future_acceptance(self, community):
        with pytest.raises(ValidationError) as e:
            facility_create(**_center(community, accepted_on=date(2999, 1, 1)))
        assert "date_in_future" in _codes(e, "accepted_on")

    def test_edit_cannot_change_status(self, community):
        facility = facility_create(**_center(community, status="planned"))
        with pytest.raises(ValidationError) as e:
            facility_update(facility=facility, status="in_use")
        assert _codes(e, "status") == ["lifecycle_skip"]
        facility.refresh_from_db()
        assert facility.status == "planned"


@pytest.mark.django_db
class TestDatabaseRefusesWhatCleanRefuses:
    @pytest.mark.parametrize(
        "fields",
        [
            {"activity_area": Decimal("1300")},
            {"building_area": Decimal("-1"), "activity_area": None},
            {"accepted_on": date(2024, 5, 2), "handed_over_on": date(2024, 5, 1)},
            {"kind": "embedded"},
            {"kind": "plaza", "activity_area": None},
        ],
    )
    def test_constraint(self, community, fields):
        with pytest.raises(IntegrityError), transaction.atomic():
            Facility.objects.create(**_center(community, **fields))
