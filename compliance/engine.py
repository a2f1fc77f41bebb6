"""The one evaluation path: saves (via compliance.rejudge), bulk imports and sweeps all come here.

For each rule, in four parts (``_evaluate_one``):

1. judge: ``Scope.narrow`` narrows the rule's target queryset to the changed targets, a sweep chunk or some
   communities, and the rule computes its failing results with the database (``Rule.evaluate``);
2. ``Scope.existing`` finds the live findings those results must be reconciled with (the few columns a
   comparison by digest needs);
3. ``reconcile`` decides what to open, update and resolve, reading whole only the findings that change;
4. ``write_findings`` writes that in a fixed number of statements.

The number of queries per rule does not depend on the number of targets. PostgreSQL specifics live in
``compliance.pg``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from communities.models import Community
from core.collector import collector_paused
from core.records import concrete_attnames, insert_rows, loaded, update_rows
from core.sheets import instance_factory

from . import catalogue, duties
from .changes import Changes, capture_changes, capturing  # noqa: F401  (views import capture_changes from here)
from .models import (
    LIVE_STATUSES,
    Finding,
    FindingEvent,
    FindingEventKind,
    FindingStatus,
    Sweep,
    SweepFinding,
    SweepStatus,
)
from .parameters import params_for_rules
from .pg import IN_CHUNK, in_array, int_array, is_postgresql, no_jit, planner
from .rules import DISTRICT_PK, Bounds, Context, Result, Rule, range_q
from .trends import daily_counts_refresh

logger = logging.getLogger(__name__)



# -- evaluation ---------------------------------------------------------------


def _chunks(items: list, size: int = IN_CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- the election window of a new community (docs/clauses.md) -------------------------

# Rules that need an elected 两委 or a running community: a community is not judged by them from its 批复日期
# to the end of its election window (批复日期 + M11's election_months calendar months, clamped at month end).
ELECTION_WINDOW_RULES = frozenset({
    "M06.adjustment_plan", "M06.oversized_staffing",
    "M07.facility_area", "M07.outdoor_plaza", "M07.activity_share",
    "M10.party_size", "M10.committee_size", "M10.cross_appointment", "M10.fulltime_share", "M10.total_cap",
    "M11.worker_ratio", "M11.vacancy", "M16.embedded_services", "M17.social_orgs", "M18.property_committee",
    "M19.work_funds",
})
ELECTION_RULE = "M11.election_deadline"


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months; a day the target month lacks clamps to its last day (as approvals.rules reads 三个月)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def window_opened_since(as_of: dt.date, months: int) -> dt.date:
    """The earliest 批复日期 whose window still holds ``as_of``: a community approved on a day in
    [this, as_of] is inside its window on ``as_of`` (add_months never decreases, so the window is a range)."""
    day = add_months(as_of, -months)
    while add_months(day, months) < as_of:
        day += dt.timedelta(days=1)
    while add_months(day - dt.timedelta(days=1), months) >= as_of:
        day -= dt.timedelta(days=1)
    return day


def _outside_window(rule: Rule, qs, as_of: dt.date, months: int | None):
    if months is None or rule.id not in ELECTION_WINDOW_RULES or rule.community_lookup is None:
        return qs
    prefix = "" if rule.community_lookup == "pk" else f"{rule.community_lookup}__"
    return qs.exclude(**{f"{prefix}approved_on__gte": window_opened_since(as_of, months),
                         f"{prefix}approved_on__lte": as_of})


def judged(rule: Rule, as_of: dt.date, months: int | None):
    """The rule's targets on ``as_of``, less the communities inside their election window."""
    qs = rule.target_queryset(as_of)
    if rule.is_district or qs is None:
        return qs
    return _outside_window(rule, qs, as_of, months)


def _by_target(qs, pks: list[int]) -> Iterator:
    """Rows of these targets."""
    yield from in_array(qs, "target_pk", pks)


