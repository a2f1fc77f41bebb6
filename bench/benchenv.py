"""The environment the benchmark scripts run Django in, set before Django is imported.

Production settings with debug off (the debug cursor would format every bulk statement), Celery eager in the
script's own process unless a script says otherwise, quiet logs, and fixed bench-only keys for the encrypted ID
numbers (staffing/idcrypto.py), the same in every script, so a child process or a later run with *_REUSE=1 reads
what the build wrote. Never keys for a real database.
"""

from __future__ import annotations

import base64
import os

SECRET_KEY = "bench-only-not-a-secret-" + "x" * 40
FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"bench-only-key-not-a-secret-32b!").decode()
FIELD_HASH_KEY = "bench-only-hash-key-not-a-secret"


def bench_environment(database_url: str, *, force_database: bool = False) -> None:
    """``database_url`` is the default; ``force_database`` overrides a DATABASE_URL already set (a script whose
    own variable names its database)."""
    if force_database:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.setdefault("DATABASE_URL", database_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lianhu.settings")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", SECRET_KEY)
    os.environ.setdefault("DJANGO_FIELD_ENCRYPTION_KEY", FIELD_ENCRYPTION_KEY)
    os.environ.setdefault("DJANGO_FIELD_HASH_KEY", FIELD_HASH_KEY)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries that across ``execve`` from the process that forked,
    so a fresh interpreter started by a bench that had grown to 900 MB reports 900 MB whatever it does itself
    (seen in sheets_bench's export children). VmHWM belongs to the new address space."""
    from pathlib import Path

    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: the best there is

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_pool(func, jobs: list, workers: int, initializer=None) -> list:
    """``func`` over ``jobs`` in ``workers`` forked processes, as a Celery worker's ``--concurrency`` runs a
    sweep's chunks: each child opens its own database connection. This process's connections are closed first,
    so no child inherits (and, exiting, ends) a socket this process still uses; it reconnects when next asked."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers, initializer=initializer) as pool:
        return pool.map(func, jobs, chunksize=1)
