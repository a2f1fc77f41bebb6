"""The district figures page (issue 15): the policy's district-wide numbers from the record, in constant queries."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities import services as community_services
from communities.models import AdjustmentKind
from compliance.district import district_figures
from tests.staffing import builders as b

pytestmark = pytest.mark.django_db


def by_label(figures):
    return {f.label: f for f in figures}


def test_workers_per_10k_and_social_orgs(streets):
    c1 = b.community(streets["qingnian"], "201", households=3000, population=10000, social_org_count=10)
    c2 = b.community(streets["qingnian"], "202", households=3000, population=10000, social_org_count=4)
    b.bulk_workers(c1, b.bulk_people(20, c1))
    b.bulk_workers(c2, b.bulk_people(16, c2))
    figures = by_label(district_figures(date.today()))
    workers = figures["每万名常住人口拥有社区工作者"]
    assert workers.measured.startswith("18.0 人（36 人 ÷ 20,000 人）") and workers.met
    orgs = figures["社区社会组织"]
    assert orgs.measured == "平均每个社区 7.0 个；1 / 2 个社区达到" and not orgs.met


def test_adjustment_progress_follows_the_shared_bounds(streets):
    c = b.community(streets["qingnian"], "203", households=4800, population=12000)
    community_services.adjustment_create(community=c, kind=AdjustmentKind.SPLIT, recorded_on=date(2024, 6, 1),
                                         in_district_plan=True)
    figures = by_label(district_figures(date.today()))
    assert figures["超大型社区拆分"].measured.startswith("已拆分 1 个") and not figures["超大型社区拆分"].met


def test_page_reads_in_constant_queries(client, reviewer, streets):
    client.force_login(reviewer)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(reverse("compliance:district_figures"))
        assert page.status_code == 200
        return len(ctx), page.content.decode()

    few, page = count()
    visible = re.sub(r"<[^>]+>", "", page)
    assert "每万名常住人口拥有社区工作者" in visible and not re.search(r"M\d\d\.", visible)
    for i in range(5):
        c = b.community(streets["zaoyuan"], f"3{i:02d}", households=2000, population=Decimal(6000))
        b.bulk_workers(c, b.bulk_people(3, c))
    assert count()[0] == few
