"""Hypothesis fills every form with generated input and posts it through the client.

Whatever arrives — valid values, near misses, junk, missing fields, other
records' ids — the answer is never a 500 and no row that fails ``full_clean()``
is left in the database. Each example runs in a savepoint that is rolled back,
so the world of records stays the same for the next.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.permission_world import world_records
from tests.test_permission_matrix import _resolve_case

EXAMPLES = 25

# (form view, who posts, page whose context holds the form when the view itself takes POST only)
FORM_CASES = [
    ("communities:community_create", "clerk_own", None),
    ("communities:community_edit", "clerk_own", None),
    ("communities:community_revoke", "clerk_own", None),
    ("communities:adjustment_create", "clerk_own", None),
    ("communities:compound_create", "clerk_own", None),
    ("communities:compound_edit", "clerk_own", None),
    ("facilities:facility_create", "clerk_own", None),
    ("facilities:facility_edit", "clerk_own", None),
    ("facilities:facility_advance", "admin", "facilities:facility_detail"),
    ("funding:allocation_entry", "reviewer", None),
    ("funding:salary_entry", "reviewer", None),
    ("funding:task_fund_entry", "reviewer", None),
    ("staffing:worker_create", "clerk_own", None),
    ("staffing:employment_edit", "clerk_own", None),
    ("staffing:seat_create", "clerk_own", None),
    ("staffing:seat_end", "clerk_own", None),
    ("staffing:vacancy_fill", "clerk_own", None),
    ("staffing:training_create", "clerk_own", None),
    ("staffing:assessment_year", "clerk_own", None),
    ("staffing:exit_start", "clerk_own", None),
    ("staffing:exit_advance", "clerk_own", None),
    ("staffing:care_create", "clerk_own", "staffing:person_detail"),
    ("approvals:request_new", "clerk_own", None),
    ("approvals:request_merge", "clerk_own", None),
    ("approvals:request_split", "clerk_own", None),
    ("approvals:request_act", "reviewer", "approvals:request_detail"),
    ("compliance:finding_waive", "reviewer", "compliance:finding_detail"),
    ("compliance:finding_supervise", "reviewer", "compliance:finding_detail"),
    ("compliance:parameter_set", "reviewer", "compliance:rule_catalogue"),
]

CHECKED_APPS = ("communities", "facilities", "funding", "staffing", "approvals", "compliance")
# Written by the rules engine only, never from a form (its JSON bookkeeping starts as empty lists).
NOT_FROM_FORMS = {"Sweep"}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    yield from world_records(django_db_blocker, tmp_path_factory)


def _forms_in(value, depth=0):
    if isinstance(value, forms.BaseForm):
        yield value
    elif isinstance(value, forms.BaseFormSet):
        yield value.management_form
        yield from value.forms
    elif depth < 2 and isinstance(value, list | tuple):
        for item in value:
            yield from _forms_in(item, depth + 1)
    elif depth < 2 and isinstance(value, dict):
        for item in value.values():
            yield from _forms_in(item, depth + 1)


def _as_post(field: forms.Field, value):
    """A form's current value as a browser would post it."""
    if value is None:
        return None
    if isinstance(field, forms.BooleanField):
        return "on" if value else ""
    if isinstance(value, list | tuple):
        return [str(getattr(v, "pk", v)) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(getattr(value, "pk", value))


def _fields(response) -> dict[str, tuple[forms.Field, object]]:
    """Every field of every form on the page, with the value it shows (an edit form shows a valid record)."""
    found: dict[str, tuple[forms.Field, object]] = {}
    context = response.context
    if context is None:
        return found
    for key in context.keys():  # noqa: SIM118 (iterating a ContextList yields contexts, not names)
        for form in _forms_in(context[key]):
            for name, field in form.fields.items():
                found.setdefault(form.add_prefix(name), (field, _as_post(field, form[name].value())))
    return found


# Create forms start from a valid record too: the edit form's values with a fresh code.
SEED_FROM = {
    "communities:community_create": ("communities:community_edit", {"code": "610104001077", "name": "青年路新社区居委会"}),
    "communities:compound_create": ("communities:compound_edit", {"code": "XQ-77", "name": "新院"}),
    "facilities:facility_create": ("facilities:facility_edit", {"code": "SS-177", "name": "新服务站"}),
}


JUNK = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "0", "-1", "1e309", "NaN", "9" * 30, "2024-02-30", "<script>x</script>",
                     "=1+1", "610104001001", "'; DROP TABLE x; --", "\u202e", "１２３"]),
)


def _choices(field) -> list[str]:
    values = []
    for value, label in getattr(field, "choices", []):
        if isinstance(label, list | tuple):  # optgroups
            values += [str(v) for v, _ in label]
        else:
            values.append(str(getattr(value, "value", value)))
    return [v for v in values if v != ""] or [""]


