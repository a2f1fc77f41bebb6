from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from funding.models import Allocation
from funding.services import allocation_upsert
from tests.facilities.conftest import unit_user


@pytest.mark.django_db
class TestEntry:
    def test_finance_user_enters_an_allocation(self, client, community, finance_user):
        client.force_login(finance_user)
        response = client.post(reverse("funding:allocation_entry"), {
            "community": community.pk, "year": 2025, "level": "city", "planned": "130000", "paid": "60000",
            "paid_on": "2025-05-20",
        })
        assert response.status_code == 302
        allocation = Allocation.objects.get()
        assert allocation.disbursed == Decimal("60000")
        assert list(allocation.disbursements.values_list("paid_on", "amount")) == [(date(2025, 5, 20), Decimal("60000"))]

    def test_negative_money_shows_the_error(self, client, community, civil_user):
        client.force_login(civil_user)
        page = client.post(reverse("funding:allocation_entry"), {
            "community": community.pk, "year": 2025, "level": "city", "planned": "-1",
        }).content.decode()
        assert "不能为负数" in page
        assert not Allocation.objects.exists()

    @pytest.mark.parametrize("name", ["allocation_entry", "salary_entry", "task_fund_entry"])
    def test_other_departments_and_clerks_get_403(self, client, streets, clerk_qingnian, name):
        housing = unit_user("zjj2", "housing")
        for user in (housing, clerk_qingnian):
            client.force_login(user)
            assert client.get(reverse(f"funding:{name}")).status_code == 403


@pytest.mark.django_db
def test_yearly_table_shows_shortfalls(client, community, other_community, clerk_qingnian, reviewer):
    allocation_upsert(community=community, year=2025, level="city", planned=Decimal("129999"))
    allocation_upsert(community=community, year=2025, level="district", planned=Decimal("120000"))
    client.force_login(reviewer)
    page = client.get(reverse("funding:overview"), {"year": 2025}).content.decode()
    assert "青年路街道" in page and "枣园街道" in page
    assert "未足额" in page
    client.force_login(clerk_qingnian)
    page = client.get(reverse("funding:overview"), {"year": 2025}).content.decode()
    assert "枣园社区" not in page
    assert "129,999" in page