_FINDING_COLUMNS = concrete_attnames(Finding)
# What a sweep reads of each live finding to reconcile it: enough to tell by digest that it still says what the
# rule finds, to keep its 首次发现 (its deadline) and to see a waiver end. A nightly sweep reads every live
# finding of its rules (hundreds of thousands), nearly all unchanged; the rest of a row (the figures, the
# message) only for those that change, reopen or resolve (``reconcile``'s ``whole``).
_COMPARED_COLUMNS = ["id", "rule_id", "target_pk", "status", "waived_until", "first_seen", "data_digest"]


def _loaded(rows: Iterable[tuple]) -> Iterator[Finding]:
    """Findings from rows of every column (``_FINDING_COLUMNS``)."""
    return loaded(Finding, rows, _FINDING_COLUMNS)


def _compare(rows: Iterable[tuple]) -> Iterator[Finding]:
    """Findings from rows of ``_COMPARED_COLUMNS``: as reconcile compares them, the rest read when needed."""
    return loaded(Finding, rows, _COMPARED_COLUMNS)


def _is_whole(f: Finding) -> bool:
    return "message" in f.__dict__


def _whole(pks: list[int]) -> dict[int, Finding]:
    """Whole rows of these findings, in one query."""
    return {f.pk: f for f in _loaded(in_array(Finding.objects.values_list(*_FINDING_COLUMNS), "id", sorted(pks)))}


def data_digest(data: Mapping[str, Any]) -> str:
    """A finding's data as ``reconcile`` builds it from a result (the same keys in the same order, the rule's own
    values), in 16 hex digits: equal data, equal digest. Data that compare equal but print otherwise (1.5 and
    1.50) differ here, which costs one full comparison, never a missed change."""
    return hashlib.blake2b(repr(tuple(data.values())).encode(), digest_size=8).hexdigest()


def _locate(results: list[Result], rule: Rule, *, always: bool = True) -> None:
    """Fill 街办 where the rule left it out (one query; ``always``: run whatever the results, as a sweep chunk
    does, else only when a result needs it, as after a save). The 责任单位 comes from ``duties``, not here."""
    need = {r.community_id for r in results if r.community_id is not None and r.sub_district_id is None}
    streets: dict[int, str] = dict(in_array(Community.objects.values_list("pk", "sub_district_id"), "id",
                                             sorted(need), always=always))
    for r in results:
        if r.sub_district_id is None and r.community_id is not None:
            r.sub_district_id = streets.get(r.community_id)
        if r.severity is None:
            r.severity = rule.severity


def _owner(rule: Rule, r: Result) -> dict[str, Any]:
    """The 责任单位 and 牵头单位 of a failing result (compliance.duties)."""
    d = duties.duty(rule.id)
    kind, unit = d.unit_for(r.sub_district_id)
    return {"responsible_kind": kind, "responsible_unit": unit, "lead_unit": d.lead_code}


_DATA_FIELDS = ("target_key", "community_id", "sub_district_id", "severity", "measured", "required", "message",
                "responsible_kind", "responsible_unit", "lead_unit", "due_date")


def _worst(results: Iterable[Result], rule: Rule, into: dict[int, Result] | None = None) -> dict[int, Result]:
    """Failing results by target; two conditions on one target: the higher severity is the finding."""
    failing: dict[int, Result] = {} if into is None else into
    for r in results:
        if r.passed:
            continue
        prev = failing.get(r.target_pk)
        if prev is None or catalogue.Severity.RANK.get(r.severity or rule.severity, 0) > catalogue.Severity.RANK.get(
            prev.severity or rule.severity, 0
        ):
            failing[r.target_pk] = r
    return failing


