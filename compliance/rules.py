"""The rule base class and the registry: how to write a clause rule.

Each domain app keeps its rules in ``<app>/rules.py``; ``compliance``
imports every such module at startup (like ``admin.py``). A rule is a class:

    from compliance.rules import Rule, Result, register, same_pk, via

    @register
    class Households(Rule):
        id = "M04.households"              # exactly as in compliance/catalogue.py
        # clause, title, target, severity and params default to the catalogue;
        # declare them only to override (the system checks compare ids).
        reading = "户数在[下限, 上限]之间……"   # one Chinese paragraph: the 口径 we take
        reads = {                           # every model the rule reads → changed rows to target pks
            Community: community_columns("households"),  # the target itself: the columns it reads
            # Compound: via("community_id"),  # a compound change re-judges its community
        }

        def target_queryset(self, as_of):
            return Community.objects.judged(as_of)          # what is judged on that date

        def evaluate(self, queryset, as_of, params):
            for row in queryset.filter(...).values(...):   # ONE query (annotate/Exists/Subquery)
                yield Result(target_pk=row["pk"], key=row["code"], community_id=row["pk"],
                             passed=False, measured=..., required=..., message="……")

Contract:

- ``evaluate`` receives the target queryset (already narrowed by the engine to
  the changed targets or to a sweep chunk), the as-of date ("today": anything
  dated later has not happened) and the parameters in force on that date
  (``params["min_households"]``; the catalogue's defaults overridden by dated
  values), a ``Context`` that also says which sweep chunk is judged
  (``chunk_of(params)``). It must compute with the database: a fixed number of queries no
  matter how many targets, never one query per target.
- Yield a ``Result`` per failing target. Passing targets may be yielded with
  ``passed=True`` or simply omitted: every target in scope that has no failing
  result counts as passing, and its open finding is resolved.
- ``key`` is the target's natural key (社区代码, 小区编号, 设施编号, the person's
  opaque id, or ``"district"``); ``community_id`` the community's pk or None;
  ``severity`` defaults to the rule's; ``measured``/``required`` are numbers
  or short strings; ``message`` a Chinese sentence stating measured against
  required, e.g. ``户数 999 户，低于下限 1000 户``.
- ``reads`` maps each model the rule reads (class or ``"app_label.Model"``)
  to a function taking a list of changed (saved or deleted) instances and
  returning the target pks to re-judge. It may run one query for the whole
  list, never one per instance. On an update it is called with both the row
  as it was and as it is now, so a compound moved between communities
  re-judges both. A mapper decorated ``@watching("status", ...)`` is skipped
  for an update that changes none of those columns. A mapper that may reach
  many targets from one row (a community to its people) must say which
  columns it watches; one that names at most one target per row is
  ``same_pk``, ``via(...)``, ``district`` or marked ``@one_to_one``
  (system check compliance.E008).
  A rule reading its target community declares the columns it reads:
  ``Community: community_columns("households")`` (communities.rules: those
  and the columns that decide whether a community is judged at all), so a
  户数 edit does not re-judge 四至 (system check compliance.E010).
- A district rule (target ``district``) ignores the queryset: its
  ``target_queryset`` returns None and it yields one Result with
  ``target_pk=DISTRICT_PK`` and ``key="district"``. Map its reads with
  ``district``.
- Sweeps split work by community: ``community_lookup`` is the path from the
  target model to the community pk (defaults: ``"pk"`` for community targets,
  ``"community"`` otherwise). Targets with no community are judged in the
  sweep's last chunk.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django.apps import apps
from django.db import models
from django.db.models import Q

from . import catalogue
from .catalogue import Severity, Target

DISTRICT_PK = 0
DISTRICT_KEY = "district"

Mapper = Callable[[Sequence[models.Model]], Iterable[int]]

# A sweep chunk: community pks in [lo, hi); None is an open end.
Bounds = tuple[int | None, int | None]


class Context(dict):
    """What ``evaluate`` receives as ``params``: the parameters in force (``params["min_households"]``) and,
    as attributes, the rest of what it may ask of the evaluation: ``as_of`` and ``chunk``, the sweep chunk's
    range of community pks (None when not a sweep chunk). A plain dict of parameters works too (tests)."""

    def __init__(self, params: dict[str, Any], *, as_of: dt.date, chunk: Bounds | None = None) -> None:
        super().__init__(params)
        self.as_of = as_of
        self.chunk = chunk


def chunk_of(params: dict[str, Any]) -> Bounds | None:
    """The sweep chunk a rule is evaluated for, else None.

    A rule whose rows carry their own community (seats, employments) may narrow the rows with
    ``range_q("community_id", chunk)`` instead of joining back to the narrowed target queryset, so PostgreSQL
    reads the chunk by index. Its findings then belong to the rows' community, which is how the chunk
    reconciles them."""
    return getattr(params, "chunk", None)


def range_q(lookup: str, bounds: Bounds) -> Q:
    """A sweep chunk: community pks in [lo, hi); the last chunk (hi None) also holds rows with no community."""
    lo, hi = bounds
    parts = []
    if lo is not None:
        parts.append(Q(**{f"{lookup}__gte": lo}))
    if hi is not None:
        parts.append(Q(**{f"{lookup}__lt": hi}))
    if not parts:
        return Q()  # the whole district in one chunk
    q = Q(*parts)
    if hi is None and lookup != "pk":
        q |= Q(**{f"{lookup}__isnull": True})
    return q


def _plain(value: Any) -> Any:
    """Measured/required values travel as JSON: numbers stay numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass
