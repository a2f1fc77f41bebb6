"""Loaded only into the first worker of tests/compliance/test_worker_faults.py (``celery worker --include``):
each sweep chunk and each import's writes mark that they started, then sleep, so the test can SIGKILL the
worker in the middle of them. Never imported by the application."""

from __future__ import annotations

import os
import time
from pathlib import Path

from compliance import sweeps as compliance_sweeps
from imports import services as import_services

MARKS = Path(os.environ["LIANHU_FAULT_MARKS"])
SLEEP = float(os.environ.get("LIANHU_FAULT_SLEEP", "60"))

_chunk = compliance_sweeps.sweep_chunk_run
_write_sheet = import_services._write_sheet


def _mark(name: str) -> None:
    MARKS.mkdir(parents=True, exist_ok=True)
    (MARKS / f"{name}-{os.getpid()}-{time.monotonic_ns()}").touch()


def slow_chunk(**kwargs):
    _mark("chunk")
    time.sleep(SLEEP)
    return _chunk(**kwargs)


def slow_write_sheet(*args, **kwargs):
    # Inside the import's transaction: the kill leaves it open, PostgreSQL rolls it back with the connection.
    _mark("import")
    time.sleep(SLEEP)
    return _write_sheet(*args, **kwargs)


compliance_sweeps.sweep_chunk_run = slow_chunk  # the sweep_chunk task calls it from its own module
import_services._write_sheet = slow_write_sheet