def _with_overrides(in_force: dict[str, dict[str, Any]],
                    given: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Parameters passed in (tests, what-if previews) override those in force, name by name."""
    if not given:
        return in_force
    return {rule_id: {**values, **given.get(rule_id, {})} for rule_id, values in in_force.items()}


@dataclass(frozen=True)
class Scope:
    """What one evaluation judges: the given targets (a save), a sweep chunk (``bounds``), some communities
    (``communities``, with ``orphans``: also the targets with no community; previews) or, with nothing set,
    everything. It narrows a rule's target queryset and finds the live findings the result must reconcile."""

    targets: list[int] | None = None
    communities: list[int] | None = None
    orphans: bool = False
    bounds: Bounds | None = None

    def skips(self, rule: Rule) -> bool:
        """Nothing to judge: the district outside the last chunk (it is judged once per sweep), no targets."""
        if rule.is_district:
            return ((self.targets is not None and DISTRICT_PK not in self.targets) or self.communities is not None
                    or (self.bounds is not None and self.bounds[1] is not None))
        return self.targets is not None and not self.targets

    def narrow(self, rule: Rule, qs):
        """The rule's judged targets (``judged``) inside this scope."""
        if rule.is_district or qs is None:
            return qs
        lookup = rule.community_lookup or "pk"
        if self.targets is not None:
            qs = qs.filter(pk__in=list(self.targets))
        if self.bounds is not None:
            qs = qs.filter(range_q(lookup, self.bounds))
        if self.communities is not None:
            q = Q(**{f"{lookup}__in": list(self.communities)})
            if self.orphans and lookup != "pk":
                q |= Q(**{f"{lookup}__isnull": True})
            return qs.filter(q)
        if self.orphans:
            if lookup == "pk":
                return qs.none()
            qs = qs.filter(**{f"{lookup}__isnull": True})
        return qs

    def existing(self, rule: Rule, failing: dict[int, Result], rejudge: Callable[[list[int]], Iterable[Result]],
                 prefetched: dict[int, Finding] | None = None) -> dict[int, Finding]:
        """Target pk → the live finding the evaluation reconciles. ``failing`` may grow: see the last case.

        A part of the district (a sweep chunk) reconciles completely for its own findings, those whose
        community is in the part, so no later step has to find what the chunk did not see."""
        live = (Finding.objects.filter(rule_id=rule.id, target_type=rule.target, status__in=LIVE_STATUSES)
                .values_list(*_COMPARED_COLUMNS))
        if rule.is_district:
            return {f.target_pk: f for f in _compare(live)}
        if prefetched is not None:
            return prefetched
        if self.targets is not None:
            return {f.target_pk: f for f in _compare(_by_target(live, sorted(set(self.targets))))}
        if self.communities is None and self.bounds is None and not self.orphans:
            return {f.target_pk: f for f in _compare(live)}  # everything: any live finding not failing now is resolved
        if self.bounds is not None:
            region = range_q("community_id", self.bounds)
        elif self.communities is not None:
            region = Q(community_id__in=self.communities)
            if self.orphans:
                region |= Q(community_id__isnull=True)
        else:
            region = Q(community_id__isnull=True)
        existing = {f.target_pk: f for f in _compare(live.filter(region))}
        # A failing target whose finding is filed under a community outside the part (the target moved).
        existing.update((f.target_pk, f) for f in _compare(_by_target(live, sorted(set(failing) - set(existing)))))
        # A finding in the part whose target was not judged failing here may belong to a target now judged
        # in another part (a person whose seat is elsewhere): re-judge just those before resolving them.
        stale = sorted(set(existing) - set(failing))
        for part in _chunks(stale):
            _worst(rejudge(part), rule, into=failing)
        return existing


@dataclass
class Reconciliation:
    """What to write so the live findings say what the failing results say (``reconcile``)."""

    create: list[Finding] = field(default_factory=list)  # new findings
    update: list[Finding] = field(default_factory=list)  # changed or reopened, fields already set
    resolve: list[Finding] = field(default_factory=list)  # live, no longer failing
    events: list[FindingEvent] = field(default_factory=list)  # reopened and severity changes
    opened: list[Finding] = field(default_factory=list)  # new or reopened, in the results' order
    still_open: list[Finding] = field(default_factory=list)
    redigest: list[Finding] = field(default_factory=list)  # unchanged, but their digest was not this data's


# New findings are built without Model.__init__'s per-field work (core.sheets.instance_factory): a first sweep
# builds hundreds of thousands.
_new_finding = instance_factory(Finding, attnames_only=True)


def reconcile(rule: Rule, results: Iterable[Result], existing: Mapping[int, Finding], *, as_of: dt.date, now,
              sweep_id: int | None, params: dict[str, Any], days: Callable,
              whole: Callable[[list[int]], Mapping[int, Finding]] = _whole) -> Reconciliation:
    """From a rule's failing results (one per target, 街办 filled) and the live findings of the targets judged,
    what to open, update (changed data, a waiver ended, a new severity) and resolve. Writes nothing; the
    findings to update are changed in place.

    A finding whose digest (``data_digest``) matches its result's data and whose waiver still holds is
    unchanged. ``existing`` may hold findings read in part (``Scope.existing``): those that change, reopen or
    resolve are read whole first, in one query (``whole``); nothing else is read."""
    plan = Reconciliation()
    # Per result only what differs: the 责任单位 by 街办 and, for rules without a date of their own, the
    # 整改期限 by severity and first_seen are the same for thousands of results (a first sweep's Python time).
    owners: dict[str | None, dict[str, Any]] = {}
    dues: dict[tuple[str, dt.date], dt.date | None] = {}
    own_due = rule.id in duties.DUE_BY_RULE
    new = dict(rule_id=rule.id, clause=rule.clause, target_type=rule.target, status=FindingStatus.OPEN,
               first_seen=as_of, last_seen=as_of, opened_at=now, last_sweep_id=sweep_id)
    # Each result with its live finding (if any), its data, their digest and whether a waiver ended.
    paired: list[tuple[Result, Finding | None, dict[str, Any], str, bool]] = []
    for r in results:
        f = existing.get(r.target_pk)
        severity = r.severity or rule.severity
        owner = owners.get(r.sub_district_id)
        if owner is None:
            owner = owners[r.sub_district_id] = _owner(rule, r)
        first_seen = f.first_seen if f else as_of
        if own_due:
            due = duties.due_date(rule.id, severity=severity, first_seen=first_seen, as_of=as_of, params=params,
                                  result=r, days=days)
        elif (severity, first_seen) in dues:
            due = dues[severity, first_seen]
        else:
            due = dues[severity, first_seen] = duties.due_date(rule.id, severity=severity, first_seen=first_seen,
                                                               as_of=as_of, params=params, result=r, days=days)
        data = {
            "target_key": str(r.key), "community_id": r.community_id, "sub_district_id": r.sub_district_id,
            "severity": severity, "measured": r.measured, "required": r.required, "message": r.message,
            **owner, "due_date": due,
        }
        reopened = (f is not None and f.status == FindingStatus.WAIVED and f.waived_until is not None
                    and as_of > f.waived_until)
        paired.append((r, f, data, data_digest(data), reopened))
    failing = {r.target_pk for r, *_rest in paired}
    unsettled = [f.pk for _r, f, _data, digest, reopened in paired
                 if f is not None and (reopened or f.data_digest != digest) and not _is_whole(f)]
    unsettled += [f.pk for pk, f in existing.items() if pk not in failing and not _is_whole(f)]
    read = whole(unsettled) if unsettled else {}
    for r, f, data, digest, reopened in paired:
        if f is None:
            f = _new_finding({**new, "target_pk": r.target_pk, **data, "data_digest": digest})
            plan.create.append(f)
            plan.opened.append(f)
            continue
        if f.data_digest == digest and not reopened:
            # Unchanged: not rewritten. An open finding was last seen by the latest sweep (escalation.seen_until).
            if f.status == FindingStatus.OPEN:
                plan.still_open.append(f)
            continue
        f = read.get(f.pk, f)
        old_severity = f.severity
        changed = [k for k, v in data.items() if getattr(f, k) != v]
        f.data_digest = digest
        if not changed and not reopened:
            # The same data under another digest (a row from before digests): only the digest is written.
            plan.redigest.append(f)
            if f.status == FindingStatus.OPEN:
                plan.still_open.append(f)
            continue
        for k in changed:
            setattr(f, k, data[k])
        f.last_seen, f.last_sweep_id = as_of, sweep_id
        if reopened:
            f.status = FindingStatus.OPEN
            f.opened_at = now
            f.resolved_at = None
            plan.events.append(FindingEvent(finding=f, kind=FindingEventKind.REOPENED, as_of=as_of,
                                            severity=f.severity, measured=f.measured, sweep_id=sweep_id,
                                            note=f"豁免已于 {f.waived_until:%Y-%m-%d} 到期，数据仍不达标"))
            plan.opened.append(f)
        else:
            if f.severity != old_severity:
                plan.events.append(FindingEvent(finding=f, kind=FindingEventKind.SEVERITY, as_of=as_of,
                                                severity=f.severity, measured=f.measured, sweep_id=sweep_id,
                                                note=f"{catalogue.Severity.label(old_severity)} → "
                                                     f"{catalogue.Severity.label(f.severity)}"))
            if f.status == FindingStatus.OPEN:
                plan.still_open.append(f)
        plan.update.append(f)
    plan.resolve = [read.get(f.pk, f) for pk, f in existing.items() if pk not in failing]
    return plan


def write_findings(plan: Reconciliation, *, as_of: dt.date, now, sweep_id: int | None) -> Changes:
    """Write a reconciliation: a fixed number of statements whatever its size, the events last."""
    changes = Changes(opened=plan.opened, still_open=plan.still_open)
    events = list(plan.events)
    if plan.create:
        # COPY on PostgreSQL: a first sweep writes hundreds of thousands; their foreign keys are ids already.
        insert_rows(Finding, plan.create, related=False)
        if is_postgresql():
            _opened_events(plan.create, as_of=as_of, sweep_id=sweep_id)
        else:
            events += [FindingEvent(finding=f, kind=FindingEventKind.OPENED, as_of=as_of, severity=f.severity,
                                    measured=f.measured, sweep_id=sweep_id, note=f.message) for f in plan.create]
    if plan.update:
        # Not Django's bulk_update: its CASE per field over the whole batch grows with the square of the batch
        # (213 s for the findings of a 5,000-row import that changed every 户数).
        update_rows(Finding, plan.update,
                    [*_DATA_FIELDS, "data_digest", "last_seen", "last_sweep_id", "status", "opened_at", "resolved_at"])
    if plan.redigest:
        update_rows(Finding, plan.redigest, ["data_digest"])
    if plan.resolve:
        for part in _chunks([f.pk for f in plan.resolve]):
            Finding.objects.filter(pk__in=part).update(status=FindingStatus.RESOLVED, resolved_at=now,
                                                       last_sweep_id=sweep_id)
        for f in plan.resolve:
            f.status, f.resolved_at = FindingStatus.RESOLVED, now
            events.append(FindingEvent(finding=f, kind=FindingEventKind.RESOLVED, as_of=as_of, sweep_id=sweep_id,
                                       note="数据已达标（或对象已不再评估），问题关闭"))
        changes.resolved += plan.resolve
    if events:
        insert_rows(FindingEvent, events)
    changes.touched |= {(f.rule_id, f.sub_district_id) for f in (*plan.create, *plan.update, *plan.resolve)}
    return changes


def _opened_events(created: list[Finding], *, as_of: dt.date, sweep_id: int | None) -> None:
    """The 发现 events of new findings in one statement, copied from the rows just written: no event objects,
    no second COPY (as many events as findings in a first sweep)."""
    table = connection.ops.quote_name(FindingEvent._meta.db_table)
    source = connection.ops.quote_name(Finding._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (finding_id, kind, as_of, at, severity, measured, note, sweep_id, user_id) "
            f"SELECT id, %s, %s, %s, severity, measured, message, %s, NULL FROM {source} "
            "WHERE id = ANY(%s::bigint[]) ORDER BY id",
            [FindingEventKind.OPENED, as_of, timezone.now(), sweep_id, int_array(f.pk for f in created)],
        )


def _failing(rule: Rule, qs, as_of: dt.date, params: dict[str, Any], chunk: Bounds | None) -> dict[int, Result]:
    with planner(rule.chunk_planner if chunk is not None else {}):
        return _worst(rule.evaluate(qs, as_of, Context(params, as_of=as_of, chunk=chunk)), rule)


def _evaluate_one(rule: Rule, scope: Scope, *, as_of: dt.date, params: dict[str, Any], sweep: Sweep | None, now,
                  days: duties.DeadlineDays, months: int | None,
                  prefetched: dict[int, Finding] | None = None) -> Changes:
    """One rule over one scope: judge, find what is live, reconcile, write."""
    if scope.skips(rule):
        return Changes()
    failing = _failing(rule, scope.narrow(rule, judged(rule, as_of, months)), as_of, params, scope.bounds)

    def rejudge(pks: list[int]) -> Iterable[Result]:
        whole = judged(rule, as_of, months)
        assert whole is not None, "only district rules have no target queryset, and they are judged whole"
        return rule.evaluate(whole.filter(pk__in=pks), as_of, Context(params, as_of=as_of))

    existing = scope.existing(rule, failing, rejudge, prefetched)
    results = list(failing.values())
    _locate(results, rule, always=sweep is not None)
    sweep_id = sweep.pk if sweep else None
    plan = reconcile(rule, results, existing, as_of=as_of, now=now, sweep_id=sweep_id, params=params, days=days)
    if not (plan.create or plan.update or plan.resolve or plan.events or plan.redigest):
        return write_findings(plan, as_of=as_of, now=now, sweep_id=sweep_id)  # nothing to write: no transaction
    # All of a rule's writes or none (the savepoint of _evaluate_guarded, or this transaction in autocommit).
    with transaction.atomic():
        return write_findings(plan, as_of=as_of, now=now, sweep_id=sweep_id)


@collector_paused()
def evaluate_rules(
    *,
    rules: Iterable[Rule],
    as_of: dt.date | None = None,
    target_pks: Mapping[str, Iterable[int]] | Iterable[int] | None = None,
    sweep: Sweep | None = None,
    community_pks: Iterable[int] | None = None,
    orphans: bool = False,
    bounds: Bounds | None = None,
    catch_errors: bool = False,
    params: dict[str, dict[str, Any]] | None = None,
) -> Changes:
    """Evaluate ``rules`` as of a date and reconcile their findings.

    ``target_pks``: None for every target, a list of pks for all rules, or a
    dict rule id → pks (what the on-save mechanism builds). ``bounds`` (lo, hi)
    selects a sweep chunk: communities with lo <= pk < hi, None for open ends;
    the last chunk (hi None) also holds the district and targets with no
    community. ``community_pks`` / ``orphans`` select a part by list (previews). With ``catch_errors`` a rule that
    raises is recorded in ``changes.errors`` and the others still run.
    """
    as_of = as_of or timezone.localdate()
    rules = list(rules)
    now = timezone.now()
    all_params = _with_overrides(params_for_rules(rules, as_of), params)
    total = Changes()
    days = duties.deadline_days_loader()  # once per call: the 整改期限 parameters and the election window's months
    months = days.election_months(as_of) if any(r.id in ELECTION_WINDOW_RULES for r in rules) else None
    found = (_live_by_rule(rules, target_pks)
             if isinstance(target_pks, Mapping) and sweep is None and community_pks is None and bounds is None
             and not orphans else None)
    communities = None if community_pks is None else list(community_pks)
    with no_jit(sweep is not None):
        for rule in rules:
            if isinstance(target_pks, Mapping):
                if rule.id not in target_pks:
                    continue
                pks: list[int] | None = list(target_pks[rule.id])
            else:
                pks = None if target_pks is None else list(target_pks)
            scope = Scope(targets=pks, communities=communities, orphans=orphans, bounds=bounds)
            _evaluate_guarded(rule, scope, total, as_of=as_of, params=all_params[rule.id], sweep=sweep, now=now,
                              catch_errors=catch_errors, days=days, months=months,
                              prefetched=None if found is None else found.get(rule.id))
    if sweep is None and total.touched and as_of == timezone.localdate():
        # Today's record changed: keep today's trend point true (a sweep refreshes the whole day at its end).
        daily_counts_refresh(day=as_of, pairs=total.touched)
    return total


@collector_paused()
def snapshot_rules(*, rules: Iterable[Rule], as_of: dt.date, sweep: Sweep, bounds: Bounds,
                   params: dict[str, dict[str, Any]] | None = None) -> Changes:
    """A replay's chunk (a sweep as of a date other than the day it runs): what the rules find on ``as_of``,
    written as the sweep's own snapshot (``SweepFinding``, by COPY on PostgreSQL). Never reads for writing,
    opens, changes or resolves a live finding: a look at the past or ahead leaves today's record alone.

    A snapshot row's ``first_seen`` (and so its deadline) is carried from the live finding that was open on
    ``as_of`` or from the latest earlier replay that found it, else ``as_of``. Per rule: the evaluation, one
    read of each source of ``first_seen``, one insert, whatever the number of targets."""
    rules = list(rules)
    all_params = _with_overrides(params_for_rules(rules, as_of), params)
    days = duties.deadline_days_loader()
    months = days.election_months(as_of) if any(r.id in ELECTION_WINDOW_RULES for r in rules) else None
    previous = (Sweep.objects.filter(status=SweepStatus.FINISHED, live=False, as_of__lt=as_of)
                .order_by("-as_of", "-finished_at", "-id").first())
    total = Changes()
    with no_jit(True):
        for rule in rules:
            started = time.perf_counter()
            try:
                with transaction.atomic():
                    total.recorded += _snapshot_one(rule, as_of=as_of, params=all_params[rule.id], sweep=sweep,
                                                    bounds=bounds, days=days, months=months, previous=previous,
                                                    model=SweepFinding)
            except Exception as exc:
                logger.exception("规则 %s 回放评估失败", rule.id)
                total.errors.append({"rule": rule.id, "error": f"{type(exc).__name__}: {exc}"})
            total.timings[rule.id] = total.timings.get(rule.id, 0.0) + (time.perf_counter() - started)
    return total


def _snapshot_one(rule: Rule, *, as_of: dt.date, params: dict[str, Any], sweep: Sweep, bounds: Bounds,
                  days: duties.DeadlineDays, months: int | None, previous: Sweep | None, model) -> int:
    if rule.is_district and bounds[1] is not None:
        return 0  # the district is judged once per sweep, in its last chunk
    failing = _failing(rule, Scope(bounds=bounds).narrow(rule, judged(rule, as_of, months)), as_of, params, bounds)
    results = list(failing.values())
    _locate(results, rule, always=True)
    pks = sorted(failing)
    seen: dict[int, dt.date] = {}
    # Open on that date: found by then, and still live or closed only later.
    was_open = (Finding.objects.filter(rule_id=rule.id, target_type=rule.target, first_seen__lte=as_of)
                .filter(Q(status__in=LIVE_STATUSES) | Q(last_seen__gte=as_of))
                .values_list("target_pk", "first_seen"))
    for pk, first in in_array(was_open, "target_pk", pks, always=True):
        seen[pk] = min(first, seen.get(pk, first))
    if previous is not None:
        earlier = model.objects.filter(sweep=previous, rule_id=rule.id).values_list("target_pk", "first_seen")
        for pk, first in in_array(earlier, "target_pk", pks, always=True):
            seen[pk] = min(first, seen.get(pk, first))
    rows = []
    for r in results:
        severity = r.severity or rule.severity
        first_seen = min(seen.get(r.target_pk, as_of), as_of)
        rows.append(model(
            sweep_id=sweep.pk, rule_id=rule.id, clause=rule.clause, target_type=rule.target, target_pk=r.target_pk,
            target_key=str(r.key), community_id=r.community_id, sub_district_id=r.sub_district_id, severity=severity,
            measured=r.measured, required=r.required, message=r.message, first_seen=first_seen,
            due_date=duties.due_date(rule.id, severity=severity, first_seen=first_seen, as_of=as_of, params=params,
                                     result=r, days=days),
            **_owner(rule, r),
        ))
    insert_rows(model, rows)
    return len(rows)


# A save re-judges a few targets under each of some thirty rules: their live findings are read in one query
# rather than one per rule (a third of a save's queries). Larger evaluations (imports) keep one per rule.
LIVE_PREFETCH_MAX = 1000


def _live_by_rule(rules: list[Rule], target_pks: Mapping[str, Iterable[int]]) -> dict[str, dict[int, Finding]] | None:
    """Rule id → target pk → live finding, for the given targets of the (non-district) rules; None when too many."""
    wanted = {r.id: {int(pk) for pk in target_pks[r.id]} for r in rules if r.id in target_pks and not r.is_district}
    every = set().union(*wanted.values()) if wanted else set()
    if not every or len(every) > LIVE_PREFETCH_MAX:
        return None
    kinds = {r.id: r.target for r in rules}
    found: dict[str, dict[int, Finding]] = {rule_id: {} for rule_id in wanted}
    for f in Finding.objects.filter(rule_id__in=sorted(wanted), status__in=LIVE_STATUSES, target_pk__in=sorted(every)):
        if f.target_type == kinds[f.rule_id] and f.target_pk in wanted[f.rule_id]:
            found[f.rule_id][f.target_pk] = f
    return found


def _evaluate_guarded(rule: Rule, scope: Scope, total: Changes, *, as_of: dt.date, params: dict[str, Any],
                      sweep: Sweep | None, now, catch_errors: bool, days: duties.DeadlineDays, months: int | None,
                      prefetched: dict[int, Finding] | None = None) -> None:
    started = time.perf_counter()
    try:
        # Inside a transaction, a savepoint per rule: a rule that fails (a read included) leaves the transaction
        # usable and no half-written findings. In autocommit (a save's re-judge in the worker, a sweep chunk) a
        # failed read leaves nothing to undo, and _evaluate_one writes in a transaction of its own when there is
        # something to write: a save's re-judge of nine rules that changed no finding sent nine BEGIN/COMMIT.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            total.merge(_evaluate_one(rule, scope, as_of=as_of, params=params, sweep=sweep, now=now, days=days,
                                      months=months, prefetched=prefetched))
    except Exception as exc:
        if not catch_errors:
            raise
        logger.exception("规则 %s 评估失败", rule.id)
        total.errors.append({"rule": rule.id, "error": f"{type(exc).__name__}: {exc}"})
    total.timings[rule.id] = total.timings.get(rule.id, 0.0) + (time.perf_counter() - started)


