"""Before a 街办 submits: every rule judges the proposal, nothing is written."""

import pytest

from approvals.services import request_create_new, request_create_split, request_precheck, send_back_text
from communities.models import Community, Compound
from compliance.models import Finding

from .conftest import part, submit

pytestmark = pytest.mark.django_db


def test_new_community_precheck_names_the_clauses(clerk_qingnian, streets):
    req = request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title="新设",
                             part=part("610104001050", "大兴东社区居委会", 800, 2400))
    Finding.objects.all().delete()  # what the 筹建 community's creation opened after commit, if anything
    found = request_precheck(request=req)
    rules = {f["rule"] for f in found}
    assert "M04.households" in rules  # 800 户 below 1000
    assert {"M07.facility_area", "M10.committee_size", "M11.worker_ratio"} <= rules
    households = next(f for f in found if f["rule"] == "M04.households")
    assert households["measured"] == 800 and "1000" in households["message"]
    assert not Finding.objects.exists()


def test_split_precheck_builds_parts_and_rolls_back(clerk_qingnian, community):
    north, south = Compound.objects.order_by("code")
    req = request_create_split(user=clerk_qingnian, source=community, title="拆分", parts=[
        part("610104001051", "北社区", 3100, 9000, compounds=[north]),
        part("610104001052", "南社区", 900, 2700, compounds=[south]),
    ])
    before = Finding.objects.count()
    found = request_precheck(request=req)
    by_part = {(f["part"], f["rule"]) for f in found}
    assert ("南社区", "M04.households") in by_part and ("北社区", "M04.households") not in by_part
    assert not Community.objects.filter(code__in=["610104001051", "610104001052"]).exists()
    north.refresh_from_db()
    assert north.community_id == community.pk
    assert Finding.objects.count() == before


def test_submission_keeps_findings_and_send_back_text_lists_them(clerk_qingnian, streets):
    req = request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title="新设",
                             part=part("610104001050", "大兴东社区居委会", 800, 2400))
    record = submit(req, clerk_qingnian)
    findings = record.data["precheck"]
    assert any(f["rule"] == "M04.households" for f in findings)
    text = send_back_text(findings)
    assert text.startswith("预审发现") and "措施四·户数规模（" in text and "M04" not in text
