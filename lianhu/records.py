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