class Result:
    target_pk: int
    key: str
    community_id: int | None
    passed: bool
    severity: str | None = None
    measured: Any = None
    required: Any = None
    message: str = ""
    # Filled from the community when omitted; set it for a target with no community.
    sub_district_id: str | None = None
    # The unit that must act; defaults to the 街办's name, else the clause's 牵头单位.
    responsible: str = ""

    def __post_init__(self) -> None:
        self.measured = _plain(self.measured)
        self.required = _plain(self.required)


def one_to_one(mapper: Mapper) -> Mapper:
    """Mark a mapper whose every changed row names at most one target (the row itself, the row it points to,
    or one row found through it): it cannot fan out, so it need not say which columns it watches. Any other
    mapper must be ``@watching`` (the system check compliance.E008)."""
    setattr(mapper, "one_to_one", True)  # noqa: B010 (a function attribute mypy does not know)
    return mapper


@one_to_one
def same_pk(objs: Sequence[models.Model]) -> list[int]:
    """The changed row is the target."""
    return [o.pk for o in objs if o.pk is not None]


@functools.cache
def via(attname: str) -> Mapper:
    """The target is the row an attribute points to, e.g. ``via("community_id")``. One mapper per attname: rules
    that read through the same column share it, so a write maps its rows once for all of them (nothing may
    mark the shared function, e.g. with ``@watching``: wrap it instead)."""

    def mapper(objs: Sequence[models.Model]) -> list[int]:
        return [v for v in (getattr(o, attname, None) for o in objs) if v is not None]

    mapper.__name__ = f"via_{attname}"
    return one_to_one(mapper)


def watching(*attnames: str, new_rows: bool = False) -> Callable[[Mapper], Mapper]:
    """Mark a mapper as reading only these columns (attnames) of the changed row: an update that changes none
    of them re-judges nothing through it. A deleted row, or a write that does not say what it changed, always
    goes through; a new row (``rejudge_on_commit(..., created=True)``) does not: such a mapper looks from a row
    to the rows that refer to it, and no row refers to one that did not exist before. ``new_rows=True``: this
    one looks from the row to rows written before it (a new facility to its community's planned centers), so
    new rows go through it too.

    For mappers that fan out from a row to many targets (a community to its people): a 户数 edit need not
    re-judge every person rule for each of the community's people when those rules only read its 撤销 status.
    """

    def mark(mapper: Mapper) -> Mapper:
        setattr(mapper, "fields", frozenset(attnames))  # noqa: B010 (a function attribute mypy does not know)
        setattr(mapper, "new_rows", new_rows)  # noqa: B010
        return mapper

    return mark


@functools.cache
def same_pk_watching(*attnames: str) -> Mapper:
    """``same_pk`` for a rule that reads only these columns of its target row: an update that changes none of
    them does not re-judge the rule (a 户数 edit does not re-judge 四至). A new row and a delete always go
    through. Rules that watch the same columns share one mapper, so a save maps its rows once for them."""

    def mapper(objs: Sequence[models.Model]) -> list[int]:
        return list(same_pk(objs))

    mapper.__name__ = "same_pk_watching"
    # What it maps a row to does not depend on the columns it watches: rows passed to several of these are
    # mapped once (a new community reaches nine of them).
    setattr(mapper, "maps_like", same_pk)  # noqa: B010 (a function attribute mypy does not know)
    return watching(*attnames, new_rows=True)(one_to_one(mapper))


