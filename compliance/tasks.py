"""The compliance app's Celery tasks, each defined beside the function it wraps; gathered here for Celery's
autodiscovery and for callers that queue them by this module."""

from __future__ import annotations

from .digest import sweep_digest
from .rejudge import rejudge
from .sweeps import nightly_sweep, sweep_chunk
from .sweeps import sweep_finish_task as sweep_finish

__all__ = ["nightly_sweep", "rejudge", "sweep_chunk", "sweep_digest", "sweep_finish"]
