"""The pages as a clerk uses them: forms refuse bad data beside the field and
write nothing; a save says what it changed; history shows who changed what."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communities import services
from communities.models import Community, CommunityAdjustment, CommunityStatus, Compound

from . import builders


@pytest.fixture
def qn_client(client, clerk_qingnian):
    client.force_login(clerk_qingnian)
    return client


@pytest.fixture
def lianhulu(streets):
    return builders.community(streets["qingnian"], "001", name="莲湖路第一社区", households=1180, population=3892)


def new_community_post(street, **overrides):
    data = {
        "code": f"{street.code}050",
        "name": "新建测试社区",
        "sub_district": street.code,
        "status": "active",
        "households": 1500,
        "population": 4200,
        "party_org_type": "branch",
        "social_org_count": 2,
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------- data errors through the form


TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"code": "61010400105"}, "code", "code_format"),
        ({"code": "61010400105X"}, "code", "code_format"),
        ({"code": "610104009050"}, "code", "code_prefix"),
        ({"code": "610104001001"}, "code", "code_taken"),
        ({"households": 1500, "population": 1499}, "population", "population_below_households"),
        ({"households": -1}, "households", "min_value"),
        ({"population": -3}, "population", "min_value"),
        ({"social_org_count": -1}, "social_org_count", "min_value"),
        ({"founded_on": TOMORROW}, "founded_on", "date_in_future"),
        ({"election_on": TOMORROW}, "election_on", "date_in_future"),
        ({"approved_on": TOMORROW}, "approved_on", "date_in_future"),
    ],
)
def test_create_form_refuses_bad_data_with_its_code(qn_client, streets, lianhulu, overrides, field, code):
    response = qn_client.post(reverse("communities:community_create"), new_community_post(streets["qingnian"], **overrides))
    assert response.status_code == 200
    assert code in builders.error_codes(response.context["form"], field)
    assert Community.objects.count() == 1
    # The message stands beside its field, in Chinese.
    assert f'id="id_{field}_errors"' in response.content.decode()


def test_create_form_refuses_a_revoked_communitys_code(qn_client, streets, lianhulu):
    services.community_revoke(community=lianhulu, reason="合并")
    response = qn_client.post(
        reverse("communities:community_create"), new_community_post(streets["qingnian"], code=lianhulu.code)
    )
    assert builders.error_codes(response.context["form"], "code") == ["code_reused"]
    assert "撤销的代码不得再用" in response.content.decode()
    assert Community.objects.count() == 1


def test_edit_form_refuses_bad_data_and_writes_nothing(qn_client, lianhulu):
    url = reverse("communities:community_edit", args=[lianhulu.pk])
    response = qn_client.post(url, builders.community_post(lianhulu, households=4000, population=3999))
    assert builders.error_codes(response.context["form"], "population") == ["population_below_households"]
    assert "不能少于户数" in response.content.decode()
    response = qn_client.post(url, builders.community_post(lianhulu, founded_on=TOMORROW))
    assert builders.error_codes(response.context["form"], "founded_on") == ["date_in_future"]
    lianhulu.refresh_from_db()
    assert (lianhulu.households, lianhulu.population, lianhulu.founded_on) == (1180, 3892, None)
    assert lianhulu.history.count() == 1


def test_create_saves_and_grants_the_clerk(qn_client, streets, clerk_qingnian):
    response = qn_client.post(reverse("communities:community_create"), new_community_post(streets["qingnian"]))
    c = Community.objects.get(code="610104001050")
    assert response.status_code == 302 and response.url == reverse("communities:community_detail", args=[c.pk])
    assert clerk_qingnian.has_perm("communities.change_community", c)
    page = qn_client.get(response.url).content.decode()
    assert "已新建社区：新建测试社区（610104001050）" in page


def test_create_form_offers_only_the_clerks_street(qn_client):
    form = qn_client.get(reverse("communities:community_create")).context["form"]
    assert [s.name for s in form.fields["sub_district"].queryset] == ["青年路街道"]
    assert form.initial["code"] == "610104001"


# ---------------------------------------------------------------- save message and history


def test_save_message_after_redirect_says_what_changed(qn_client, lianhulu):
    url = reverse("communities:community_edit", args=[lianhulu.pk])
    response = qn_client.post(url, builders.community_post(lianhulu, households=1250, population=3950), follow=True)
    assert response.redirect_chain == [(reverse("communities:community_detail", args=[lianhulu.pk]), 302)]
    page = response.content.decode()
    assert "已保存：户数 1180 → 1250；常住人口 3892 → 3950" in page
    # Shown once: the next page no longer carries it.
    assert "已保存" not in qn_client.get(reverse("communities:community_detail", args=[lianhulu.pk])).content.decode()


def test_unchanged_save_says_so(qn_client, lianhulu):
    response = qn_client.post(
        reverse("communities:community_edit", args=[lianhulu.pk]), builders.community_post(lianhulu), follow=True
    )
    assert "没有修改任何内容" in response.content.decode()
    assert lianhulu.history.count() == 1


def test_history_on_detail_shows_who_what_and_when(qn_client, lianhulu, clerk_qingnian):
    qn_client.post(
        reverse("communities:community_edit", args=[lianhulu.pk]),
        builders.community_post(lianhulu, households=1250, population=3950, party_org_type="general_branch"),
    )
    response = qn_client.get(reverse("communities:community_detail", args=[lianhulu.pk]))
    rows = response.context["history"]
    assert rows[0]["who"] == clerk_qingnian.username
    assert rows[0]["kind"] == "修改"
    assert {(c["label"], c["old"], c["new"]) for c in rows[0]["changes"]} == {
        ("户数", "1180", "1250"),
        ("常住人口", "3892", "3950"),
        ("党组织类型", "党支部", "党总支"),
    }
    assert rows[-1]["kind"] == "新建"
    page = response.content.decode()
    assert "1180 → 1250" in page and "党支部 → 党总支" in page and clerk_qingnian.username in page


def test_sample_figures_lose_their_badge_once_a_clerk_enters_real_ones(qn_client, streets):
    c = builders.community(streets["qingnian"], "002", figures_are_sample=True, population_is_sample=True)
    detail = reverse("communities:community_detail", args=[c.pk])
    assert "示例值" in qn_client.get(detail).content.decode()
    assert "示例值" in qn_client.get(reverse("communities:community_list")).content.decode()
    qn_client.post(reverse("communities:community_edit", args=[c.pk]), builders.community_post(c, households=1300))
    c.refresh_from_db()
    # Only 户数 was entered: 人口 is still a sample and keeps its mark (it lost it too before).
    assert c.households == 1300 and not c.figures_are_sample and c.population_is_sample
    page = qn_client.get(detail).content.decode()
    assert page.count("sample-badge") == 1 and 'id="population"' in page.split("sample-badge")[0]
    qn_client.post(reverse("communities:community_edit", args=[c.pk]), builders.community_post(c, population=3950))
    c.refresh_from_db()
    assert not c.population_is_sample
    assert "sample-badge" not in qn_client.get(detail).content.decode()


# ---------------------------------------------------------------- revoke and adjustments


def test_revoke_through_the_page(qn_client, lianhulu):
    url = reverse("communities:community_revoke", args=[lianhulu.pk])
    response = qn_client.post(url, {"revoked_on": TOMORROW, "reason": "合并"})
    assert builders.error_codes(response.context["form"], "revoked_on") == ["date_in_future"]
    assert Community.objects.get(pk=lianhulu.pk).status == CommunityStatus.ACTIVE

    response = qn_client.post(url, {"revoked_on": "2024-03-01", "reason": "并入莲湖路第二社区"}, follow=True)
    lianhulu.refresh_from_db()
    assert lianhulu.status == CommunityStatus.REVOKED and lianhulu.revoked_on.isoformat() == "2024-03-01"
    page = response.content.decode()
    assert "已撤销社区" in page and "并入莲湖路第二社区" in page  # the reason shows in the history


def test_adjustment_through_the_page(qn_client, streets):
    micro = builders.community(streets["qingnian"], "003", households=600, population=1500)
    url = reverse("communities:adjustment_create", args=[micro.pk])
    response = qn_client.post(url, {"kind": "defer", "reason": ""})
    assert builders.error_codes(response.context["form"], "reason") == ["defer_reason_required"]
    assert not CommunityAdjustment.objects.exists()

    response = qn_client.post(url, {"kind": "defer", "reason": "老旧街区，暂不合并"}, follow=True)
    assert CommunityAdjustment.objects.get().kind == "defer"
    page = response.content.decode()
    assert "已登记调整记录" in page and "老旧街区，暂不合并" in page


# ---------------------------------------------------------------- compounds


def test_compound_create_and_edit(qn_client, lianhulu, streets):
    response = qn_client.post(
        reverse("communities:compound_create"),
        {"code": "QN-001", "name": "丰庆小区", "community": lianhulu.pk, "households": 420, "property_service": "market",
         "built_on": "2015-06-01", "must_provide_facility": "on"},
    )
    x = Compound.objects.get(code="QN-001")
    assert response.url == reverse("communities:compound_detail", args=[x.pk])
    assert x.sub_district == streets["qingnian"] and x.community == lianhulu

    response = qn_client.post(
        reverse("communities:compound_edit", args=[x.pk]),
        builders.compound_post(x, property_service="self", households=450),
        follow=True,
    )
    page = response.content.decode()
    assert "户数 420 → 450" in page and "物业服务方式 市场化物业 → 居民自管" in page
    assert "市场化物业 → 居民自管" in page.split("修改记录")[1]


def test_unassigned_compound_needs_a_street(qn_client):
    response = qn_client.post(
        reverse("communities:compound_create"), {"code": "QN-002", "name": "无主院落", "households": 40, "property_service": "none"}
    )
    assert builders.error_codes(response.context["form"], "sub_district") == ["sub_district_required"]
    assert not Compound.objects.exists()


def test_compound_form_refuses_future_dates_and_missing_authority(qn_client, streets):
    x = builders.compound("QN-003", street=streets["qingnian"])
    url = reverse("communities:compound_edit", args=[x.pk])
    response = qn_client.post(url, builders.compound_post(x, built_on=TOMORROW))
    assert builders.error_codes(response.context["form"], "built_on") == ["date_in_future"]
    response = qn_client.post(url, builders.compound_post(x, ruling="划归", ruling_on="2024-01-02"))
    assert builders.error_codes(response.context["form"], "ruling_authority") == ["ruling_authority_required"]
    response = qn_client.post(url, builders.compound_post(x, households=-2))
    assert builders.error_codes(response.context["form"], "households") == ["min_value"]
    x.refresh_from_db()
    assert (x.built_on, x.ruling_on, x.households) == (None, None, 300)


def test_compound_list_filters(qn_client, lianhulu, streets):
    builders.compound("QN-A", community=lianhulu, property_service="market")
    builders.compound("QN-B", street=streets["qingnian"], property_service="none")
    url = reverse("communities:compound_list")
    names = lambda params: [x.code for x in qn_client.get(url, params).context["page"]]  # noqa: E731
    assert names({}) == ["QN-A", "QN-B"]
    assert names({"unassigned": "true"}) == ["QN-B"]
    assert names({"property_service": "market"}) == ["QN-A"]
    assert names({"community": lianhulu.pk}) == ["QN-A"]
    assert names({"q": "QN-B"}) == ["QN-B"]


# ---------------------------------------------------------------- lists and home


def _make_communities(street, n, start=100):
    """Many communities fast; the 街办's clerks hold them through the 街办, as any new community."""
    Community.objects.bulk_create(
        [
            Community(code=f"{street.code}{i:03d}", name=f"批量社区{i}", sub_district=street, households=800 + i * 30,
                      population=3000 + i * 100)
            for i in range(start, start + n)
        ]
    )


