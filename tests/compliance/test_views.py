"""The compliance pages as each role uses them: scoping, waivers, parameters,
the dashboard's counts, query counts, sweeps and the page after a save."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communities import services as community_services
from communities.models import Community
from compliance.models import Finding, FindingEvent, RuleParameter, SupervisionAction, Sweep, SweepStatus
from compliance.parameters import params_for
from compliance.rules import registry
from compliance.services import rule_parameter_set

from .pages import finding

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def qn(client, clerk_qingnian):
    client.force_login(clerk_qingnian)
    return client


@pytest.fixture
def rv(reviewer):
    # Its own client, so a test can speak as the reviewer and a clerk side by side.
    client = Client()
    client.force_login(reviewer)
    return client


@pytest.fixture
def two_streets(make_community):
    """One small community in each 街办, each with its own finding."""
    a = make_community("qingnian", households=500, name="青年甲社区")
    b = make_community("zaoyuan", households=600, name="枣园乙社区")
    return finding(community=a), finding(community=b)


def listed(response):
    return {f.target_key for f in response.context["page"]}


# ---------------------------------------------------------------- scoping


def test_clerk_lists_only_own_findings_reviewer_all(qn, client, reviewer, two_streets):
    mine, theirs = two_streets
    assert listed(qn.get(reverse("compliance:finding_list"))) == {mine.target_key}
    client.force_login(reviewer)
    assert listed(client.get(reverse("compliance:finding_list"))) == {mine.target_key, theirs.target_key}


def test_clerk_gets_404_on_another_streets_finding(qn, two_streets):
    mine, theirs = two_streets
    assert qn.get(reverse("compliance:finding_detail", args=[theirs.pk])).status_code == 404
    page = qn.get(reverse("compliance:finding_detail", args=[mine.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    # The clause itself, the rule's reading and the unit that must act.
    assert "合理划分社区管辖范围。结合辖区经济社会发展" in text
    assert "以3500户或10000人为宜" in text
    assert page.context["unit"] == "青年路街道"
    assert "牵头单位" in text and "区民政局" in text
    assert 'id="waive-form"' not in text  # clerks do not waive


def test_clerk_sees_district_findings_read_only(qn, streets):
    f = finding(rule_id="M19.salary_share", target_type="district", by_duty=True)
    assert f.target_key in listed(qn.get(reverse("compliance:finding_list")))
    page = qn.get(reverse("compliance:finding_detail", args=[f.pk]))
    assert page.status_code == 200
    assert page.context["unit"] == "区财政局"  # 措施十九: 区财政局 answers, 区民政局 leads
    assert qn.post(reverse("compliance:finding_waive", args=[f.pk]),
                   {"reason": "x", "until": TODAY.isoformat()}).status_code == 403


def test_unassigned_compound_of_another_street_is_hidden(qn, streets):
    f = finding(rule_id="M03.compound_unassigned", street=streets["zaoyuan"])
    mine = finding(rule_id="M03.compound_unassigned", street=streets["qingnian"])
    assert listed(qn.get(reverse("compliance:finding_list"))) == {mine.target_key}
    assert qn.get(reverse("compliance:finding_detail", args=[f.pk])).status_code == 404


def test_list_rows_show_each_cell_escaped_with_its_links(rv, make_community):
    # The rows are written by compliance_tags.finding_rows, not a template loop: the same cells, escaped.
    c = make_community("qingnian", households=500, name="青年<b>甲</b>&社区")
    f = finding(community=c, message="户数 <500> 户 & 以下")
    page = rv.get(reverse("compliance:finding_list")).content.decode()
    row = page[page.index(f'data-key="{c.code}"'):]
    row = row[:row.index("</tr>")]
    assert f'href="{reverse("compliance:finding_detail", args=[f.pk])}"' in row
    assert f'href="{reverse("communities:community_detail", args=[c.pk])}">青年&lt;b&gt;甲&lt;/b&gt;&amp;社区</a>' in row
    assert "户数 &lt;500&gt; 户 &amp; 以下" in row and "<500>" not in row
    assert 'title="M04.households"' in row and "青年路街道" in row
    assert f'<td class="finding-due">{f.due_date:%Y-%m-%d}</td>' in row
    assert rv.get(reverse("compliance:finding_list"), {"status": "closed"}).content.decode().count(
        "没有符合条件的问题。") == 1


def test_filters_narrow_the_list(rv, make_community):
    c = make_community("qingnian", households=500)
    d = make_community("zaoyuan", households=500, name="枣园测试")
    finding(community=c)
    finding(community=d)
    finding(community=c, rule_id="M07.facility_area")
    resolved = finding(community=d, rule_id="M07.outdoor_plaza", status="resolved")
    url = reverse("compliance:finding_list")
    assert listed(rv.get(url, {"clause": 7})) == {c.code}
    assert listed(rv.get(url, {"rule": "M04.households", "sub_district": "610104009"})) == {d.code}
    assert listed(rv.get(url, {"severity": "violation"})) == {c.code}
    assert listed(rv.get(url, {"status": "resolved"})) == {resolved.target_key}
    assert len(rv.get(url, {"status": ""}).context["page"]) == 4  # 全部状态
    assert listed(rv.get(url, {"q": "枣园"})) == {d.code}
    assert listed(rv.get(url, {"q": c.code})) == {c.code}


# ---------------------------------------------------------------- waivers


def test_reviewer_waives_with_reason_and_end(rv, two_streets):
    f, _ = two_streets
    until = TODAY + timedelta(days=90)
    response = rv.post(reverse("compliance:finding_waive", args=[f.pk]), {"reason": "暂不拆分", "until": until})
    assert response.status_code == 302
    f.refresh_from_db()
    assert (f.status, f.waived_reason, f.waived_until) == ("waived", "暂不拆分", until)
    assert FindingEvent.objects.filter(finding=f, kind="waived").exists()
    assert "暂不拆分" in rv.get(reverse("compliance:finding_detail", args=[f.pk])).content.decode()


def test_clerk_cannot_waive(qn, two_streets):
    mine, theirs = two_streets
    data = {"reason": "暂不拆分", "until": (TODAY + timedelta(days=9)).isoformat()}
    assert qn.post(reverse("compliance:finding_waive", args=[mine.pk]), data).status_code == 403
    assert qn.post(reverse("compliance:finding_waive", args=[theirs.pk]), data).status_code == 404
    assert set(Finding.objects.values_list("status", flat=True)) == {"open"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "", "until": (TODAY + timedelta(days=9)).isoformat()}, "请填写豁免理由"),
        ({"reason": "已增配工作人员", "until": ""}, "请填写豁免截止日期"),
        ({"reason": "已增配工作人员", "until": (TODAY - timedelta(days=1)).isoformat()}, "不能早于今天"),
    ],
)
def test_waiver_needs_reason_and_end_date(rv, two_streets, data, message):
    f, _ = two_streets
    response = rv.post(reverse("compliance:finding_waive", args=[f.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    f.refresh_from_db()
    assert f.status == "open" and f.waived_reason == ""


# ---------------------------------------------------------------- parameters


def test_reviewer_changes_a_parameter_and_history_stays(rv):
    url = reverse("compliance:parameter_set", args=["M04.households", "min_households"])
    day1, day2 = TODAY - timedelta(days=10), TODAY - timedelta(days=1)
    assert rv.post(url, {"value": "900", "effective_from": day1, "reason": "试点调整"}).status_code == 302
    assert rv.post(url, {"value": "950", "effective_from": day2, "reason": "再次调整"}).status_code == 302
    rows = list(RuleParameter.objects.filter(rule_id="M04.households").values_list("value", "effective_from"))
    assert rows == [(900, day1), (950, day2)]
    rule = registry.get("M04.households")
    assert params_for(rule, day1)["min_households"] == 900
    assert params_for(rule, day1 - timedelta(days=1))["min_households"] == 1000
    page = rv.get(reverse("compliance:rule_catalogue")).content.decode()
    assert "试点调整" in page and "再次调整" in page
    entry = next(r for c in rv.get(reverse("compliance:rule_catalogue")).context["clauses"] for r in c["rules"]
                 if r["spec"].id == "M04.households")
    p = next(p for p in entry["params"] if p["name"] == "min_households")
    assert (p["current"], p["default"], len(p["history"])) == ("950", "1000", 2)


def test_parameter_effective_tomorrow_leaves_today_alone(rv):
    url = reverse("compliance:parameter_set", args=["M04.households", "max_households"])
    rv.post(url, {"value": "6000", "effective_from": TODAY + timedelta(days=1), "reason": "新规"})
    assert params_for(registry.get("M04.households"), TODAY)["max_households"] == 5000


def test_clerk_cannot_change_a_parameter(qn):
    url = reverse("compliance:parameter_set", args=["M04.households", "min_households"])
    response = qn.post(url, {"value": "900", "effective_from": TODAY, "reason": "想改"})
    assert response.status_code == 403
    assert not RuleParameter.objects.exists()
    assert 'class="small param-edit"' not in qn.get(reverse("compliance:rule_catalogue")).content.decode()


def test_bad_parameter_value_is_refused_with_a_message(rv):
    url = reverse("compliance:parameter_set", args=["M04.households", "min_households"])
    response = rv.post(url, {"value": "一千", "effective_from": TODAY, "reason": "试"}, follow=True)
    assert "参数取值“一千”无效：应为整数" in response.content.decode()
    response = rv.post(url, {"value": "900", "effective_from": TODAY, "reason": ""}, follow=True)
    assert "请填写调整参数的理由" in response.content.decode()
    assert not RuleParameter.objects.exists()


def test_catalogue_covers_all_twenty_measures(qn):
    response = qn.get(reverse("compliance:rule_catalogue"))
    clauses = response.context["clauses"]
    assert [c["info"].number for c in clauses] == list(range(1, 21))
    without = {c["info"].number for c in clauses if not c["rules"]}
    assert without == {2, 5, 20}
    assert all(c["no_rule_reason"] for c in clauses if not c["rules"])
    shown = {r["spec"].id for c in clauses for r in c["rules"]}
    assert set(registry.ids()) <= shown  # whatever rules are registered
    page = response.content.decode()
    assert "无可量化条款" in page and "提醒、督办、约谈" in page


# ---------------------------------------------------------------- dashboard


def _cell(response, clause, column):
    codes = [code for code, _ in response.context["columns"]]
    row = next(r for r in response.context["rows"] if r["number"] == clause)
    return {sev: c["n"] and (c["communities"], c["orphans"]) for sev, _, c in row["cells"][codes.index(column)]}


def test_dashboard_matrix_counts(rv, streets, make_community):
    a = make_community("qingnian", households=500)
    b = make_community("qingnian", households=600)
    z = make_community("zaoyuan", households=700)
    finding(community=a)
    finding(community=b)
    finding(community=b, rule_id="M04.population")  # same 社区, same severity: counted once
    finding(community=b, rule_id="M04.boundaries")  # 违规
    finding(community=z)
    finding(community=a, rule_id="M07.facility_area", status="resolved")  # not open: not counted
    finding(rule_id="M03.compound_unassigned", street=streets["qingnian"])
    response = rv.get(reverse("compliance:dashboard"))
    assert _cell(response, 4, "610104001") == {"violation": (1, 0), "warning": (2, 0), "notice": 0}
    assert _cell(response, 4, "610104009") == {"violation": 0, "warning": (1, 0), "notice": 0}
    assert _cell(response, 7, "610104001") == {"violation": 0, "warning": 0, "notice": 0}
    assert _cell(response, 3, "610104001") == {"violation": (0, 1), "warning": 0, "notice": 0}
    row4 = next(r for r in response.context["rows"] if r["number"] == 4)
    assert {sev: c.get("communities") for sev, _, c in row4["total"]} == {
        "violation": 1, "warning": 3, "notice": None}
    warning = next(c for sev, _, c in row4["cells"][0] if sev == "warning")
    assert warning["url"] == (reverse("compliance:finding_list")
                              + "?status=open&severity=warning&clause=4&sub_district=610104001")
    assert listed(rv.get(warning["url"])) == {a.code, b.code}


def test_clerk_dashboard_has_only_own_column(qn, two_streets):
    response = qn.get(reverse("compliance:dashboard"))
    assert [code for code, _ in response.context["columns"]] == ["610104001", "district"]
    assert _cell(response, 4, "610104001")["warning"] == (1, 0)
    assert "枣园街道" not in response.content.decode()


def test_dashboard_shows_as_of_and_last_sweep(rv, make_community, today):
    from compliance import services

    today(date(2025, 6, 30))
    make_community(households=500)
    sweep = services.sweep_run(as_of=date(2025, 6, 30), rule_ids=["M04.households"])
    response = rv.get(reverse("compliance:dashboard"))
    assert response.context["sweep"] == sweep
    assert "评估日期 <strong>2025-06-30</strong>" in response.content.decode()


def _queries(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def _many(make_community, n):
    for i in range(n):
        c = make_community("qingnian" if i % 2 else "zaoyuan", households=500)
        finding(community=c)
        if i % 3 == 0:
            finding(community=c, rule_id="M07.facility_area")


@pytest.mark.parametrize("who", ["clerk_qingnian", "reviewer"])
def test_findings_list_query_count_is_constant(client, request, make_community, who):
    client.force_login(request.getfixturevalue(who))
    url = reverse("compliance:finding_list")
    _many(make_community, 10)
    small = _queries(client, url)
    _many(make_community, 190)
    assert _queries(client, url) == small
    assert _queries(client, url, page=2) == small


@pytest.mark.parametrize("who", ["clerk_qingnian", "reviewer"])
def test_dashboard_query_count_is_constant(client, request, make_community, who):
    client.force_login(request.getfixturevalue(who))
    url = reverse("compliance:dashboard")
    _many(make_community, 10)
    small = _queries(client, url)
    _many(make_community, 190)
    assert _queries(client, url) == small


# ---------------------------------------------------------------- sweeps


def test_reviewer_starts_a_sweep_and_sees_what_it_opened(rv, make_community, today):
    today(date(2025, 6, 30))
    c = make_community(households=500)
    response = rv.post(reverse("compliance:sweep_start"), {"as_of": "2025-06-30"}, follow=True)
    assert "已启动评估日期为 2025-06-30 的巡检" in response.content.decode()
    sweep = Sweep.objects.get()
    assert sweep.status == SweepStatus.FINISHED and sweep.as_of == date(2025, 6, 30)
    assert sweep.triggered_by == "手动：reviewer"
    assert [s.pk for s in response.context["page"]] == [sweep.pk]
    detail = rv.get(reverse("compliance:sweep_detail", args=[sweep.pk]))
    assert (c.code in {e.finding.target_key for e in detail.context["page"]})
    assert {r for r, _, _ in detail.context["timings"]} == set(sweep.rule_ids)
    Community.objects.filter(pk=c.pk).update(households=1500)
    today(date(2025, 7, 1))
    rv.post(reverse("compliance:sweep_start"), {"as_of": "2025-07-01"})
    second = Sweep.objects.order_by("-id").first()
    resolved = rv.get(reverse("compliance:sweep_detail", args=[second.pk]), {"show": "resolved"})
    assert ("M04.households", c.code) in {(e.finding.rule_id, e.finding.target_key) for e in resolved.context["page"]}


def test_sweep_start_refused_while_one_runs_and_for_clerks(rv, qn, streets):
    Sweep.objects.create(as_of=TODAY)
    response = rv.post(reverse("compliance:sweep_start"), {}, follow=True)
    assert "已有一次巡检正在进行" in response.content.decode()
    assert Sweep.objects.count() == 1
    assert qn.post(reverse("compliance:sweep_start"), {}).status_code == 403


# ---------------------------------------------------------------- supervision


def test_reviewer_records_supervision_on_a_finding(rv, qn, two_streets):
    f, _ = two_streets
    url = reverse("compliance:finding_supervise", args=[f.pk])
    assert rv.post(url, {"level": "supervise", "taken_on": TODAY, "note": "电话督办"}).status_code == 302
    action = SupervisionAction.objects.get()
    assert (action.unit, action.level, action.finding_id) == ("青年路街道", "supervise", f.pk)
    assert "电话督办" in qn.get(reverse("compliance:finding_detail", args=[f.pk])).content.decode()
    assert qn.post(url, {"level": "remind", "taken_on": TODAY, "note": "x"}).status_code == 403
    response = rv.post(url, {"level": "remind", "taken_on": TODAY, "note": ""})
    assert response.status_code == 400 and "请填写督导情况说明" in response.content.decode()
    assert SupervisionAction.objects.count() == 1


def test_unit_level_supervision_list(rv, qn, streets):
    url = reverse("compliance:supervision_list")
    assert rv.post(url, {"unit": "区住建局", "level": "interview", "taken_on": TODAY, "note": "约谈分管领导"}
                   ).status_code == 302
    assert rv.post(url, {"unit": "青年路街道", "level": "remind", "taken_on": TODAY, "note": "提醒"}).status_code == 302
    assert [a.unit for a in qn.get(url).context["page"]] == ["青年路街道"]
    assert len(rv.get(url).context["page"]) == 2
    assert qn.post(url, {"unit": "枣园街道", "level": "remind", "taken_on": TODAY, "note": "x"}).status_code == 403


# ---------------------------------------------------------------- community panel


def test_community_page_shows_panel_with_requirements_and_findings(qn, make_community):
    c = make_community("qingnian", households=3500, population=10000)
    finding(community=c, rule_id="M07.facility_area", message="社区综合服务设施建筑面积 620㎡，低于应配 1050㎡",
            )
    response = qn.get(reverse("communities:community_detail", args=[c.pk]))
    page = response.content.decode()
    assert 'id="compliance-panel"' in page
    assert "社区综合服务设施建筑面积 620㎡，低于应配 1050㎡" in page
    assert "1,000～5,000 户" in page and "3,500 户" in page
    # One table per figure: the 两委/工作者 and facility figures are their own panels' rows, not repeated here.
    table = page.split('id="requirement-table"')[1].split("</table>")[0]
    assert 'data-rule="M04.households"' in table
    assert 'data-rule="M11.worker_ratio"' not in table and 'data-rule="M07.facility_area"' not in table
    assert page.count("社区工作者</td>") == 1 and page.count("综合服务设施建筑面积</td>") == 1


def test_community_panel_shows_the_work_funds_it_judges(qn, make_community):
    """实有 of 社区工作经费 was "—" next to 达标: the panel shows the year's registered amounts."""
    from funding.models import Allocation

    c = make_community("qingnian", households=3500, population=10000)
    year = timezone.localdate().year
    Allocation.objects.create(community=c, year=year, level="city", planned=130000)
    page = qn.get(reverse("communities:community_detail", args=[c.pk])).content.decode()
    row = page.split('data-rule="M19.work_funds"')[1].split("</tr>")[0]
    assert "市级 130,000 元" in row and "区级未登记" in row
    assert "<td>—</td>" not in row


