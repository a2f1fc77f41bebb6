"""The two steps every app's services take when they write a history-tracked record, and the bulk
writers (COPY on PostgreSQL) for many rows at once.

django-simple-history reads who and why from attributes on the instance; the
services of communities, facilities, staffing and funding all set them the
same way, so they share these rather than keeping a copy each.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Iterator
from typing import Any


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
    """Validate (the model's coded messages), name who and why, and save: a service's write of one record.
    Nothing re-judges it by itself: the service then names the row to the rules
    (``compliance.rejudge.rejudge_on_commit``), as for a bulk write."""
    obj.full_clean()
    set_history(obj, user, reason)
    obj.save()
    return obj


def clean_new(obj: Any, *, given: Iterable[str] = ()) -> Any:
    """A bulk writer's check of a new row: the field checks and clean() that save_clean runs, without the
    queries the database answers itself at the insert (unique fields, constraints). ``given``: foreign keys
    set to rows the caller read from the database, or writes in the same batch (their pk comes then), so
    they need no look-up of their own."""
    obj.full_clean(exclude=list(given), validate_unique=False, validate_constraints=False)
    return obj


def concrete_attnames(model: Any) -> list[str]:
    """Every column of ``model`` by attname, in the order ``loaded`` reads them."""
    return [f.attname for f in model._meta.concrete_fields]


def loaded(model: Any, rows: Iterable[tuple], columns: list[str] | None = None) -> Iterator[Any]:
    """Saved instances of ``model`` from rows of every column (``concrete_attnames``: a ``values_list`` of them,
    whose converters have run), as the queryset would give them but without Model.__init__'s per-field work:
    for the readers that load tens of thousands (a sweep's live findings, the 社区 a 人员 file names)."""
    from django.db import DEFAULT_DB_ALIAS
    from django.db.models.base import ModelState

    new = object.__new__
    columns = columns or concrete_attnames(model)
    for values in rows:
        obj = new(model)
        fields = obj.__dict__
        fields.update(zip(columns, values, strict=True))
        fields["_state"] = state = ModelState()
        state.adding, state.db = False, DEFAULT_DB_ALIAS
        yield obj


def among(queryset: Any, field: str, values: Iterable[Any]) -> Any:
    """``queryset.filter(<field>__in=values)`` for the many keys a bulk writer looks up (a file's codes, ID
    digests): on PostgreSQL one array (``= ANY(%s::text[])``) instead of one placeholder per value, which
    Django prepares one by one and psycopg's client-side binding then splits out of the query text again
    (about 0.1 s for 10,000 codes, as much as reading the rows). The array goes as the text of its constant,
    not as a list parameter, which psycopg quotes element by element in Python (20,000 digests: 0.22-0.27 s
    against 0.15-0.17 s for the whole query)."""
    from django.db import connection

    values = list(values)
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{field}__in": values})
    meta = queryset.model._meta
    target = meta.get_field(field)
    quote = connection.ops.quote_name
    column = f"{quote(meta.db_table)}.{quote(target.column)}"
    kind = target.target_field.get_internal_type() if target.is_relation else target.get_internal_type()
    if kind in _INTEGER_FIELDS:
        return queryset.extra(where=[f"{column} = ANY(%s::bigint[])"], params=[int_array(values)])
    if kind in ("CharField", "TextField") and all(v.__class__ is str for v in values):
        # Not ::varchar(n)[]: an explicit cast to varchar(n) cuts a longer key short, and it could then match.
        return queryset.extra(where=[f"{column} = ANY(%s::text[])"], params=[text_array(values)])
    return queryset.extra(where=[f"{column} = ANY(%s)"], params=[values])


_INTEGER_FIELDS = frozenset({"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
                             "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
                             "PositiveSmallIntegerField"})


def int_array(values: Iterable[int]) -> str:
    """The text of a ``bigint[]`` constant (``{1,2,3}``), cast by the SQL (``%s::bigint[]``). Not a list parameter:
    psycopg quotes a list element by element in Python, about 0.5 µs an id (50,000 ids: 26 ms against 5 ms for this
    text), and a first sweep passes a few ids per finding it writes. ``int()`` of each value: nothing but digits and
    minus signs reaches the text."""
    return "{" + ",".join(map(str, map(int, values))) + "}"


def text_array(values: Iterable[str]) -> str:
    """The text of a ``text[]`` constant: every element double-quoted, its backslashes and quotes escaped, so a
    cell's commas, braces, spaces or the word NULL stay part of the string."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


BULK_BATCH = 2_000  # rows per INSERT/UPDATE statement: large enough to amortize, small enough for SQLite's limits


def bulk_insert(model: Any, objs: list[Any], *, user: Any = None, reason: str | None = None) -> list[Any]:
    """Insert already-validated rows and their history ("+") in batches; the objects get their pks.

    For writers of many rows at once (the workbook import). No save signals are sent: the caller tells the
    rules what changed (``compliance.rejudge.rejudge_on_commit``)."""
    if not objs:
        return objs
    insert_rows(model, objs)
    _bulk_history(model, objs, user, reason, update=False)
    return objs


def insert_rows(model: Any, objs: list[Any], *, related: bool = True) -> list[Any]:
    """Insert many new rows (no history, no signals); the objects get their pks, as with bulk_create.

    On PostgreSQL by COPY, with the pks drawn from the table's sequence first: bulk_create spends about
    0.25 ms a row compiling and adapting its INSERT (measured on findings), COPY a small part of that.
    ``related=False``: the caller set every foreign key by id, none to an unsaved object (skips a per-row
    walk over the fields)."""
    from django.db import DEFAULT_DB_ALIAS, connections

    # The connection itself, not django.db.connection's proxy: the getters below read it per value.
    connection = connections[DEFAULT_DB_ALIAS]
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=BULK_BATCH)
        return objs
    meta = model._meta
    pk = meta.pk
    fields = list(meta.concrete_fields)
    quote = connection.ops.quote_name
    if related:
        _take_related_pks(meta, objs)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        missing = [obj for obj in objs if obj.pk is None]
        if missing:
            # One array, not a row per id: a first sweep's chunk draws 100,000 ids, and reading them as rows
            # took a twentieth of its Python time. Each nextval is atomic: chunks in parallel draw apart.
            cursor.execute("SELECT array_agg(nextval(pg_get_serial_sequence(%s, %s))) FROM generate_series(1, %s)",
                           [meta.db_table, pk.column, len(missing)])
            for obj, value in zip(missing, cursor.fetchone()[0], strict=True):
                obj.pk = value
        columns = ", ".join(quote(f.column) for f in fields)
        getters = [_copy_getter(f, connection, objs) for f in fields]
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([get(obj) for get in getters])
    alias = connection.alias
    for obj in objs:
        state = obj._state
        state.adding = False
        state.db = alias
    return objs


def _take_related_pks(meta: Any, objs: list[Any]) -> None:
    """bulk_create's _prepare_related_fields_for_save, step for step for foreign keys: an unsaved related object
    is refused; a saved one lends its key to an empty column (a person inserted just before their jobs); a
    cached object whose key no longer matches the column is dropped from the cache. Without Django's walk over
    every field and descriptor per row (a tenth of a bulk insert's Python time)."""
    if meta.private_fields:  # generic relations: Django's own check
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
        return
    relations = [(f.name, f.attname, f.target_field.attname) for f in meta.concrete_fields if f.is_relation]
    for obj in objs:
        cache = obj._state.fields_cache
        if not cache:
            continue
        fields = obj.__dict__
        for name, attname, target in relations:
            related = cache.get(name)
            if related is None:
                continue
            if related.pk is None:
                raise ValueError(f"bulk_create() prohibited to prevent data loss due to unsaved related object "
                                 f"'{name}'.")
            value = fields.get(attname)
            if value is None or value == "":
                value = fields[attname] = getattr(related, target)
            if getattr(related, target) != value:
                del cache[name]


def _copy_getter(field: Any, connection: Any, objs: list[Any]) -> Any:
    """How COPY reads a field's value: straight from the instance where psycopg adapts the Python value as
    Django would (text, numbers, booleans, dates, keys), through Django's own preparation otherwise (JSON,
    auto_now dates and anything unusual). Half of a bulk insert's time went to preparing plain values."""
    from django.db import models

    bulk = getattr(field, "copy_getter", None)
    if bulk is not None:  # a field that knows a cheaper way for many rows (ID numbers: one cipher, one key)
        return bulk(connection, objs)
    plain = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.DateField,
             models.ForeignKey, models.AutoField, models.BigAutoField)
    special = (models.JSONField, models.FileField, models.DecimalField)
    auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    if isinstance(field, plain) and not isinstance(field, special) and not auto:
        return operator.attrgetter(field.attname)
    if isinstance(field, models.JSONField) and field.encoder is None:
        return _json_getter(field.attname)
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)


_SCALARS = frozenset({str, int, float, bool})


def _json_getter(attname: str) -> Any:
    """A JSON column as the text COPY reads into jsonb, what Django's own adaptation sends (``json.dumps``; None
    is SQL NULL), with the text of each scalar kept: a sweep's measured and required values repeat (0, "3~5")
    across a hundred thousand findings, and Django's way builds a Jsonb wrapper and dumps each one anew."""
    get = operator.attrgetter(attname)
    seen: dict[tuple[type, Any], str] = {}

    def value(obj: Any) -> str | None:
        data = get(obj)
        if data is None:
            return None
        kind = type(data)
        if kind not in _SCALARS:
            return json.dumps(data)
        key = (kind, data)  # the type too: 1, 1.0 and True are equal keys but different JSON
        text = seen.get(key)
        if text is None:
            text = json.dumps(data)
            if len(seen) < 10_000:  # texts that differ per row (a sum of money in words) are not kept
                seen[key] = text
        return text

    return value


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
    """The history rows simple-history's bulk_history_create would write, as plain values (no instances)."""
    from django.conf import settings
    from django.utils import timezone

    manager = getattr(model, "history", None)
    if manager is None or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    historical = manager.model
    acting = user if user is not None and getattr(user, "is_authenticated", False) else None
    now = timezone.now()
    tracked = [f.attname for f in historical.tracked_fields]
    values = operator.attrgetter(*tracked)
    kind = "~" if update else "+"

    def row(obj: Any) -> tuple:
        who = getattr(obj, "_history_user", acting)
        return (*values(obj), getattr(obj, "_history_date", now), who.pk if who is not None else None,
                getattr(obj, "_change_reason", None) or reason or None, kind)  # NULL without one, as a save writes

    insert_values(historical, [*tracked, "history_date", "history_user_id", "history_change_reason", "history_type"],
                  (row(obj) for obj in objs))


def insert_values(model: Any, attnames: list[str], rows: Iterable[tuple]) -> None:
    """Insert rows given as plain values for these columns (attnames; the pk, if left out, from its default),
    with no model instances: what a bulk write needs for rows nobody reads back (history, rights).
    On PostgreSQL by COPY; elsewhere through bulk_create."""
    from django.db import connection

    meta = model._meta
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(attnames, values, strict=True))) for values in rows],
                                  batch_size=BULK_BATCH)
        return
    fields = {f.attname: f for f in meta.concrete_fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(fields[name].column) for name in attnames)
    with connection.cursor() as cursor, connection.wrap_database_errors, \
            cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
        for values in rows:
            copy.write_row(values)
