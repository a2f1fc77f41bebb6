"""减负增效监测点 and 典型案例 in the admin: saves and deletes go through the services."""

from datetime import date

import pytest
from django.urls import reverse

from communities import services
from communities.models import MonitoringPoint, TypicalCase, TypicalCaseKind

from .builders import community

pytestmark = pytest.mark.django_db


def test_admin_adds_and_withdraws_a_monitoring_point(client, admin_user, streets):
    c = community(streets["qingnian"])
    client.force_login(admin_user)
    response = client.post(reverse("admin:communities_monitoringpoint_add"),
                           {"community": c.pk, "designated_on": "2025-03-01", "note": "首批"})
    assert response.status_code == 302
    point = MonitoringPoint.objects.get(community=c)
    assert point.history.first().history_user == admin_user
    assert client.get(reverse("admin:communities_monitoringpoint_change", args=[point.pk])).status_code == 200

    response = client.post(reverse("admin:communities_monitoringpoint_delete", args=[point.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not MonitoringPoint.objects.exists()
    assert MonitoringPoint.history.filter(history_type="-").get().history_change_reason == "取消监测点"


def test_admin_refuses_a_point_in_a_revoked_community(client, admin_user, streets):
    c = community(streets["qingnian"])
    services.community_revoke(community=c, on=date(2025, 1, 1))
    client.force_login(admin_user)
    response = client.post(reverse("admin:communities_monitoringpoint_add"),
                           {"community": c.pk, "designated_on": "2025-03-01"})
    assert response.status_code == 200
    assert "已撤销的社区不能确定为监测点" in response.content.decode()
    assert not MonitoringPoint.objects.exists()


def test_admin_typical_case_pages(client, admin_user, streets):
    c = community(streets["qingnian"])
    client.force_login(admin_user)
    response = client.post(reverse("admin:communities_typicalcase_add"),
                           {"kind": TypicalCaseKind.CONSULTATION, "title": "阳光议事厅", "community": c.pk,
                            "year": 2025})
    assert response.status_code == 302
    case = TypicalCase.objects.get()
    response = client.post(reverse("admin:communities_typicalcase_change", args=[case.pk]),
                           {"kind": TypicalCaseKind.CONSULTATION, "title": "阳光议事厅（优秀）", "community": c.pk,
                            "year": 2025})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.title == "阳光议事厅（优秀）"
    assert case.history.first().history_user == admin_user
    assert client.get(reverse("admin:communities_typicalcase_changelist")).status_code == 200