# ---------------------------------------------------------------- the page after a save


@pytest.mark.django_db(transaction=True)
def test_save_page_names_the_findings_it_opened_and_resolved(client, streets, clerk_qingnian):
    client.force_login(clerk_qingnian)
    c = community_services.community_create(code="610104001077", name="保存测试社区", sub_district=streets["qingnian"],
                                            households=3000, population=9000, user=clerk_qingnian)
    url = reverse("communities:community_edit", args=[c.pk])
    data = {"code": c.code, "name": c.name, "sub_district": c.sub_district_id, "status": "active",
            "households": 800, "population": 9000, "party_org_type": "branch", "social_org_count": 0}
    before = set(Finding.objects.filter(status="open").values_list("pk", flat=True))
    page = client.post(url, data, follow=True).content.decode()
    # Other rules (e.g. M06.adjustment_plan) may open findings too: the count is theirs, the naming ours.
    opened = set(Finding.objects.filter(status="open").values_list("pk", flat=True)) - before
    assert f"本次保存新增 {len(opened)} 项合规问题：" in page
    assert "措施四·户数规模（户数 800 户，低于下限 1000 户" in page
    assert Finding.objects.filter(rule_id="M04.households", target_key=c.code, status="open").exists()
    data["households"] = 3000
    page = client.post(url, data, follow=True).content.decode()
    resolved = Finding.objects.filter(status="resolved").count()  # nothing was resolved before this save
    assert f"已整改 {resolved} 项：措施四·户数规模（户数 800 户" in page
    assert Finding.objects.get(rule_id="M04.households", target_key=c.code).status == "resolved"


