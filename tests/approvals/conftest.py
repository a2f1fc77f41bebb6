"""Fixtures for establishment requests: a second reviewer, and helpers that walk the steps."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def pdf(name="材料.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def reviewer2(streets):
    from accounts.roles import Role
    from tests.conftest import _user

    return _user("reviewer2", Role.REVIEWER.value)


@pytest.fixture
def community(streets):
    """An oversized community of 青年路 with two compounds, ready to be split."""
    from communities.services import community_create, compound_create

    c = community_create(code="610104001001", name="莲湖路第一社区居委会", sub_district=streets["qingnian"],
                         households=6200, population=18000, east="东", south="南", west="西", north="北")
    compound_create(code="XQ-1", name="北院", community=c, households=3100)
    compound_create(code="XQ-2", name="南院", community=c, households=3100)
    return c


@pytest.fixture
def small_pair(streets):
    """Two 微型 communities of 青年路 to merge."""
    from communities.services import community_create, compound_create

    a = community_create(code="610104001002", name="甲社区", sub_district=streets["qingnian"], households=500,
                         population=1500, east="东", south="南", west="西", north="北")
    b = community_create(code="610104001003", name="乙社区", sub_district=streets["qingnian"], households=600,
                         population=1700, east="东", south="南", west="西", north="北")
    compound_create(code="XQ-A", name="甲院", community=a, households=500)
    compound_create(code="XQ-B", name="乙院", community=b, households=600)
    return a, b


def part(code, name, households=1500, population=4500, **extra):
    return {"code": code, "name": name, "households": households, "population": population,
            "east": "莲湖路", "south": "西大街", "west": "北关正街", "north": "环城北路", **extra}


# Dates of a plausible walk, all in the past.
DATES = {
    3: dt.date(2024, 3, 1),
    4: dt.date(2024, 4, 1),
    5: dt.date(2024, 4, 10),
    6: dt.date(2024, 5, 6),
}
ELECTION = {"election_on": dt.date(2024, 7, 20), "initial_inspection_on": dt.date(2024, 8, 1),
            "final_inspection_on": dt.date(2024, 8, 20)}
CREDIT_CODES = ["91350100M000100Y43", "91110108551385082Q"]
GOV_AGREED = dt.date(2024, 2, 20)  # 区政府研究同意, before the request goes to 市民政局 (step 3)
# The walk's communities have no 两委 or facilities yet: the reviewer lists them with a reason (附件第七步).
LEDGER_EXCEPTION = "测试：设施与两委数据另行补录"


def step_kwargs(step, req):
    """What a reviewer enters to pass each step (2–8)."""
    kw = {"opinion": f"第{step}步同意"}
    if step in DATES:
        kw.update(document_no=f"莲政字〔2024〕{step}号", decided_on=DATES[step])
    if step == 3:
        kw["data"] = {"gov_agreed_on": GOV_AGREED}
    if step == 7:
        kw["data"] = {**ELECTION, "ledger_exception": LEDGER_EXCEPTION}
    if step == 8:
        kw["data"] = {"credit_codes": {str(p.pk): code for p, code in zip(req.parts.all(), CREDIT_CODES, strict=False)}}
    return kw


def act(req, user, **kw):
    from approvals.services import request_act

    req.refresh_from_db()
    return request_act(request_id=req.pk, expected_state=req.state, user=user, **kw)


def submit(req, clerk):
    return act(req, clerk, opinion="居民议事会同意", data={"residents_agreed": True}, files=[pdf()])


def walk(req, reviewer, until=8):
    """Steps 2..until by the reviewer."""
    from approvals.flow import BY_NUMBER

    for step in range(2, until + 1):
        req.refresh_from_db()
        assert req.state == BY_NUMBER[step].state
        act(req, reviewer, **step_kwargs(step, req))
    req.refresh_from_db()
    return req