@one_to_one
def district(objs: Sequence[models.Model]) -> list[int]:
    """Any change re-judges the district as a whole."""
    return [DISTRICT_PK] if objs else []


class Rule:
    id: ClassVar[str] = ""
    clause: ClassVar[int] = 0
    title: ClassVar[str] = ""
    target: ClassVar[str] = ""
    severity: ClassVar[str] = ""
    params: ClassVar[dict[str, Any]] = {}
    # name → the rule whose dated value this rule reads (catalogue ``shared``); never set here, only there.
    shared: ClassVar[dict[str, str]] = {}
    reading: ClassVar[str] = ""
    reads: ClassVar[dict[Any, Mapper]] = {}
    community_lookup: ClassVar[str | None] = None
    # PostgreSQL planner settings for this rule's queries in a sweep chunk (compliance.pg.planner), where the
    # planner's choice for one chunk reads a whole table (measured in the rule's comment).
    chunk_planner: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = catalogue.RULES.get(cls.id)
        if spec is None:
            return  # the system check reports an id missing from the catalogue
        if not cls.clause:
            cls.clause = spec.clause
        if not cls.title:
            cls.title = spec.title
        if not cls.target:
            cls.target = spec.target
        if not cls.severity:
            cls.severity = spec.severity
        if "params" not in cls.__dict__:
            cls.params = dict(spec.params)
        if "shared" not in cls.__dict__:
            cls.shared = dict(spec.shared)
        if cls.community_lookup is None and cls.target != Target.DISTRICT:
            cls.community_lookup = "pk" if cls.target == Target.COMMUNITY else "community"

    # -- metadata ---------------------------------------------------------
    @property
    def numeral(self) -> str:
        return catalogue.CHINESE_NUMERALS.get(self.clause, str(self.clause))

    @property
    def clause_info(self) -> catalogue.Clause | None:
        return catalogue.CLAUSES.get(self.clause)

    @property
    def is_district(self) -> bool:
        return self.target == Target.DISTRICT

    def read_models(self) -> dict[type[models.Model], Mapper]:
        out = {}
        for model, mapper in self.reads.items():
            if isinstance(model, str):
                model = apps.get_model(model)
            out[model] = mapper
        return out

    # -- to implement -----------------------------------------------------
    def target_queryset(self, as_of: dt.date) -> models.QuerySet | None:
        raise NotImplementedError(f"{self.id}: target_queryset() 未实现")

    def evaluate(self, queryset: models.QuerySet | None, as_of: dt.date, params: dict[str, Any]) -> Iterable[Result]:
        raise NotImplementedError(f"{self.id}: evaluate() 未实现")

    # -- helpers for rules --------------------------------------------------
    # The one way to build a failing result: severity defaults to the rule's.
    def fail(self, *, target_pk: int, key: str, community_id: int | None, measured: Any = None,
             required: Any = None, message: str = "", severity: str | None = None, **extra: Any) -> Result:
        return Result(target_pk=target_pk, key=key, community_id=community_id, passed=False,
                      severity=severity or self.severity, measured=measured, required=required,
                      message=message, **extra)

    def __repr__(self) -> str:
        return f"<Rule {self.id}>"


class Registry:
    """Rule ids to rule instances. Tests build their own to stay isolated."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}
        # Every registration, duplicates included, so the system check can see them.
        self.registrations: list[tuple[str, type[Rule]]] = []

    def register(self, cls: type[Rule]) -> type[Rule]:
        self.registrations.append((cls.id, cls))
        self._rules.setdefault(cls.id, cls())
        return cls

    def get(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def __contains__(self, rule_id: str) -> bool:
        return rule_id in self._rules

    def all(self) -> list[Rule]:
        return [self._rules[k] for k in sorted(self._rules)]

    def ids(self) -> list[str]:
        return sorted(self._rules)

    def select(self, rule_ids: Iterable[str] | None = None) -> list[Rule]:
        if rule_ids is None:
            return self.all()
        return [self._rules[r] for r in rule_ids if r in self._rules]


registry = Registry()
register = registry.register

__all__ = [
    "DISTRICT_KEY",
    "DISTRICT_PK",
    "Bounds",
    "Context",
    "Registry",
    "Result",
    "Rule",
    "Severity",
    "Target",
    "chunk_of",
    "district",
    "one_to_one",
    "range_q",
    "register",
    "registry",
    "same_pk",
    "same_pk_watching",
    "via",
    "watching",
]