def preview_rules(
    *,
    rules: Iterable[Rule],
    community_pks: Iterable[int],
    as_of: dt.date | None = None,
    params: dict[str, dict[str, Any]] | None = None,
) -> list[tuple[Rule, Result]]:
    """What ``rules`` would find in these communities (and their compounds,
    facilities, people), without touching any finding.

    For proposals that do not exist yet as records (an establishment request
    before it is submitted): the caller may build them inside a transaction it
    rolls back; nothing here writes, so nothing here needs undoing.
    """
    as_of = as_of or timezone.localdate()
    rules = list(rules)
    pks = list(community_pks)
    all_params = _with_overrides(params_for_rules(rules, as_of), params)
    out: list[tuple[Rule, Result]] = []
    for rule in rules:
        if rule.is_district:
            continue  # a district rule does not judge one proposed community
        qs = Scope(communities=pks).narrow(rule, judged(rule, as_of, None))
        failing: dict[int, Result] = {}
        for r in rule.evaluate(qs, as_of, Context(all_params[rule.id], as_of=as_of)):
            if r.passed:
                continue
            r.severity = r.severity or rule.severity
            prev = failing.get(r.target_pk)
            if prev is None or catalogue.Severity.RANK.get(r.severity, 0) > catalogue.Severity.RANK.get(
                prev.severity or rule.severity, 0
            ):
                failing[r.target_pk] = r
        out += [(rule, r) for r in failing.values()]
    return out
