"""The two steps every app's services take when they write a history-tracked record.

django-simple-history reads who and why from attributes on the instance; the
services of communities, facilities, staffing and funding all set them the
same way, so they share these rather than keeping a copy each.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# The workbook import checks duplicate keys in the file and existing keys itself, and the database's own
# constraints still refuse a bad row inside its transaction; repeating each constraint and unique check as
# a query per row was most of the import's time.
_skip_db_checks: ContextVar[bool] = ContextVar("skip_db_checks", default=False)


@contextmanager
def without_db_checks() -> Iterator[None]:
    """Inside: save_clean runs clean() and the field checks, not one query per constraint and unique field."""
    token = _skip_db_checks.set(True)
    try:
        yield
    finally:
        _skip_db_checks.reset(token)


def apply_changes(obj: Any, fields: dict[str, Any]) -> list[str]:
    """Set the fields whose value differs; the names changed, in the order given (empty: nothing to save)."""
    changed = []
    for name, value in fields.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def set_history(obj: Any, user: Any, reason: str | None = None) -> None:
    """Name the user and the reason on the history row the next save() writes."""
    if user is not None and getattr(user, "is_authenticated", False):
        obj._history_user = user
    if reason:
        obj._change_reason = reason


def save_clean(obj: Any, user: Any, reason: str | None = None) -> Any:
    """Validate (the model's coded messages), name who and why, and save: a service's write of one record."""
    if _skip_db_checks.get():
        obj.full_clean(validate_unique=False, validate_constraints=False)
    else:
        obj.full_clean()
    set_history(obj, user, reason)
    obj.save()
    return obj


BULK_BATCH = 2_000  # rows per INSERT/UPDATE statement: large enough to amortize, small enough for SQLite's limits


def bulk_insert(model: Any, objs: list[Any], *, user: Any = None, reason: str | None = None) -> list[Any]:
    """Insert already-validated rows and their history ("+") in batches; the objects get their pks.

    For writers of many rows at once (the workbook import). No save signals are sent: the caller tells the
    rules what changed (``compliance.onsave.rows_written``)."""
    if not objs:
        return objs
    model.objects.bulk_create(objs, batch_size=BULK_BATCH)
    _bulk_history(model, objs, user, reason, update=False)
    return objs


def bulk_update(model: Any, objs: list[Any], fields: list[str], *, user: Any = None,
                reason: str | None = None) -> None:
    """Write ``fields`` of already-validated rows and their history ("~").

    On PostgreSQL one ``UPDATE … FROM unnest(arrays)`` per batch: Django's bulk_update builds a CASE over every
    row for every field, which grows with the square of the batch."""
    if not objs:
        return
    update_rows(model, objs, fields)
    _bulk_history(model, objs, user, reason, update=True)


def update_rows(model: Any, objs: list[Any], fields: list[str]) -> None:
    """Write ``fields`` of many rows (no history, no signals). On PostgreSQL one ``UPDATE … FROM unnest(arrays)``
    per batch; elsewhere Django's bulk_update."""
    from django.db import connection

    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=BULK_BATCH // 4)
        return

    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    # Array types from the columns' own types, so dates, booleans and integers arrive as themselves.
    casts = [f"%s::{pk.db_type(connection)}[]"] + [f"%s::{f.db_type(connection)}[]" for f in columns]
    names = ["pk"] + [f"c{i}" for i in range(len(columns))]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = v.c{i}" for i, f in enumerate(columns))
    sql = (f"UPDATE {connection.ops.quote_name(meta.db_table)} AS t SET {assignments} "
           f"FROM unnest({', '.join(casts)}) AS v({', '.join(names)}) "
           f"WHERE t.{connection.ops.quote_name(pk.column)} = v.pk")
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BULK_BATCH):
            batch = objs[start:start + BULK_BATCH]
            params = [[o.pk for o in batch]] + [
                [f.get_db_prep_save(getattr(o, f.attname), connection) for o in batch] for f in columns]
            cursor.execute(sql, params)


def _bulk_history(model: Any, objs: list[Any], user: Any, reason: str | None, *, update: bool) -> None:
    manager = getattr(model, "history", None)
    if manager is None:
        return
    acting = user if user is not None and getattr(user, "is_authenticated", False) else None
    manager.bulk_history_create(objs, batch_size=BULK_BATCH, update=update, default_user=acting,
                                default_change_reason=reason or "")
