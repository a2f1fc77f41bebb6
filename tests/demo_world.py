"""The demo world built once per test session (issue 16): ``load_demo`` runs once inside a transaction that
is rolled back, the rows it wrote are kept in memory, and a module or test that needs the demo gets them
back by one INSERT per table inside its own transaction (rolled back after it), in a second or two instead
of the minute the services take. The rows are exactly what ``load_demo`` left in the database at that point,
ids included, so a test sees what it saw when it loaded the demo itself.

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


@dataclass
class DemoRows:
    output: str
    rows: dict[str, tuple[list[str], list[Any]]]  # table → (columns, rows load_demo added)


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
    out = StringIO()
    added: dict[str, tuple[list[str], list[Any]]] = {}
    with transaction.atomic():
        before = {table: set(_read(table)[1]) for table in _tables()}
        build(out)
        for table in _tables():
            columns, rows = _read(table)
            new = [row for row in rows if row not in before.get(table, set())]
            if new:
                added[table] = (columns, new)
        transaction.set_rollback(True)
    return DemoRows(output=out.getvalue(), rows=added)


def restore(demo: DemoRows) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, (columns, rows) in demo.rows.items():
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
