"""Write operations on establishment requests. The flow table is ``approvals.flow``.

Every community and compound change goes through ``communities.services``, so
validation, simple-history and guardian permissions are the same as anywhere
else, and the compliance rules re-judge what changed after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Kind
from audit.services import security_event_record
from communities.models import Community, CommunityStatus, Compound, SubDistrict
from communities.services import community_create, community_revoke, community_update, compound_update
from compliance.catalogue import CHINESE_NUMERALS, Severity
from compliance.engine import preview_rules
from compliance.rules import registry

from . import flow
from .attachments import check_upload
from .models import (
    Action,
    Attachment,
    EstablishmentRequest,
    ProposedCommunity,
    RequestKind,
    State,
    StepRecord,
)

PART_FIELDS = ("code", "name", "households", "population", "party_org_type", "east", "south", "west", "north")
EDITABLE_PART_FIELDS = ("name", "households", "population", "party_org_type", "east", "south", "west", "north")


def _error(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _check_clerk(user, street: SubDistrict) -> None:
    if not user.groups.filter(sub_district__code=street.code).exists():
        raise _error(f"只有{street.name}的街办办事员可以为该街办提出申请。", "wrong_sub_district")


def _check_part(street: SubDistrict, fields: dict[str, Any], taken: set[str]) -> None:
    """The part's code and figures pass the same checks a community does, before anything is written."""
    probe = Community(sub_district=street, status=CommunityStatus.PREPARING,
                      **{k: v for k, v in fields.items() if k in PART_FIELDS})
    probe.full_clean(exclude=["sub_district"])
    code = fields["code"]
    if code in taken:
        raise _error(f"社区代码 {code} 在本申请中重复使用。", "code_duplicate")
    pending = ProposedCommunity.objects.filter(code=code, community__isnull=True).exclude(
        request__state=State.COMPLETED
    )
    if pending.exists():
        raise _error(f"社区代码 {code} 已被另一份在办的设立申请使用。", "code_pending")
    taken.add(code)


def _part_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: fields[k] for k in PART_FIELDS if k in fields}


def _make_part(req: EstablishmentRequest, fields: dict[str, Any], compounds: Iterable[Compound],
               community: Community | None = None) -> ProposedCommunity:
    part = ProposedCommunity.objects.create(request=req, community=community, **_part_fields(fields))
    part.compounds.set(list(compounds))
    return part


def request_create_new(*, user, sub_district: SubDistrict, title: str, reason: str = "",
                       part: dict[str, Any], compounds: Sequence[Compound] = ()) -> EstablishmentRequest:
    """新设: the proposed community exists from now on, as 筹建, with its compounds."""
    with transaction.atomic():
        _check_clerk(user, sub_district)
        _check_part(sub_district, part, set())
        for c in compounds:
            if c.community_id is not None or c.sub_district_id != sub_district.pk:
                raise _error(f"小区“{c.name}”不是本街办尚未划入社区的小区，不能划入新设社区。",
                             "compound_not_available")
        req = EstablishmentRequest.objects.create(kind=RequestKind.NEW, sub_district=sub_district, title=title,
                                                  reason=reason, created_by=user)
        community = community_create(user=user, reason=f"设立申请：{title}", sub_district=sub_district,
                                     status=CommunityStatus.PREPARING, **_part_fields(part))
        for c in compounds:
            compound_update(compound=c, user=user, reason=f"划入筹建社区“{community.name}”", community=community)
        _make_part(req, part, compounds, community)
        return req


def _sources_of_street(user, sources: Sequence[Community]) -> SubDistrict:
    streets = {s.sub_district_id for s in sources}
    if len(streets) != 1:
        raise _error("原社区须属于同一个街道办事处。", "sources_other_sub_district")
    street = sources[0].sub_district
    _check_clerk(user, street)
    for s in sources:
        if s.status == CommunityStatus.REVOKED:
            raise _error(f"“{s.name}”已撤销，不能再拆分或合并。", "source_revoked")
    return street


def request_create_split(*, user, source: Community, title: str, reason: str = "",
                         parts: Sequence[dict[str, Any]]) -> EstablishmentRequest:
    """拆分: each part names its figures and the source's compounds it takes (``compounds`` key)."""
    with transaction.atomic():
        street = _sources_of_street(user, [source])
        if len(parts) < 2:
            raise _error("拆分须至少拆为两个社区。", "parts_too_few")
        taken: set[str] = set()
        owned = set(source.compounds.values_list("pk", flat=True))
        seen: set[int] = set()
        for p in parts:
            _check_part(street, p, taken)
            for c in p.get("compounds", ()):
                if c.pk not in owned:
                    raise _error(f"小区“{c.name}”不属于{source.name}。", "compound_not_in_source")
                if c.pk in seen:
                    raise _error(f"小区“{c.name}”被划入了两个社区。", "compound_twice")
                seen.add(c.pk)
        req = EstablishmentRequest.objects.create(kind=RequestKind.SPLIT, sub_district=street, title=title,
                                                  reason=reason, created_by=user)
        req.sources.set([source])
        for p in parts:
            _make_part(req, p, p.get("compounds", ()))
        return req


