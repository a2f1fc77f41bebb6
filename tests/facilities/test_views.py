"""Facility pages: scoping like communities, step actions only for the right unit."""

from datetime import date

import pytest
from django.urls import reverse

from facilities.models import Facility
from facilities.services import facility_create


@pytest.fixture
def planned(community):
    return facility_create(code="SS-200", community=community, name="规划中的中心", kind="center",
                           building_area=1100, activity_area=700)


@pytest.fixture
def accepted(community):
    return facility_create(code="SS-201", community=community, name="已验收的中心", kind="center",
                           building_area=1100, status="accepted", accepted_on=date(2025, 3, 1))


def advance(client, facility, to_status, **extra):
    return client.post(reverse("facilities:facility_advance", args=[facility.pk]),
                       {"to_status": to_status, **{f"{to_status}-{k}": v for k, v in extra.items()}})


@pytest.mark.django_db
class TestStepActions:
    def test_planning_unit_approves(self, client, planned, planning_user):
        client.force_login(planning_user)
        page = client.get(reverse("facilities:facility_detail", args=[planned.pk]))
        assert "确认规划审批" in page.content.decode()
        response = advance(client, planned, "building", note="规划许可已核发")
        assert response.status_code == 302
        planned.refresh_from_db()
        assert planned.status == "building"
        assert planned.steps.get().note == "规划许可已核发"

    def test_other_unit_gets_403(self, client, planned, housing_user, civil_user):
        for user in (housing_user, civil_user):
            client.force_login(user)
            page = client.get(reverse("facilities:facility_detail", args=[planned.pk])).content.decode()
            assert "确认规划审批" not in page
            assert "由资源规划莲湖分局办理" in page
            assert advance(client, planned, "building").status_code == 403
        planned.refresh_from_db()
        assert planned.status == "planned"

    def test_other_streets_clerk_gets_404(self, client, accepted, clerk_zaoyuan):
        client.force_login(clerk_zaoyuan)
        assert client.get(reverse("facilities:facility_detail", args=[accepted.pk])).status_code == 404
        assert advance(client, accepted, "handed_over").status_code == 404

    def test_civil_affairs_hands_over(self, client, accepted, civil_user):
        client.force_login(civil_user)
        advance(client, accepted, "handed_over", on="2025-03-20")
        accepted.refresh_from_db()
        assert (accepted.status, accepted.handed_over_on) == ("handed_over", date(2025, 3, 20))

    def test_skipping_a_step_is_refused(self, client, planned, admin_user):
        client.force_login(admin_user)
        response = advance(client, planned, "in_use")
        assert response.status_code == 302
        page = client.get(response.url).content.decode()
        assert "不能直接改为“使用中”" in page
        planned.refresh_from_db()
        assert planned.status == "planned"


