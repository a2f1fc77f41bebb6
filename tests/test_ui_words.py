"""Words people read (issue 13): numbers grouped, Chinese sort options and admin sections, the login
form keeping the user name, the compound form's 所在街道 following the community, 停用 as a danger button."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import reverse

from tests.staffing import builders


def test_num_and_area_filters_group_by_thousands():
    out = Template("{{ a|num }} {{ b|num }} {{ c|area }} {{ d|num }} {{ e|num }}").render(
        Context({"a": 12000, "b": 1500.5, "c": 1100, "d": None, "e": "610104001001"}))
    assert out.startswith("12,000 1,500.5 1,100 ㎡ —")


@pytest.mark.django_db
def test_community_list_groups_figures_and_sorts_in_chinese(client, streets, admin_user):
    builders.community(streets["qingnian"], "001", households=1180, population=13892)
    client.force_login(admin_user)
    page = client.get(reverse("communities:community_list")).content.decode()
    assert "1,180" in page and "13,892" in page and "610104001001" in page
    assert "(descending)" not in page  # sorting is by column headers now (ui/listing.py)


@pytest.mark.django_db
def test_admin_index_has_no_english_section_for_login_attempts(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("admin:index")).content.decode()
    assert "登录安全" in page and "登录失败记录" in page
    assert "Access attempts" not in page and ">Axes<" not in page
    assert "身份验证器设备" in page and "TOTP devices" not in page and "Static devices" not in page
    assert "Model name" not in page


@pytest.mark.django_db
def test_failed_login_keeps_the_user_name(client, clerk_qingnian):
    page = client.post(reverse("login"), {"username": "clerk_qn", "password": "wrong-password"}).content.decode()
    assert "用户名或密码不正确" in page
    assert 'value="clerk_qn"' in page


@pytest.mark.django_db
def test_compound_form_tells_the_browser_each_communitys_street(client, streets, clerk_qingnian):
    c = builders.community(streets["qingnian"], "001")
    client.force_login(clerk_qingnian)
    page = client.get(reverse("communities:compound_create")).content.decode()
    assert f'value="{c.pk}" data-street="{streets["qingnian"].code}"' in page
    assert "js/compound_form.js" in page and "<script>" not in page.split("js/compound_form.js")[0][-200:]


@pytest.mark.django_db
def test_closing_a_facility_is_a_danger_button(client, streets, admin_user):
    from facilities.services import facility_create

    c = builders.community(streets["qingnian"], "001")
    f = facility_create(code="SS-900", community=c, name="旧活动室", kind="center", building_area=300,
                        status="in_use")
    client.force_login(admin_user)
    page = client.get(reverse("facilities:facility_detail", args=[f.pk])).content.decode()
    if "确认停用" in page:
        button = page.split("确认停用")[0].rsplit("<button", 1)[1]
        assert "btn-danger" in button and "btn-success" not in button
    else:  # the transition is offered to others only: the template still styles it by target
        from pathlib import Path

        template = Path("facilities/templates/facilities/facility_detail.html").read_text(encoding="utf-8")
        assert 'a.transition.target == "closed" %}btn-danger' in template


def test_every_rule_has_a_short_chinese_name():
    """A rule added without a short name would show its long title; the catalogue and names stay in step."""
    from compliance.catalogue import RULES
    from compliance.names import SHORT_NAMES, rule_name

    assert set(RULES) <= set(SHORT_NAMES)
    assert rule_name("M04.households") == "措施四·户数规模"
    assert all(len(name) <= 12 for name in SHORT_NAMES.values())