def request_create_merge(*, user, sources: Sequence[Community], title: str, reason: str = "",
                         result: dict[str, Any]) -> EstablishmentRequest:
    """合并: the result takes every compound of every source."""
    with transaction.atomic():
        sources = list(sources)
        if len({s.pk for s in sources}) < 2:
            raise _error("合并须至少选择两个原社区。", "sources_too_few")
        street = _sources_of_street(user, sources)
        _check_part(street, result, set())
        req = EstablishmentRequest.objects.create(kind=RequestKind.MERGE, sub_district=street, title=title,
                                                  reason=reason, created_by=user)
        req.sources.set(sources)
        _make_part(req, result, Compound.objects.filter(community__in=sources))
        return req


def part_update(*, user, part: ProposedCommunity, **fields: Any) -> list[str]:
    """The 街办 corrects a proposal while it is with them (before submitting, or after a 退回)."""
    with transaction.atomic():
        req = EstablishmentRequest.objects.select_for_update().get(pk=part.request_id)
        if req.state != State.DRAFT:
            raise _error("申请已报送，拟设社区的情况只能在退回街办后修改。", "not_draft")
        if not flow.clerk_of(user, req):
            raise _error(f"只有{req.sub_district.name}的街办办事员可以修改该申请。", "wrong_role")
        fields = {k: v for k, v in fields.items() if k in EDITABLE_PART_FIELDS}
        changed = [k for k, v in fields.items() if getattr(part, k) != v]
        if not changed:
            return []
        if part.community_id is None:
            # The code stays; the figures must still pass what a community's do.
            Community(sub_district=req.sub_district, status=CommunityStatus.PREPARING,
                      **{**{k: getattr(part, k) for k in PART_FIELDS}, **fields}).full_clean()
        for k in changed:
            setattr(part, k, fields[k])
        if part.community is not None:
            community_update(community=part.community, user=user, reason="设立申请修改",
                             **{k: fields[k] for k in changed})
        part.save()
        return changed


# -- pre-submission check ------------------------------------------------------


class _Rollback(Exception):
    pass