def _strategy(field: forms.Field):
    if isinstance(field, forms.FileField):
        return st.none()
    if isinstance(field, forms.BooleanField):
        return st.sampled_from(["on", "", "false", "true"])
    if isinstance(field, forms.ModelMultipleChoiceField | forms.MultipleChoiceField):
        return st.lists(st.one_of(st.sampled_from(_choices(field)), JUNK), max_size=3)
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
        return st.one_of(st.sampled_from(_choices(field)), JUNK)
    if isinstance(field, forms.IntegerField):
        return st.one_of(st.integers(-(10**12), 10**12).map(str), st.integers(0, 20000).map(str), JUNK)
    if isinstance(field, forms.DecimalField | forms.FloatField):
        return st.one_of(
            st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e12"), allow_nan=False, places=3).map(str),
            JUNK,
        )
    if isinstance(field, forms.DateField):
        return st.one_of(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat), JUNK)
    return st.one_of(JUNK, st.from_regex(r"\A6101040\d{5}\Z"), st.text(alphabet="莲湖社区街道小区院落甲乙", min_size=1, max_size=12))


def _post_data(draw, fields: dict[str, tuple[forms.Field, object]]) -> dict:
    """Mostly the valid values the page showed, with some fields replaced, emptied or left out."""
    data = {}
    for name, (field, shown) in sorted(fields.items()):
        roll = draw(st.integers(0, 9))
        if roll == 0:
            continue  # sometimes a field is missing altogether
        value = shown if (roll >= 4 and shown not in (None, "")) else draw(_strategy(field))
        if value is not None:
            data[name] = value
    return data


def _checked_models():
    if not _MODELS:
        for label in CHECKED_APPS:
            for model in apps.get_app_config(label).get_models():
                if not model.__name__.startswith("Historical") and model.__name__ not in NOT_FROM_FORMS:
                    _MODELS[model._meta.db_table] = model
    return _MODELS.values()


_MODELS: dict = {}


def _problems(objs) -> list[str]:
    bad = []
    for obj in objs:
        try:
            obj.full_clean()
        except ValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else error.messages
            bad.append(f"{type(obj).__name__} {obj.pk}: {detail}")
    return bad


def _invalid_rows() -> list[str]:
    return _problems(obj for model in _checked_models() for obj in model.objects.all())


class _Saved:
    """Rows a request wrote: the instances post_save names, and every row of a table written without one
    (bulk_create and update() send no signal)."""

    def __enter__(self):
        _checked_models()
        self.touched: set = set()
        self.tables: set = set()
        _RECORDER.append(self)
        self._wrapper = connection.execute_wrapper(self._sql)
        self._wrapper.__enter__()
        return self

    def _sql(self, execute, sql, params, many, context):
        head = sql.lstrip()[:7].upper()
        if head.startswith(("INSERT", "UPDATE")):
            words = sql.replace('"', " ").replace("`", " ").split()
            if len(words) > 2:
                self.tables.add(words[2] if head.startswith("INSERT") else words[1])
        return execute(sql, params, many, context)

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)
        _RECORDER.remove(self)

    def invalid(self) -> list[str]:
        objs = []
        signalled = {model for model, _ in self.touched}
        for table in self.tables:
            model = _MODELS.get(table)
            if model is not None and model not in signalled:
                objs += model.objects.all()
        for model in signalled:
            objs += model.objects.filter(pk__in=[pk for m, pk in self.touched if m is model])
        return _problems(objs)


_RECORDER: list[_Saved] = []


def _on_save(sender, instance, **kwargs):
    for saved in _RECORDER:
        if sender._meta.db_table in _MODELS:
            saved.touched.add((sender, instance.pk))


post_save.connect(_on_save, dispatch_uid="fuzz_forms_saved", weak=False)


_FIELDS: dict[str, dict[str, tuple[forms.Field, object]]] = {}
_CLIENTS: dict[str, Client] = {}


def _client(case, user) -> Client:
    # One login per form: the session lives in the test's transaction, outside each example's savepoint.
    if case not in _CLIENTS:
        _CLIENTS[case] = Client(raise_request_exception=False)
        _CLIENTS[case].force_login(user)
    return _CLIENTS[case]


def _form_fields(case, role, source, world, client) -> dict[str, tuple[forms.Field, object]]:
    if case not in _FIELDS:
        response = client.get(_resolve_case(source or case, world))
        assert response.status_code == 200, f"{source or case} answered {response.status_code} to {role}"
        _FIELDS[case] = _fields(response)
        assert _FIELDS[case], f"no form found on {source or case}"
        if case in SEED_FROM:
            seed_case, fresh = SEED_FROM[case]
            seed = _fields(client.get(_resolve_case(seed_case, world)))
            for name, (field, shown) in list(_FIELDS[case].items()):
                value = fresh.get(name, seed.get(name, (None, shown))[1])
                _FIELDS[case][name] = (field, value)
    return _FIELDS[case]


@pytest.mark.django_db
def test_the_world_itself_is_valid(world):
    assert _invalid_rows() == []


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "role", "source"), FORM_CASES, ids=[c[0] for c in FORM_CASES])
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_generated_input_never_fails_or_saves_an_invalid_row(case, role, source, world, data):
    client = _client(case, world.users[role])
    fields = _form_fields(case, role, source, world, client)
    post = _post_data(data.draw, fields)
    url = _resolve_case(case, world)
    sid = transaction.savepoint()
    try:
        with _Saved() as saved:
            response = client.post(url, post)
        assert response.status_code < 500, f"{case} answered {response.status_code} to {post!r}"
        bad = saved.invalid()
        if os.environ.get("LIANHU_FUZZ_STATS"):
            print(f"\nFUZZ {case} {response.status_code}")
        assert not bad, f"{case} saved invalid rows from {post!r}: {bad}"
    finally:
        transaction.savepoint_rollback(sid)
