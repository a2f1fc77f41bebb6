"""The columns a community rule watches (communities.rules.community_columns) are all it reads of the community.

A save re-judges a rule through its Community mapper only when the update changed a column the rule watches
(compliance.rejudge.targets_for): a 户数 edit does not re-judge 四至. That is safe only if no column the rule
leaves out can change what it finds. So, on the demo world: for every rule that judges communities, for every
concrete column of Community it does not watch, change that column on the demo's communities (numbers ±1, 0 and
large; each other choice; dates ±1 day, None or a date either side of the day judged; other text) and judge the
rule as the engine does (its judged targets, the election window, the parameters in force): the failing
targets, their severity, measured and required values and messages are the same before and after.

The demo loads once per module inside an outer transaction rolled back at the end; each change is undone by
its own savepoint."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, models, transaction
from django.utils import timezone

from communities.models import Community
from communities.rules import JUDGED_COLUMNS
from compliance import duties
from compliance.engine import Scope, _failing, judged
from compliance.parameters import params_for_rules
from compliance.rejudge import read_index
from compliance.rules import Rule

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
# Today, and a day a year back (a replay: other communities founded, revoked, inside their election window).
DAYS = (TODAY, TODAY - dt.timedelta(days=365))


def _watching_rules() -> list[tuple[Rule, frozenset[str]]]:
    """The rules reading Community through a mapper that names its columns and judging the community itself."""
    return sorted(((rule, mapper.fields) for rule, mapper in read_index()[Community]
                   if getattr(mapper, "fields", None) is not None and rule.community_lookup == "pk"),
                  key=lambda pair: pair[0].id)


Variant = Callable[[Any], Any]


def _variants(field: models.Field) -> list[tuple[str, Variant]]:
    """Other plausible values of a column, each a function of the row's value."""
    day = dt.timedelta(days=1)
    if field.choices:
        return [(f"= {value}", lambda old, value=value: value) for value, _label in field.choices]
    if isinstance(field, models.BooleanField):
        return [("取反", lambda old: not old)]
    if isinstance(field, models.IntegerField):
        return [("+1", lambda old: old + 1), ("-1", lambda old: max(old - 1, 0)), ("= 0", lambda old: 0),
                ("= 1000000", lambda old: 1_000_000)]
    if isinstance(field, models.DateField):
        out: list[tuple[str, Variant]] = [
            ("+1 天", lambda old: old + day if old else TODAY + day),
            ("-1 天", lambda old: old - day if old else TODAY - day),
            ("= 评估日", lambda old: TODAY),
            ("= 一年前", lambda old: TODAY - 365 * day),
        ]
        if field.null:
            out.append(("= 空", lambda old: None))
        return out
    if isinstance(field, models.CharField | models.TextField):
        return [("改写", lambda old: f"{old}（改）"[: field.max_length]), ("= 空", lambda old: ""),
                ("= 其他", lambda old: "另一段文字")]
    raise AssertionError(f"no variants for {field.name} ({type(field).__name__}): add them")


@contextmanager
def _unchecked() -> Iterator[None]:
    """户数 above 人口 breaks a check constraint but not a rule that reads neither: lifted for the test's
    transaction only (rolled back with it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The demo's rows were restored with foreign-key checks deferred: checked now, or no ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE communities_community DROP CONSTRAINT community_population_gte_households")
            yield
        else:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            try:
                yield
            finally:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")


@pytest.fixture(scope="module")
def demo(whole_demo_rows, django_db_setup, django_db_blocker):
    from ..demo_world import restore

    with django_db_blocker.unblock(), transaction.atomic():
        restore(whole_demo_rows)
        with _unchecked():
            yield list(Community.objects.order_by("pk"))
        transaction.set_rollback(True)


def _found(rules: list[Rule], pks: list[int], day: dt.date) -> dict[str, list[tuple]]:
    """What each rule finds on these communities on ``day``, as the engine judges a save's targets."""
    params = params_for_rules(rules, day)
    months = duties.deadline_days_loader().election_months(day)
    out = {}
    for rule in rules:
        failing = _failing(rule, Scope(targets=pks).narrow(rule, judged(rule, day, months)), day, params[rule.id], None)
        out[rule.id] = sorted((r.target_pk, str(r.key), r.severity, repr(r.measured), repr(r.required), r.message,
                               r.sub_district_id) for r in failing.values())
    return out


def test_every_rule_judging_a_community_watches_what_decides_whether_it_is_judged():
    rules = _watching_rules()
    assert len(rules) >= 20
    for rule, fields in rules:
        assert set(JUDGED_COLUMNS) <= fields, (rule.id, set(JUDGED_COLUMNS) - fields)


def test_a_column_a_rule_does_not_watch_changes_nothing_it_finds(demo):
    communities = demo
    pks = [c.pk for c in communities]
    rules = _watching_rules()
    fields = [f for f in Community._meta.concrete_fields if not f.primary_key]
    wrong: list[str] = []
    compared = 0
    for day in DAYS:
        before = _found([r for r, _ in rules], pks, day)
        assert sum(map(len, before.values())) > 50  # the demo fails plenty: the comparison has something to see
        for field in fields:
            blind = [rule for rule, watched in rules if field.attname not in watched]
            if not blind:
                continue
            for label, variant in _variants(field):
                with transaction.atomic():
                    changed = []
                    for c in communities:
                        new = variant(getattr(c, field.attname))
                        if new != getattr(c, field.attname):
                            row = Community(pk=c.pk)
                            setattr(row, field.attname, new)
                            changed.append(row)
                    Community.objects.bulk_update(changed, [field.name])
                    after = _found(blind, pks, day)
                    transaction.set_rollback(True)
                for rule in blind:
                    compared += 1
                    if after[rule.id] != before[rule.id]:
                        diff = sorted(set(after[rule.id]) ^ set(before[rule.id]))[:2]
                        wrong.append(f"{rule.id} 不监视 {field.attname}，但 {field.attname} {label}（{day}）改变了结果：{diff}")
    assert compared > 300
    assert not wrong, "\n".join(wrong)