@pytest.mark.parametrize("who", ["admin_user", "clerk_qingnian", "reviewer"])
def test_community_list_query_count_does_not_grow_with_rows(request, client, streets, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    url = reverse("communities:community_list")

    def count_queries(n):
        Community.objects.all().delete()
        _make_communities(streets["qingnian"], n)
        client.get(url)  # warm session and content-type caches
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"sort": "-households"})
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == min(n, 50)
        return len(ctx.captured_queries)

    assert count_queries(10) == count_queries(200)


def test_community_list_filters_sort_and_paginate(qn_client, streets):
    _make_communities(streets["qingnian"], 60)  # households 3800 .. 5570
    url = reverse("communities:community_list")
    codes = lambda params: [c.code for c in qn_client.get(url, params).context["page"]]  # noqa: E731

    first_page = qn_client.get(url).context["page"]
    assert first_page.paginator.count == 60 and len(first_page.object_list) == 50
    assert len(qn_client.get(url, {"page": 2}).context["page"].object_list) == 10

    oversized = codes({"scale": "oversized"})
    assert oversized and all(Community.objects.get(code=c).households > 5000 for c in oversized)
    assert (len(codes({"scale": "moderate"})), len(oversized), codes({"scale": "micro"})) == (41, 19, [])
    assert codes({"q": "批量社区101"}) == ["610104001101"]
    assert codes({"q": "610104001159"}) == ["610104001159"]
    assert codes({"sort": "-households"})[0] == "610104001159"
    assert codes({"sub_district": streets["qingnian"].code})[0] == "610104001100"
    services.community_revoke(community=Community.objects.get(code="610104001100"), reason="测试")
    assert codes({"status": "revoked"}) == ["610104001100"]
    # The rows (communities' community_rows tag): the name escaped and linked, figures grouped, the status badge.
    revoked = Community.objects.get(code="610104001100")
    services.community_update(community=revoked, name="批量<社区>&一")
    page = qn_client.get(url, {"status": "revoked"}).content.decode()
    row = page[page.index("<td>610104001100</td>"):]
    row = row[:row.index("</tr>")]
    detail = reverse("communities:community_detail", args=[revoked.pk])
    assert f'<a href="{detail}">批量&lt;社区&gt;&amp;一</a>' in row
    assert f'<td class="text-end">{revoked.households:,}</td>' in row and "sample-badge" not in row
    assert '<span class="badge text-bg-dark">撤销</span>' in row
    assert "没有符合条件的社区。" in qn_client.get(url, {"q": "没有这个社区"}).content.decode()