# ---------------------------------------------------------------- how targets read


def test_district_finding_reads_as_the_district_not_its_key(qn, streets):
    f = finding(rule_id="M19.salary_share", target_type="district")
    page = qn.get(reverse("compliance:finding_list")).content.decode()
    assert "<td>全区</td>" in page and "全区 district" not in page
    detail = qn.get(reverse("compliance:finding_detail", args=[f.pk])).content.decode()
    assert "district" not in detail.split("<main", 1)[1].replace('data-key="district"', "")


def test_finding_list_links_to_the_community(qn, two_streets):
    mine, _ = two_streets
    page = qn.get(reverse("compliance:finding_list")).content.decode()
    assert f'href="{reverse("communities:community_detail", args=[mine.community_id])}">青年甲社区</a>' in page


def test_catalogue_names_every_parameter_in_chinese(qn):
    from compliance.parameters import PARAM_LABELS

    names = {name for rule in registry.all() for name in rule.params}
    assert names <= set(PARAM_LABELS)
    page = qn.get(reverse("compliance:rule_catalogue")).content.decode()
    assert 'title="ruling_days">裁定期限（天）</td>' in page and ">ruling_days<" not in page and "每万名常住人口配社区工作者（人）" in page


def test_home_counts_only_the_users_open_findings(qn, two_streets):
    page = qn.get(reverse("home")).content.decode()
    card = page.split('id="home-findings"')[1].split("</table>")[0]
    assert "未整改的合规问题（1 项）" in page
    severity = two_streets[0].severity  # the other 街办's finding is not counted
    assert f'{reverse("compliance:finding_list")}?severity={severity}&amp;status=open">1 项</a>' in card