@pytest.mark.django_db
class TestPages:
    def test_list_is_scoped(self, client, planned, other_community, clerk_zaoyuan, clerk_qingnian):
        facility_create(code="ZY-1", community=other_community, name="枣园广场", kind="plaza", site_area=1200)
        client.force_login(clerk_zaoyuan)
        page = client.get(reverse("facilities:facility_list")).content.decode()
        assert "枣园广场" in page and "规划中的中心" not in page
        client.force_login(clerk_qingnian)
        page = client.get(reverse("facilities:facility_list")).content.decode()
        assert "规划中的中心" in page and "枣园广场" not in page

    def test_areas_read_without_trailing_zeros(self, client, planned, clerk_qingnian):
        client.force_login(clerk_qingnian)
        page = client.get(reverse("facilities:facility_detail", args=[planned.pk])).content.decode()
        assert "<td>1,100㎡</td>" in page and "1100.00" not in page
        assert "1100.00" not in client.get(reverse("facilities:facility_list")).content.decode()

    def test_empty_list_says_how_to_register(self, client, community, clerk_qingnian):
        client.force_login(clerk_qingnian)
        page = client.get(reverse("facilities:facility_list")).content.decode()
        assert "尚未登记设施" in page and "导入" in page
        filtered = client.get(reverse("facilities:facility_list"), {"q": "无此设施"}).content.decode()
        assert "没有符合条件的设施" in filtered

    def test_clerk_registers_a_facility(self, client, community, clerk_qingnian):
        client.force_login(clerk_qingnian)
        data = {"code": "SS-300", "community": community.pk, "name": "助餐点", "kind": "embedded",
                "service_category": "meals", "building_area": "120", "activity_area": "80", "site_area": "",
                "acquisition": "lease", "residential_utilities": "true", "status": "in_use",
                "accepted_on": "", "handed_over_on": ""}
        response = client.post(reverse("facilities:facility_create"), data)
        assert response.status_code == 302
        facility = Facility.objects.get(code="SS-300")
        assert facility.residential_utilities is True

    def test_form_shows_the_coded_error(self, client, community, clerk_qingnian):
        client.force_login(clerk_qingnian)
        data = {"code": "SS-301", "community": community.pk, "name": "中心", "kind": "center",
                "building_area": "100", "activity_area": "150", "status": "in_use"}
        page = client.post(reverse("facilities:facility_create"), data).content.decode()
        assert "不能大于建筑面积" in page
        assert not Facility.objects.filter(code="SS-301").exists()

    def test_clerk_cannot_register_for_another_street(self, client, other_community, clerk_qingnian):
        client.force_login(clerk_qingnian)
        data = {"code": "SS-302", "community": other_community.pk, "name": "中心", "kind": "center",
                "building_area": "100", "status": "in_use"}
        client.post(reverse("facilities:facility_create"), data)
        assert not Facility.objects.filter(code="SS-302").exists()

    def test_edit_form_has_no_status(self, client, planned, clerk_qingnian, clerk_zaoyuan):
        client.force_login(clerk_qingnian)
        page = client.get(reverse("facilities:facility_edit", args=[planned.pk])).content.decode()
        assert 'name="status"' not in page
        client.force_login(clerk_zaoyuan)
        assert client.get(reverse("facilities:facility_edit", args=[planned.pk])).status_code == 404

    def test_department_cannot_edit(self, client, planned, housing_user):
        client.force_login(housing_user)
        assert client.get(reverse("facilities:facility_edit", args=[planned.pk])).status_code == 404
        assert client.get(reverse("facilities:facility_create")).status_code == 403


@pytest.mark.django_db
def test_community_panel_shows_required_against_actual(community):
    from django.template import Context, Template

    facility_create(code="SS-400", community=community, name="中心", kind="center", building_area=620,
                    activity_area=400, status="in_use")
    facility_create(code="SS-401", community=community, name="养老驿站", kind="embedded", service_category="elderly",
                    building_area=100, status="in_use")
    html = Template("{% load facility_panels %}{% community_facility_panel community %}").render(
        Context({"community": community}))
    assert "620㎡" in html and "1,050㎡" in html and "3500户×30㎡/百户" in html
    assert "婴幼儿托育（缺）" in html and "养老服务（缺）" not in html


@pytest.mark.django_db
def test_community_page_carries_the_facility_panel(client, community, clerk_qingnian):
    client.force_login(clerk_qingnian)
    page = client.get(reverse("communities:community_detail", args=[community.pk])).content.decode()
    assert 'id="facility-requirements"' in page
    assert "3500户×30㎡/百户" in page


@pytest.mark.django_db(transaction=True)
def test_a_facility_save_names_the_findings_it_resolved(client, community, clerk_qingnian):
    # The community opened M07.facility_area when it was created (no facility yet).
    from compliance.models import Finding

    assert Finding.objects.filter(rule_id="M07.facility_area", status="open").exists()
    client.force_login(clerk_qingnian)
    data = {"code": "SS-400", "community": community.pk, "name": "综合服务中心", "kind": "center",
            "service_category": "", "building_area": "1200", "activity_area": "800", "site_area": "",
            "acquisition": "", "residential_utilities": "", "status": "in_use", "accepted_on": "2024-01-02",
            "handed_over_on": "2024-02-01"}
    page = client.post(reverse("facilities:facility_create"), data, follow=True).content.decode()
    assert "已登记设施" in page
    assert "已整改" in page and "措施七·服务设施面积" in page