def test_home_shows_street_and_counts(qn_client, streets):
    builders.community(streets["qingnian"], "001", households=600, population=1500)
    builders.community(streets["qingnian"], "002", households=6000, population=16000)
    builders.community(streets["qingnian"], "003", households=1200, population=3000)
    builders.community(streets["zaoyuan"], "001")
    builders.compound("QN-X", street=streets["qingnian"])
    response = qn_client.get(reverse("home"))
    ctx = response.context
    assert [s.name for s in ctx["own_streets"]] == ["青年路街道"]
    assert ctx["community_total"] == 3
    assert {label: n for label, n, _ in ctx["scale_counts"]} == {"微型": 1, "适度": 1, "超大型": 1}
    assert ctx["unassigned_total"] == 1
    page = response.content.decode()
    assert "青年路街道" in page and "街办办事员" in page


def test_subdistrict_list_counts(client, admin_user, streets):
    builders.community(streets["qingnian"], "001", households=1000, population=3000)
    builders.community(streets["qingnian"], "002", households=2000, population=5000)
    gone = builders.community(streets["zaoyuan"], "001", households=1500, population=4000)
    services.community_revoke(community=gone, reason="测试")
    client.force_login(admin_user)
    streets_page = {s.code: s for s in client.get(reverse("communities:subdistrict_list")).context["streets"]}
    qn = streets_page["610104001"]
    assert (qn.community_count, qn.household_total, qn.population_total) == (2, 3000, 8000)
    assert streets_page["610104009"].community_count == 0