def test_supervision_form_labels_have_no_ascii_colon(rv):
    page = rv.get(reverse("compliance:supervision_list")).content.decode()
    assert "督导方式</label>" in page and "督导方式:" not in page


def test_compound_page_lists_its_findings(qn, streets):
    from tests.communities import builders

    compound = builders.compound("XQ-T1", street=streets["qingnian"], name="待划入院落", households=40)
    f = finding(rule_id="M03.compound_unassigned", street=streets["qingnian"], message="尚未划入任何社区")
    Finding.objects.filter(pk=f.pk).update(target_pk=compound.pk, target_key=compound.code)
    page = qn.get(reverse("communities:compound_detail", args=[compound.pk])).content.decode()
    panel = page.split('id="target-findings"')[1]
    assert "尚未划入任何社区" in panel and reverse("compliance:finding_detail", args=[f.pk]) in panel


def test_catalogue_shows_a_shared_figure_where_it_is_borrowed_and_where_it_is_set(qn):
    rule_parameter_set(rule_id="M04.households", name="max_households", value=8000,
                       effective_from=timezone.localdate(), reason="试")
    page = qn.get(reverse("compliance:rule_catalogue")).content.decode()
    entry = page.split('data-rule="M06.adjustment_plan"')[1].split('class="border rounded')[0]
    row = entry.split('data-param="max_households"')[1].split("</tr>")[0]
    assert 'class="param-current">8000<' in row and "共用同一数值" in row and 'href="#M04households"' in row


def test_pages_show_a_parameter_and_an_action_recorded_without_a_user(rv, qn):
    """set_parameter and a deleted account leave no user behind: the pages say so instead of failing."""
    from io import StringIO

    from django.core.management import call_command

    call_command("set_parameter", "M04.households", "min_households", "900", "--from", "2020-01-01",
                 "--reason", "命令行调整", stdout=StringIO())
    page = qn.get(reverse("compliance:rule_catalogue"))
    assert page.status_code == 200 and "命令行调整" in page.content.decode()
    SupervisionAction.objects.create(unit="青年路街道", level="remind", taken_on=date(2025, 1, 2), note="无人记录",
                                     taken_by=None)
    page = rv.get(reverse("compliance:supervision_list"))
    assert page.status_code == 200 and "无人记录" in page.content.decode()
