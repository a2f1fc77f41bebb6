"""Who changed what, when: a record's history rows (django-simple-history) as a page shows them, and the
message a save shows ("已保存：户数 1,000 → 1,180"), with values as a clerk would say them."""

from __future__ import annotations

from datetime import date
from functools import cache
from itertools import chain
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.db import models
from simple_history.models import HistoricalRecords

HISTORY_LIMIT = 50  # entries a page of a record's whole history shows (core.views.history_page)
RECORD_PAGE_HISTORY = 10  # the latest changes on the record's own page, with a link to the rest


class HistoryRows(list):
    """``history_rows``' entries; ``more``: older entries exist beyond them."""

    more = False


class RecordHistory(HistoricalRecords):
    """simple-history's records, with the history table indexed only where it is read: by record (``id``, a
    record page's history and the "as of D" look-ups) and by date (``history_date``, an import's preview check),
    plus the acting user's key. simple-history indexes every copied foreign key and unique field too (a 社区's
    街办 code, a person's 社区, a 小区's code, each with a LIKE copy for text): no query reads a history table by
    them, and every write of a record paid for each, five index entries per person and job an import creates.

    The acting user's key has no database constraint: PostgreSQL checked it at commit for every history row
    (about 4 µs each; an import of 100,000 people writes 200,000), always against the same few users the
    services name. History is written once and read by record; a deleted user's rows still turn to NULL through
    Django's SET_NULL, and a record page shows a user it cannot find as 系统."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("user_db_constraint", False)
        super().__init__(*args, **kwargs)

    def copy_fields(self, model: type[models.Model]) -> dict[str, models.Field]:
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:
                field.db_index = False
        return fields


def _display(model: type[models.Model], field_name: str, value: Any, names: dict | None = None) -> str:
    """A stored value as a clerk would say it: labels for choices, 是/否, YYYY-MM-DD."""
    if value is None or value == "":
        return "空"
    # History diffs name concrete fields only, never a reverse relation.
    field = cast(models.Field, model._meta.get_field(field_name))
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, models.Model):
        return str(value)
    if names is not None and field.is_relation:
        return names.get((field_name, str(value)), str(value))
    return str(value)


def _label(model: type[models.Model], field_name: str) -> str:
    return str(cast(models.Field, model._meta.get_field(field_name)).verbose_name)


def saved_message(model: type[models.Model], before: dict[str, Any], obj: models.Model, changed: list[str]) -> str:
    if not changed:
        return "没有修改任何内容。"
    parts = [
        f"{_label(model, name)} {_display(model, name, before[name])} → {_display(model, name, getattr(obj, name))}"
        for name in changed
    ]
    return "已保存：" + "；".join(parts)


def _foreign_names(model: type[models.Model], wanted: dict[str, set]) -> dict[tuple[str, str], str]:
    """Names for the foreign-key values the shown changes name, one query per related model: a record never
    changed (most of them) or changed in plain fields only asks for none."""
    names: dict[tuple[str, str], str] = {}
    for field_name, values in wanted.items():
        field = cast(models.ForeignKey, model._meta.get_field(field_name))
        values = values - {None}
        if not values:
            continue
        to_field = field.target_field.attname
        # related_model is only the string 'self' before the app registry resolves it.
        manager = field.related_model._default_manager  # type: ignore[union-attr]
        for obj in manager.filter(**{f"{to_field}__in": values}):
            names[(field.name, str(getattr(obj, to_field)))] = str(obj)
    return names


@cache
def _diffed_columns(history_model: type[models.Model]) -> tuple[tuple[str, str], ...]:
    """(name, attname) of the fields simple-history's ``diff_against`` compares, by name: the tracked, editable
    fields but many-to-many ones, as ``model_to_dict`` reads them (a foreign key by its key)."""
    m2m = {f.name for f in history_model._history_m2m_fields}  # type: ignore[attr-defined]
    names = {f.name for f in history_model.tracked_fields if f.editable} - m2m  # type: ignore[attr-defined]
    opts = history_model._meta
    return tuple(sorted((f.name, f.attname) for f in chain(opts.concrete_fields, opts.private_fields)
                        if getattr(f, "editable", False) and f.name in names))


def history_rows(obj: models.Model, limit: int = HISTORY_LIMIT, offset: int = 0) -> HistoryRows:
    """Who changed what, when: each history entry with its changed fields, old → new; the ``limit`` entries
    after the newest ``offset``, and whether older ones exist (``more``).

    The entries are read as plain rows (one query) and diffed pairwise here, field by field as simple-history's
    ``diff_against`` does (tests/core/test_history.py holds them equal): a record page showed 50 entries, and
    building each historical instance and two ``model_to_dict`` per pair took a third of the 社区 page's CPU.
    """
    model = type(obj)
    history = obj.history  # type: ignore[attr-defined]  # simple_history adds .history to every tracked model
    columns = _diffed_columns(history.model)
    attnames = [attname for _name, attname in columns]
    # The users in a query of their own, and only when an entry has one: most records were written by an import
    # or the demo and name none, and joining auth_user made this the costliest query of the record pages to
    # build (a historical row's columns and all of the user's, compiled on every page).
    # One entry past the last shown: what it changed from, and whether there is more.
    records = list(history.order_by("-history_date", "-history_id").values_list(
        "history_date", "history_type", "history_change_reason", "history_user_id", *attnames)[
        offset: offset + limit + 1])
    user_ids = {record[3] for record in records[:limit]} - {None}
    users = {user.pk: user for user in get_user_model()._default_manager.filter(pk__in=user_ids)
             .only("username", "first_name", "last_name")} if user_ids else {}
    deltas = []
    wanted: dict[str, set] = {}
    for i, record in enumerate(records[:limit]):
        older = records[i + 1] if i + 1 < len(records) else None
        changes = [] if older is None or record[1] != "~" else [
            (name, older[at], record[at]) for at, (name, _attname) in enumerate(columns, 4) if older[at] != record[at]]
        for name, old, new in changes:
            field = model._meta.get_field(name)
            # A concrete relation is always a ForeignKey (or OneToOneField); a 街办's clerk group is never shown.
            if isinstance(field, models.ForeignKey) and field.name != "clerk_group":
                wanted.setdefault(field.name, set()).update((old, new))
        deltas.append((record, changes))
    names = _foreign_names(model, wanted)
    rows = HistoryRows()
    rows.more = len(records) > limit
    for (when, kind, reason, user_id, *_values), changes in deltas:
        user = users.get(user_id)
        rows.append(
            {
                "when": when,
                "who": (user.get_full_name() or user.username) if user else "系统",
                "kind": {"+": "新建", "~": "修改", "-": "删除"}.get(kind, kind),
                "reason": reason or "",
                "changes": [{"label": _label(model, name), "old": _display(model, name, old, names),
                             "new": _display(model, name, new, names)} for name, old, new in changes],
            }
        )
    return rows
