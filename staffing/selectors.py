"""Reads of people that depend on who is asking.

A person is visible to a user when they hold (or held) a seat or an
employment in a community the user may see: clerks see their own 街办's
people, reviewers and administrators everyone.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.roles import is_admin, is_clerk, is_reviewer
from communities.selectors import communities_for_user
from core.shortcuts import one_or_404

from .models import ROLES_OF_BODY, Employment, ExitProcedure, Person, PersonTransfer, Seat, Vacancy


def may_read_people(user) -> bool:
    """People's records are for the 街办 clerks, 民政局 reviewers and administrators; department
    users (住建局, 财政局 …) read facilities and funding, not personal data."""
    return user.is_authenticated and (is_admin(user) or is_reviewer(user) or is_clerk(user))


def persons_for_user(user, perm: str = "view_community") -> QuerySet[Person]:
    if not may_read_people(user):
        return Person.objects.none()
    if is_admin(user):
        return Person.objects.all()
    if user.has_perm(f"communities.{perm}"):
        # Every community (a reviewer): whoever holds or held a seat or a job; seats and jobs always name one.
        return Person.objects.filter(Exists(Seat.objects.filter(person=OuterRef("pk")))
                                     | Exists(Employment.objects.filter(person=OuterRef("pk"))))
    communities = communities_for_user(user, perm)
    return Person.objects.filter(
        Exists(Seat.objects.filter(person=OuterRef("pk"), community__in=communities))
        | Exists(Employment.objects.filter(person=OuterRef("pk"), community__in=communities))
    )


def person_for_user(user, public_id: str, perm: str = "view_community") -> Person:
    # With the community: the person page names it and asks whether it may be edited (one query fewer).
    return one_or_404(persons_for_user(user, perm).select_related("community"), "没有找到这名人员，或您无权查看。",
                      public_id=public_id)


def employments_for_user(user, perm: str = "view_community") -> QuerySet[Employment]:
    return Employment.objects.filter(community__in=communities_for_user(user, perm))


def employment_for_user(user, pk, perm: str = "view_community") -> Employment:
    return one_or_404(employments_for_user(user, perm).select_related("person", "community"),
                      "没有找到这条任职记录，或您无权查看。", pk=pk)


def seats_for_user(user, perm: str = "view_community") -> QuerySet[Seat]:
    return Seat.objects.filter(community__in=communities_for_user(user, perm))


def seat_for_user(user, pk, perm: str = "view_community") -> Seat:
    return one_or_404(seats_for_user(user, perm).select_related("person", "community"),
                      "没有找到这条两委任职记录，或您无权查看。", pk=pk)


def vacancies_for_user(user, perm: str = "view_community") -> QuerySet[Vacancy]:
    return Vacancy.objects.filter(community__in=communities_for_user(user, perm))


def vacancy_for_user(user, pk, perm: str = "view_community") -> Vacancy:
    return one_or_404(vacancies_for_user(user, perm).select_related("community"),
                      "没有找到这个空缺，或您无权查看。", pk=pk)


def exit_procedure_for_user(user, pk, perm: str = "view_community") -> ExitProcedure:
    procedures = ExitProcedure.objects.filter(employment__community__in=communities_for_user(user, perm))
    return one_or_404(procedures.select_related("employment__person", "employment__community"),
                      "没有找到这个离职程序，或您无权查看。", pk=pk)


def community_composition(community, as_of) -> dict:
    """The 两委 and workers of one community on a date, with sizes against what the policy expects.

    The six 两委 figures are the rules' own definitions (``rules.composition_of``, kept equal to
    ``rules.annotate_composition`` by tests/staffing/test_selectors.py), counted from the seats and workers
    this page lists anyway, so the page and the findings cannot disagree.
    """
    from . import rules

    rank = {role: i for roles in ROLES_OF_BODY.values() for i, role in enumerate(roles)}
    seats = sorted(Seat.objects.active_on(as_of).filter(community=community).select_related("person"),
                   key=lambda s: (rank.get(s.role, 9), s.start_on, s.person.name))
    workers = list(Employment.objects.active_on(as_of).filter(community=community).select_related("person")
                   .order_by("-full_time", "post", "-grade", "person__name"))
    worker_ids = {e.person_id for e in workers}
    fulltime_ids = {e.person_id for e in workers if e.full_time}
    committee_ids = {s.person_id for s in seats if s.body == "committee"}
    party_ids = {s.person_id for s in seats if s.body == "party"}
    for s in seats:
        s.is_cross = s.person_id in party_ids and s.person_id in committee_ids
        s.is_fulltime = s.person_id in fulltime_ids
        s.is_worker = s.person_id in worker_ids
    return {
        **_figures(community, rules.composition_of(seats, workers), _params(as_of)),
        "bodies": [
            ("社区党组织", [s for s in seats if s.body == "party"]),
            ("社区居委会", [s for s in seats if s.body == "committee"]),
        ],
        "workers": workers,
        "vacancies": list(Vacancy.objects.filter(community=community, vacated_on__lte=as_of)
                          .filter(Q(filled_on__isnull=True) | Q(filled_on__gt=as_of))),
        "exits": list(ExitProcedure.objects.filter(employment__community=community)
                      .select_related("employment__person").order_by("-pk")[:50]),
    }


def community_staffing_figures(community, as_of) -> dict:
    """``community_composition``'s figures without its lists, for the community page's panel: the same counts
    (``rules.composition_of``) from the seats' and jobs' keys alone, neither the people (their names and
    encrypted numbers) nor the vacancies and exits the panel does not show."""
    from types import SimpleNamespace

    from . import rules

    seats = [SimpleNamespace(person_id=person, body=body) for person, body in
             Seat.objects.active_on(as_of).filter(community=community).values_list("person_id", "body")]
    jobs = [SimpleNamespace(person_id=person, full_time=full_time) for person, full_time in
            Employment.objects.active_on(as_of).filter(community=community).values_list("person_id", "full_time")]
    return _figures(community, rules.composition_of(seats, jobs), _params(as_of))


def _figures(community, row: dict[str, int], params: dict) -> dict:
    """The six counts with what the policy expects of them, as the panel and the 两委 page show them."""
    from communities.models import PartyOrgType

    from . import rules

    kind = community.party_org_type
    min_cross = params["M10.cross_appointment"]["min_cross_share"]
    min_fulltime = params["M10.fulltime_share"]["min_fulltime_share"]
    per_10k = params["M11.worker_ratio"]["workers_per_10k"]
    return {
        **row,
        "party_typical": rules.typical_party_size(kind, params["M10.party_size"]),
        "party_range": (params["M10.party_size"]["min_party"], params["M10.party_size"]["max_party"]),
        "committee_range": (params["M10.committee_size"]["min_committee"],
                            params["M10.committee_size"]["max_committee"]),
        "party_label": PartyOrgType(kind).label if kind in PartyOrgType.values else "党组织",
        "committee_expected": rules.expected_committee_size(community.households, params["M10.committee_size"]),
        "cross_pct": rules.percent(row["cross_n"], row["party_n"]),
        "fulltime_pct": rules.percent(row["fulltime_n"], row["liangwei_n"]),
        "min_cross": min_cross,
        "min_fulltime": min_fulltime,
        "per_10k": per_10k,
        "cross_ok": rules.share_ok(row["cross_n"], row["party_n"], min_cross),
        "fulltime_ok": rules.share_ok(row["fulltime_n"], row["liangwei_n"], min_fulltime),
        "workers_required": rules.required_workers(community.population, per_10k),
        "cap": params["M10.total_cap"]["max_members"],
    }


def _params(as_of) -> dict:
    """The parameters in force on ``as_of`` (a reviewer may have changed the defaults)."""
    from compliance.parameters import params_for_rules
    from compliance.rules import registry

    ids = ["M10.cross_appointment", "M10.fulltime_share", "M11.worker_ratio", "M10.total_cap", "M10.party_size",
           "M10.committee_size"]
    return params_for_rules([registry.get(i) for i in ids], as_of)


def transfers_for_user(user) -> tuple[QuerySet[PersonTransfer], QuerySet[PersonTransfer]]:
    """(incoming, outgoing) 人员调动 of the user's 街办; for a reviewer, every request is outgoing (to decide).
    Incoming rows are shown with a masked number only: the receiving 街办 learns nothing of the person."""
    from accounts.roles import is_reviewer
    from communities.selectors import sub_districts_for_user

    base = PersonTransfer.objects.select_related("person", "to_community", "from_sub_district", "requested_by",
                                                 "decided_by")
    if not may_read_people(user):
        return PersonTransfer.objects.none(), PersonTransfer.objects.none()
    if is_reviewer(user):
        return PersonTransfer.objects.none(), base.all()
    streets = list(sub_districts_for_user(user, "change_subdistrict").values_list("code", flat=True))
    return (base.filter(to_sub_district_id__in=streets),
            base.filter(from_sub_district_id__in=streets))


def transfer_to_decide(user, pk) -> PersonTransfer:
    """A request the user may confirm: from their own 街办 (clerks) or any (reviewers); otherwise 404."""
    _, outgoing = transfers_for_user(user)
    return one_or_404(outgoing, "没有找到这个调动申请，或您无权办理。", pk=pk)


def exit_breaches(employments) -> dict[int, str]:
    """措施十五's breaches of an exit, read from its recorded dates, by employment pk: they stay on the person's
    page after filing, when the M15 findings have closed (docs/clauses.md). The notice period is the one in
    force on the leaving day."""
    from compliance.parameters import params_for
    from compliance.rules import registry

    from .models import LeaveWay

    out: dict[int, str] = {}
    for job in employments:
        if not job.leave_way or job.leave_on is None:
            continue
        said = []
        if job.leave_way == LeaveWay.RESIGNATION:
            days = int(params_for(registry.get("M15.resignation_notice"), job.leave_on)["notice_days"])
            submitted = job.resignation_submitted_on
            if submitted is None:
                said.append(f"没有书面辞职申请（应提前 {days} 天）")
            elif (job.leave_on - submitted).days < days:
                said.append(f"书面辞职申请仅提前 {(job.leave_on - submitted).days} 天（应提前 {days} 天）")
        if job.filed_on is not None and (job.approved_on is None or job.approved_on > job.filed_on):
            said.append("未经街办批准（决定）即报备案")
        if said:
            filed = f"；已于 {job.filed_on:%Y-%m-%d} 备案，问题已关闭，记录保留" if job.filed_on else ""
            out[job.pk] = "违规记录（措施十五）：" + "；".join(said) + filed
    return out
