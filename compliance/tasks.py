"""Celery tasks: thin wrappers that take ids and call compliance.services."""

from __future__ import annotations

import datetime as dt
import logging

from celery import chord, shared_task
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import services

logger = logging.getLogger(__name__)


# ignore_result: nobody waits for it, so queueing it never touches the result backend (a request that starts a
# sweep while Redis is down then fails at once with the broker's error, not after the backend's retries).
@shared_task(name="compliance.nightly_sweep", ignore_result=True)
def nightly_sweep(as_of: str | None = None, chunks: int | None = None,
                  triggered_by: str = "定时任务", rule_ids: list[str] | None = None,
                  requested_by: dict | None = None) -> int | None:
    """Start a sweep (of every rule, or of ``rule_ids``), fan its community ranges out as a group, finish in
    the chord's body. ``requested_by`` ({"user_id", "ip"}): who queued it from a page, for the security log."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    try:
        sweep = services.sweep_start(as_of=day, rule_ids=rule_ids, triggered_by=triggered_by)
    except ValidationError as exc:
        logger.warning("巡检未启动：%s", exc.messages[0])
        return None
    if requested_by is not None:
        services.sweep_start_record(sweep=sweep, user_id=requested_by.get("user_id"), ip=requested_by.get("ip"))
    try:
        plan = services.sweep_plan(sweep=sweep, chunks=chunks)
        header = [sweep_chunk.si(sweep.pk, sweep.rule_ids, bounds, day.isoformat()) for bounds in plan]
        chord(header)(sweep_finish.si(sweep.pk))
    except Exception as exc:
        services.sweep_fail(sweep_id=sweep.pk, error=f"{type(exc).__name__}: {exc}")
        raise
    return sweep.pk


@shared_task(name="compliance.rejudge", ignore_result=True)  # nobody waits for it: the page said pending
def rejudge(targets: dict[str, list[int]], as_of: str | None = None) -> dict:
    """A page's save, re-judged after commit off the request path (see compliance.onsave)."""
    changes = services.reevaluate(targets, as_of=dt.date.fromisoformat(as_of) if as_of else None)
    return {"opened": len(changes.opened), "resolved": len(changes.resolved), "errors": len(changes.errors)}


@shared_task(name="compliance.sweep_chunk")
def sweep_chunk(sweep_id: int, rule_ids: list[str], bounds: list[int | None], as_of: str) -> dict:
    """One range [lo, hi) of community pks (None: open end); see services.sweep_plan."""
    changes = services.sweep_chunk_run(sweep_id=sweep_id, rule_ids=rule_ids, bounds=bounds,
                                       as_of=dt.date.fromisoformat(as_of))
    return {"opened": len(changes.opened), "errors": len(changes.errors)}


@shared_task(name="compliance.sweep_finish")
def sweep_finish(sweep_id: int) -> dict:
    sweep = services.sweep_finish(sweep_id=sweep_id)
    return {"opened": sweep.opened, "resolved": sweep.resolved, "still_open": sweep.still_open}


@shared_task(name="compliance.sweep_digest")
def sweep_digest(sweep_id: int) -> int:
    """Each 街办's clerks get one email with what the sweep opened for them."""
    return services.sweep_digest_send(sweep_id=sweep_id)
