"""The demo world built once per test session (issue 16): ``load_demo`` runs once inside a transaction that
is rolled back, the rows it wrote are kept in memory, and a module or test that needs the demo gets them
back by one INSERT per table inside its own transaction (rolled back after it), in a second or two instead
of the minute the services take. The rows are exactly what ``load_demo`` left in the database at that point,
ids included, so a test sees what it saw when it loaded the demo itself.

The rows that were there before ``load_demo`` (content types, permissions, what migrations wrote) are kept too.
A transactional test's flush (pytest-xdist sends modules to workers in any order) empties the database and
``post_migrate`` writes the content types and permissions again under new ids, and the migrations' rows are not
written again at all: the demo's guardian rows and group permissions would then point at ids that mean nothing
or something else. So ``restore`` first compares the database with what it was at capture; when it differs it
empties every table and puts back the whole captured state, base and demo, and drops the content-type cache.
When the caller's transaction rolls back, the content types are those of the flush again while Django's
in-process cache still holds the captured ids: from then on this process drops that cache before every module
and every test (``REPLACED``, read by tests/conftest.py), or guardian would look up permissions by ids that are
gone.

Under pytest-xdist one worker captures and the others read its capture from the run's shared temporary folder
(tests/conftest.py); such a reader's id sequences are then moved past the demo's ids at its first restore.

On PostgreSQL the rows travel as JSON (``row_to_json`` / ``json_populate_recordset``), which keeps every
column type as it is; on SQLite they are plain tuples. Foreign keys are deferred to the commit on both, so
tables go back in any order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.db import connection, transaction

# Set once a restore in this process had to put the whole captured state back (see the module's docstring).
REPLACED = False


@dataclass
class DemoRows:
    output: str
    rows: dict[str, tuple[list[str], list[Any]]]  # table → (columns, rows load_demo added)
    base: dict[str, tuple[list[str], list[Any]]]  # table → (columns, rows there before load_demo)
    # Read from another pytest-xdist worker's capture (tests/conftest.py): this process's sequences never
    # passed the demo's ids, and are moved past them at the first restore.
    sequences_behind: bool = False


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def _read(table: str) -> tuple[list[str], list[Any]]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT row_to_json(t)::text FROM {quote(table)} t")
            return [], [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT * FROM {quote(table)}")
        return [c[0] for c in cursor.description], cursor.fetchall()


def capture(build: Callable[[StringIO], None]) -> DemoRows:
    """Run ``build`` in a transaction that is rolled back; keep the rows it added."""
    forget_content_types()  # a session fixture: built before any module's own clean-up ran
    out = StringIO()
    added: dict[str, tuple[list[str], list[Any]]] = {}
    with transaction.atomic():
        base = _state()
        build(out)
        for table in _tables():
            columns, rows = _read(table)
            before = set(base.get(table, ([], []))[1])
            new = [row for row in rows if row not in before]
            if new:
                added[table] = (columns, new)
        transaction.set_rollback(True)
    return DemoRows(output=out.getvalue(), rows=added, base=base)


def _state() -> dict[str, tuple[list[str], list[Any]]]:
    """Every non-empty table's rows."""
    state = {}
    for table in _tables():
        columns, rows = _read(table)
        if rows:
            state[table] = (columns, rows)
    return state


def _same(state: dict[str, tuple[list[str], list[Any]]], other: dict[str, tuple[list[str], list[Any]]]) -> bool:
    return state.keys() == other.keys() and all(set(state[t][1]) == set(other[t][1]) for t in state)


def _empty_every_table() -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement; the security log's TRUNCATE guard is off in the test database (tests/conftest.py).
            cursor.execute("TRUNCATE " + ", ".join(quote(t) for t in _tables()))
        else:
            for table in _tables():
                cursor.execute(f"DELETE FROM {quote(table)}")


def forget_content_types() -> None:
    """Drop Django's content-type cache once a replacing restore may have left captured ids in it."""
    from django.contrib.contenttypes.models import ContentType

    if REPLACED:
        ContentType.objects.clear_cache()


def restore(demo: DemoRows) -> None:
    """Put the demo back inside the caller's transaction."""
    forget_content_types()
    if _same(_state(), demo.base):
        _insert(demo.rows)
    else:
        from django.contrib.contenttypes.models import ContentType

        global REPLACED
        REPLACED = True
        _empty_every_table()
        _insert(demo.base)
        _insert(demo.rows)
        ContentType.objects.clear_cache()
    if demo.sequences_behind:
        _advance_sequences({*demo.base, *demo.rows})
        demo.sequences_behind = False


def _advance_sequences(tables: set[str]) -> None:
    """Move the id sequences of these tables past their rows (as loaddata does), once per process: a sequence
    is not rolled back with the caller's transaction, and rows a test adds later must not take a demo row's id."""
    from django.apps import apps
    from django.core.management.color import no_style

    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in tables]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


def _insert(tables: dict[str, tuple[list[str], list[Any]]]) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, (columns, rows) in tables.items():
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"INSERT INTO {quote(table)} SELECT * FROM json_populate_recordset(NULL::{quote(table)}, %s)",
                    ["[" + ",".join(rows) + "]"])
            else:
                marks = ", ".join(["%s"] * len(columns))
                names = ", ".join(quote(c) for c in columns)
                cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)


def load_whole_demo(out: StringIO) -> None:
    call_command("load_demo", stdout=out)


def load_structure(out: StringIO) -> None:
    call_command("load_demo", "--structure-only", stdout=out)