def request_precheck(*, request: EstablishmentRequest, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """What every rule would find in the proposed community or parts, written nowhere.

    Parts of a 拆分/合并 are built (and the compounds moved) inside a
    transaction that is always rolled back, so the rules see the district as
    it would be; their on-commit re-judging is dropped with it.
    """
    found: list[dict[str, Any]] = []
    parts = list(request.parts.prefetch_related("compounds"))
    try:
        with transaction.atomic():
            names: dict[int, str] = {}
            for part in parts:
                community = part.community
                if community is None:
                    community = community_create(sub_district=request.sub_district,
                                                 status=CommunityStatus.PREPARING, **_part_fields(
                                                     {k: getattr(part, k) for k in PART_FIELDS}))
                    for c in part.compounds.all():
                        compound_update(compound=c, community=community)
                names[community.pk] = part.name
            for rule, result in preview_rules(rules=registry.all(), community_pks=list(names), as_of=as_of):
                found.append({
                    "rule": rule.id, "clause": CHINESE_NUMERALS.get(rule.clause, str(rule.clause)),
                    "title": rule.title, "severity": result.severity,
                    "severity_label": Severity.label(result.severity or rule.severity),
                    "part": names.get(result.community_id, "") if result.community_id else "", "key": str(result.key),
                    "measured": result.measured, "required": result.required, "message": result.message,
                })
            raise _Rollback
    except _Rollback:
        pass
    rank = {Severity.VIOLATION: 0, Severity.WARNING: 1, Severity.NOTICE: 2}
    found.sort(key=lambda f: (f["part"], rank.get(f["severity"], 3), f["rule"]))
    return found


def send_back_text(findings: Sequence[dict[str, Any]]) -> str:
    """The send-back form's starting text: the clauses the proposal fails."""
    from compliance.names import rule_name

    lines = [f"{rule_name(f['rule'])}（{f['title']}）{f['part']}：{f['message']}" for f in findings
             if f["severity"] != Severity.NOTICE]
    return "\n".join(["预审发现以下不符合项，请补正后重新申报：", *lines]) if lines else ""


# -- acting on a step -----------------------------------------------------------


def request_act(*, request_id: int, expected_state: str, user, action: str = Action.ADVANCE,
                opinion: str = "", document_no: str = "", decided_on: dt.date | None = None,
                data: dict[str, Any] | None = None, files: Sequence = (), today: dt.date | None = None) -> StepRecord:
    """Take the current step's action (通过) or send the request back one step (退回).

    The row is locked and its state compared with the state the actor saw: of
    two reviewers acting at once, the second finds the request moved on and is
    told so; nothing is written for them.
    """
    data = dict(data or {})
    today = today or timezone.localdate()
    checked = [(f, *check_upload(f)) for f in files]  # refuse a bad file before locking anything
    with transaction.atomic():
        try:
            req = EstablishmentRequest.objects.select_for_update().get(pk=request_id)
        except EstablishmentRequest.DoesNotExist:
            raise _error("没有找到这份申请。", "not_found") from None
        if req.state != expected_state:
            raise _error(
                f"该申请已由他人办理，当前环节为“{req.get_state_display()}”（您看到的是"
                f"“{State(expected_state).label}”）。请刷新页面后再操作。",
                "stale_state",
            )
        step = flow.step_for(req.state)
        if step is None:
            raise _error("该申请已办结，不能再办理。", "completed")
        refused = flow.refusal(user, step, req)
        if refused:
            raise _error(refused[1], refused[0])
        inp = flow.StepInput(opinion=opinion, document_no=document_no, decided_on=decided_on, data=data,
                             today=today)
        if action == Action.SEND_BACK:
            target = flow.previous_state(req.state)
            if target is None:
                raise _error("第1步没有上一步，不能退回。", "no_previous_step")
            if not opinion.strip():
                raise _error("退回须写明理由。", "send_back_reason_required")
        elif action == Action.ADVANCE:
            reasons = flow.unmet(step, req, inp)
            if reasons:
                raise _error("；".join(reasons), "condition_unmet")
            target = step.next_state
            if step.number == 1:
                data["precheck"] = request_precheck(request=req, as_of=today)
                req.submitted_by = user
            if step.effect:
                EFFECTS[step.effect](req, inp, user)
        else:
            raise _error("未知的办理结果。", "unknown_action")
        record = StepRecord.objects.create(
            request=req, step=step.number, action=action, from_state=req.state, to_state=target, actor=user,
            opinion=opinion.strip(), document_no=document_no.strip(), decided_on=decided_on,
            data=_json_ready(data),
        )
        for upload, kind, digest in checked:
            Attachment.objects.create(record=record, file=upload, original_name=upload.name[:200],
                                      content_type=kind, size=upload.size, sha256=digest)
        req.state = target
        req.state_since = timezone.now()
        req.save(update_fields=["state", "state_since", "submitted_by"])
        security_event_record(
            kind=Kind.APPROVAL, user=user,
            detail={"request": req.pk, "step": step.number, "action": str(action), "from": record.from_state,
                    "to": target, "document_no": record.document_no},
        )
        return record


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# -- the steps' work --------------------------------------------------------------


def _establish(req: EstablishmentRequest, inp: flow.StepInput, user) -> None:
    """Step 6: the government's approval is the 批复日期; the M11 election clock starts here.

    A 拆分 or 合并 takes effect now: the new communities are created (筹建),
    the compounds move to them and the sources are retired as 撤销 with their
    records and history kept.
    """
    approved = inp.decided_on
    why = f"{req.get_kind_display()}：{req.title}（{inp.document_no}）"
    for part in req.parts.select_related("community").prefetch_related("compounds"):
        if part.community is not None:
            community_update(community=part.community, user=user, reason=why, approved_on=approved,
                             founded_on=approved)
            continue
        community = community_create(user=user, reason=why, sub_district=req.sub_district,
                                     status=CommunityStatus.PREPARING, approved_on=approved, founded_on=approved,
                                     **_part_fields({k: getattr(part, k) for k in PART_FIELDS}))
        # A merge takes whatever the sources hold on the day, including compounds added since the request.
        moving = (Compound.objects.filter(community__in=req.sources.all()) if req.kind == RequestKind.MERGE
                  else part.compounds.all())
        for c in list(moving):
            compound_update(compound=c, user=user, reason=why, community=community)
        part.community = community
        part.save(update_fields=["community"])
    for source in req.sources.all():
        if source.status == CommunityStatus.REVOKED:
            continue  # retired when this step was first passed; a 退回 and re-approval only moves the date
        leftover = source.compounds.count()
        if leftover:
            raise _error(f"“{source.name}”仍有 {leftover} 个小区/院落未划出，不能撤销。", "source_not_empty")
        community_revoke(community=source, on=approved, user=user, reason=why)


def _enter_ledger(req: EstablishmentRequest, inp: flow.StepInput, user) -> None:
    """Step 7: elected and inspected → 正常, in the 台账."""
    for part in req.parts.select_related("community"):
        assert part.community is not None, "the 批复 step created every part's community"
        community_update(community=part.community, user=user, reason=f"两委选举并验收：{req.title}",
                         election_on=inp.data["election_on"], status=CommunityStatus.ACTIVE)


def _certify(req: EstablishmentRequest, inp: flow.StepInput, user) -> None:
    codes = inp.data["credit_codes"]
    for part in req.parts.all():
        part.credit_code = codes[str(part.pk)].strip().upper()
        part.save(update_fields=["credit_code"])


EFFECTS = {"establish": _establish, "enter_ledger": _enter_ledger, "certify": _certify}


def deadline_set(*, state: str, days: int) -> None:
    from .models import StepDeadline

    if flow.step_for(state) is None:
        raise _error("只能为八个环节设定时限。", "unknown_state")
    if days < 1:
        raise _error("办理时限至少为1天。", "days_too_few")
    # Recorded in the security log by audit's StepDeadline signal (the admin edits the row too).
    StepDeadline.objects.update_or_create(state=state, defaults={"days": days})
