"""年度目标责任考核: reproducible, documented amounts, the command's JSON contract."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from compliance import catalogue
from supervision import assessment

pytestmark = pytest.mark.django_db
YEAR = 2025


def _closed_at(day: dt.date):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(15)))


def test_every_rule_belongs_to_one_area():
    assert set(assessment.RULE_AREA) == set(catalogue.RULES)
    assert set(assessment.RULE_AREA.values()) <= set(assessment.AREAS)


def test_overdue_days_boundaries():
    due = dt.date(YEAR, 3, 10)
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
    assert assessment.overdue_days(due, due, start, end) == 0
    assert assessment.overdue_days(due, due + dt.timedelta(days=1), start, end) == 1
    assert assessment.overdue_days(due, None, start, end) == (end - due).days
    assert assessment.overdue_days(dt.date(YEAR - 1, 12, 30), dt.date(YEAR, 1, 2), start, end) == 2


def test_same_record_same_scores_and_one_day_across_the_deadline(make_community, finding_factory):
    due = dt.date(YEAR, 6, 30)
    moved = finding_factory(community=make_community(), rule_id="M07.facility_area", first_seen=dt.date(YEAR, 5, 31),
                            due=due, status="resolved", resolved_at=_closed_at(due))
    finding_factory(community=make_community(street="zaoyuan"), rule_id="M07.outdoor_plaza",
                    first_seen=dt.date(YEAR, 2, 1), due=dt.date(YEAR, 3, 3))
    first = [c.as_json() for c in assessment.scorecard(YEAR)]
    assert first == [c.as_json() for c in assessment.scorecard(YEAR)]
    before = {c["unit"]: c for c in first}
    from compliance.models import Finding

    Finding.objects.filter(pk=moved.pk).update(resolved_at=_closed_at(due + dt.timedelta(days=1)))
    after = {c["unit"]: c for c in (c.as_json() for c in assessment.scorecard(YEAR))}
    m = assessment.METHOD_DEFAULTS
    # On the deadline: +ontime_credit; one day late: −violation_day. Only 青年路街道's 阵地建设 moves.
    change = float(m["ontime_credit"] + m["violation_day"])
    assert before["青年路街道"]["阵地建设"] - after["青年路街道"]["阵地建设"] == pytest.approx(change)
    assert before["青年路街道"]["total"] - after["青年路街道"]["total"] == pytest.approx(round(change / 6, 2))
    for unit in before:  # ranks are relative; every other unit's scores stay as they were
        if unit != "青年路街道":
            assert {k: v for k, v in before[unit].items() if k != "rank"} == \
                {k: v for k, v in after[unit].items() if k != "rank"}
    # 枣园 open since 03-03's deadline: 303 violation-days, but one finding deducts at most finding_cap.
    assert after["枣园街道"]["阵地建设"] == float(m["base"] - m["finding_cap"])


def test_command_json_contract(make_community, finding_factory):
    finding_factory(community=make_community(), first_seen=dt.date(YEAR, 1, 5), due=dt.date(YEAR, 2, 5))
    out = io.StringIO()
    call_command("assessment_scorecard", str(YEAR), "--json", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert all(set(r) == {"unit", "kind", *assessment.AREAS, "total", "rank"} for r in rows)
    streets = [r for r in rows if r["kind"] == "街办"]
    departments = [r for r in rows if r["kind"] == "部门"]
    assert {r["unit"] for r in streets} == {"青年路街道", "枣园街道"}
    assert {r["unit"] for r in departments} == set(assessment.DEPARTMENTS)
    assert [r["rank"] for r in streets] == [1, 2] and streets[1]["unit"] == "青年路街道"
    assert {r["rank"] for r in departments} == {1}  # all at 100: a shared first place


def test_pages_and_workbook(client, make_community, finding_factory, reviewer, clerk_qingnian):
    f = finding_factory(community=make_community(), first_seen=dt.date(YEAR, 1, 5), due=dt.date(YEAR, 2, 5))
    client.force_login(reviewer)
    page = client.get(reverse("supervision:assessment") + f"?year={YEAR}").content.decode()
    assert "青年路街道" in page and all(area in page for area in assessment.AREAS)
    unit = client.get(reverse("supervision:assessment_unit", args=[YEAR, "青年路街道"])).content.decode()
    assert reverse("compliance:finding_detail", args=[f.pk]) in unit
    method = client.get(reverse("supervision:assessment_method")).content.decode()
    assert "违规问题逾期每天扣分" in method and "社区综合服务设施建筑面积达标" in method
    xlsx = client.get(reverse("supervision:assessment_workbook", args=[YEAR]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    scores, detail = book.worksheets
    rows = [r for r in scores.iter_rows(values_only=True) if r and r[2] == "青年路街道"]
    assert rows and rows[0][0] == "街办" and rows[0][-1] < 100
    assert any(r[2] == "M04.households" for r in detail.iter_rows(min_row=2, values_only=True))
    client.force_login(clerk_qingnian)
    assert client.get(reverse("supervision:assessment")).status_code == 403