def test_pages_carry_no_inline_script_or_style(qn_client, lianhulu):
    for url in (reverse("home"), reverse("communities:community_list"),
                reverse("communities:community_detail", args=[lianhulu.pk]),
                reverse("communities:community_edit", args=[lianhulu.pk])):
        page = qn_client.get(url).content.decode()
        assert 'style="' not in page
        assert "<script>" not in page


def test_compound_history_names_the_community_it_joined(qn_client, lianhulu, streets, clerk_qingnian):
    x = builders.compound("QN-004", street=streets["qingnian"])
    qn_client.post(reverse("communities:compound_edit", args=[x.pk]), builders.compound_post(x, community=lianhulu.pk))
    x.refresh_from_db()
    assert x.community == lianhulu
    rows = qn_client.get(reverse("communities:compound_detail", args=[x.pk])).context["history"]
    assert rows[0]["who"] == clerk_qingnian.username
    assert {"label": "所属社区", "old": "空", "new": "莲湖路第一社区"} in rows[0]["changes"]


def test_a_blank_code_is_reported_once(qn_client, streets):
    # The form field and the model's clean() both refuse a blank code; the clerk reads it once.
    response = qn_client.post(
        reverse("communities:compound_create"),
        {"code": "", "name": "无号院落", "sub_district": streets["qingnian"].code, "households": 40, "property_service": "none"},
    )
    assert builders.error_codes(response.context["form"], "code") == ["required"]
    assert response.content.decode().count("这个字段是必填项。") == 1
    assert not Compound.objects.exists()


def test_nav_marks_the_current_section(qn_client, lianhulu):
    page = qn_client.get(reverse("communities:community_detail", args=[lianhulu.pk])).content.decode()
    assert f'active" aria-current="page" href="{reverse("communities:community_list")}"' in page
    assert page.count('nav-link active') == 1
    page = qn_client.get(reverse("compliance:finding_list")).content.decode()
    assert f'active" aria-current="page" href="{reverse("compliance:dashboard")}"' in page


def test_filter_bar_select_renders_what_djangos_select_renders():
    """core.filters.PlainSelect skips the per-option templates, not a byte of the markup."""
    from django import forms

    from core.filters import PlainSelect

    choices = [("", "全部"), ("a&b", "<甲>"), ("分组", [(1, "一"), (2, "二")]), (3, "三")]
    attrs = {"class": "form-select form-select-sm", "id": "id_x", "required": True, "disabled": False}
    for value in ("", "a&b", 2, None):
        assert PlainSelect(attrs=attrs, choices=choices).render("x", value) == forms.Select(
            attrs=attrs, choices=choices).render("x", value), value
