"""Demo work in progress: one 新设 request by 青年路街道, submitted and waiting at step 2.

It needs the demo clerk (the request is theirs), so ``create_demo_users``
makes it after the users. The request creates its 筹建 community, as a real
one does; a second run finds the request by title and writes nothing.
"""

from __future__ import annotations

from approvals.models import EstablishmentRequest, State
from approvals.services import request_act, request_create_new
from communities.models import Community, PartyOrgType, RetiredCommunityCode

TITLE = "新设“青年路星火社区”"
PART = {
    "code": "610104001090",
    "name": "青年路星火社区居民委员会",
    "households": 1260,
    "population": 3580,
    "party_org_type": PartyOrgType.BRANCH,
    "east": "星火路",
    "south": "青年路",
    "west": "西北三路",
    "north": "自强西路",
}


def demo_requests_ensure(*, clerk) -> list[str]:
    """The request's line for the printed summary; nothing when its code is already taken."""
    req = EstablishmentRequest.objects.filter(title=TITLE).first()
    if req is None:
        code = PART["code"]
        if Community.objects.filter(code=code).exists() or RetiredCommunityCode.objects.filter(code=code).exists():
            return []
        street = clerk.groups.get(sub_district__isnull=False).sub_district
        # No compounds: load_demo keeps its unassigned ones unassigned and would move them back.
        req = request_create_new(
            user=clerk, sub_district=street, title=TITLE, part=PART,
            reason="星火路沿线新建住宅小区入住，居民已过千户，原社区服务半径过大，拟新设社区。",
        )
        request_act(request_id=req.pk, expected_state=State.DRAFT, user=clerk, data={"residents_agreed": True},
                    opinion="已征得居民同意，材料齐全，申报区民政局。")
        req.refresh_from_db()
    return [f"设立申请：{req.title}（{req.get_state_display()}）"]
