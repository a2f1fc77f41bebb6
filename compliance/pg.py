"""What the engine does differently on PostgreSQL, in one place: the ``= ANY(array)`` lookup, JIT off for
sweeps, and ANALYZE of the findings between chunks. Elsewhere (SQLite) each is a plain IN list or nothing.

Every figure quoted here was measured on the sweep benchmarks (bench/run.py, docs in the README).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.models import Field, Lookup

from core.records import int_array

# Keeps IN lists under every backend's parameter limit (SQLite: 32766).
IN_CHUNK = 5000


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


@Field.register_lookup
class InArray(Lookup):
    """``column__in_array=[1, 2, 3]``: on PostgreSQL ``column = ANY(%s::bigint[])``, the list sent as one
    constant array, which PostgreSQL (14+) tests by hashing it once.

    ``IN (SELECT unnest(array))`` was a join the planner sized from statistics that a first sweep's own writes
    leave stale: it picked a nested loop over both lists (81 s against 24 ms for 12,000 targets, measured).
    Django's psycopg cursors bind client-side, so the array reaches the server as a constant. Other backends
    get a plain ``IN`` list (callers keep those lists short: ``in_array`` below)."""

    lookup_name = "in_array"
    prepare_rhs = False  # the list is one parameter, not a value of the column

    def get_db_prep_lookup(self, value, connection):
        return "%s", [int_array(value)]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs}::bigint[])", [*lhs_params, *rhs_params]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [int(v) for v in self.rhs]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


def in_array(qs, column: str, values: list[int], *, always: bool = False) -> Iterator:
    """Rows of ``qs`` whose ``column`` is in ``values``: on PostgreSQL one query (``InArray``); elsewhere IN
    lists of at most ``IN_CHUNK``. ``always``: on PostgreSQL query even for no values, so a sweep chunk's
    queries do not depend on its data."""
    if not values and not (always and is_postgresql()):
        return
    if is_postgresql():
        yield from qs.filter(**{f"{column}__in_array": values})
        return
    for i in range(0, len(values), IN_CHUNK):
        yield from qs.filter(**{f"{column}__in": values[i:i + IN_CHUNK]})


@contextmanager
def no_jit(on: bool = True) -> Iterator[None]:
    """PostgreSQL's JIT compiles each sweep query for seconds (the plans' costs are large, the work per row
    small): measured 2.0 of 5.9 s on a chunk of M12.worker_training. Off for the sweep's own queries."""
    if not on or not is_postgresql():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        if connection.connection is not None and not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("RESET jit")


@contextmanager
def planner(settings: dict[str, str]) -> Iterator[None]:
    """PostgreSQL planner settings (``enable_hashjoin`` …) for the statements inside, reset after."""
    if not settings or not is_postgresql():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("; ".join(f"SET {name} = {value}" for name, value in settings.items()))
    try:
        yield
    finally:
        if connection.connection is not None and not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("; ".join(f"RESET {name}" for name in settings))


def analyze_if_stale(table: str) -> None:
    """ANALYZE ``table`` when much of it changed since the last statistics (a first sweep writes hundreds of
    thousands of findings between autovacuum runs): with a table believed empty, PostgreSQL joins a chunk's
    failing targets to the findings by a nested loop over both lists (54 s instead of 0.1 s)."""
    if not is_postgresql():
        return
    # One statement whether or not it analyzes, so a chunk's queries do not depend on the data.
    with connection.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            f"WHERE s.relname = '{table}' AND s.n_mod_since_analyze > 0.2 * GREATEST(c.reltuples, 0) + 1000) "
            f"THEN ANALYZE {connection.ops.quote_name(table)}; END IF; END $$"
        )
