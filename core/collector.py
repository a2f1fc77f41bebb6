"""Python's cyclic garbage collector, paused around bulk work.

An import or a sweep chunk builds hundreds of thousands of objects (cells, rows, instances, findings) that all
live until it ends. Each of those allocations counts towards the collector's thresholds, and every fourth-or-so
growth of the heap sets off a full collection that walks every object the process holds, found garbage or not:
measured at national scale, 30 % of a 人员 import's own CPU and 22 % of a first sweep's went to collections that
freed nothing (docs/benchmarks.md). Reference counting still frees everything that is not in a cycle as soon as
it is dropped; the few cycles made meanwhile wait for the next collection after the pause, and the peak memory
of a sweep chunk was the same with and without it (118 MB).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector is switched back on when it is left, by an exception
    too. Nested or concurrent blocks (two threads of one web worker) never leave it off: only the block that found
    it on switches it back on. Also a decorator (``@collector_paused()``, contextlib's own), a fresh block per call."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

