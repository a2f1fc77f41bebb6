"""A record page's history: the changes core.history finds between entries are simple-history's own."""

import datetime as dt

import pytest

from communities import services
from communities.models import CommunityStatus, PartyOrgType
from core.history import history_rows
from tests.communities import builders

pytestmark = pytest.mark.django_db


def _simple_history_changes(record):
    """What ``diff_against`` gives for each entry (newest first) against the one before it."""
    entries = list(record.history.order_by("-history_date", "-history_id"))
    out = []
    for newer, older in zip(entries, [*entries[1:], None], strict=True):
        if older is None or newer.history_type != "~":
            out.append([])
        else:
            out.append([(c.field, c.old, c.new) for c in newer.diff_against(older).changes])
    return out


def test_changes_are_diff_againsts_for_every_kind_of_field(streets, clerk_qingnian, django_assert_max_num_queries):
    c = builders.community(streets["qingnian"])
    services.community_update(community=c, user=clerk_qingnian, households=1250, population=3950)
    services.community_update(community=c, user=clerk_qingnian, party_org_type=PartyOrgType.BRANCH,
                              founded_on=dt.date(2001, 5, 1), has_property_committee=True)
    services.community_update(community=c, sub_district=streets["zaoyuan"], code="610104009077", name="迁入社区")
    services.community_update(community=c, user=clerk_qingnian, founded_on=None, has_property_committee=False)
    services.community_revoke(community=c, on=dt.date(2024, 6, 30), reason="并入相邻社区")

    expected = _simple_history_changes(c)
    assert sum(map(len, expected)) == 11
    rows = history_rows(c)
    assert len(rows) == len(expected) == 6
    labels = {f.name: str(f.verbose_name) for f in type(c)._meta.concrete_fields}
    assert [[ch["label"] for ch in row["changes"]] for row in rows] == [
        [labels[name] for name, _old, _new in changes] for changes in expected]
    assert rows[0]["kind"] == "修改" and rows[-1]["kind"] == "新建" and rows[0]["reason"] == "并入相邻社区"
    assert {"label": "状态", "old": "正常", "new": str(CommunityStatus.REVOKED.label)} in rows[0]["changes"]
    moved = rows[2]["changes"]
    assert {"label": "街道办事处", "old": "青年路街道", "new": "枣园街道"} in moved
    assert {"label": "环境和物业管理委员会", "old": "是", "new": "否"} in rows[1]["changes"]
    assert {"label": "成立日期", "old": "2001-05-01", "new": "空"} in rows[1]["changes"]
    assert [row["who"] for row in rows] == [e.history_user.username if e.history_user else "系统"
                                            for e in c.history.order_by("-history_date", "-history_id")]
    assert {row["who"] for row in rows} == {"系统", "clerk_qn"}
    # The entries, their users and the moved 街办's names: a query each, however many entries there are.
    with django_assert_max_num_queries(3):
        history_rows(c)
