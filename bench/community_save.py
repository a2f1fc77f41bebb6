"""CPU and queries of one 社区 save (``community_update``, 户数 ±1) with its commit-time re-judging: this process's
CPU (time.process_time), its PostgreSQL backend's (/proc/<pid>/stat: the server must run on this machine) and the
SQL statements sent. N saves over the first 20 live communities, +1 then -1 in turn, so the data ends as it began.

The code measured is that of the current directory (run it from another worktree for a before figure); the
database must hold the demo (see bench/pages.py), SAVE_DATABASE_URL (default postgres:///lianhu_pages_demo).
Usage: cd <tree> && .venv/bin/python <path>/bench/community_save.py [N=80]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/benchenv.py, whichever tree is measured
sys.path.insert(0, os.getcwd())

from benchenv import bench_environment

bench_environment(os.environ.get("SAVE_DATABASE_URL", "postgres:///lianhu_pages_demo"), force_database=True)
os.environ.pop("DJANGO_CACHE_URL", None)  # the local-memory cache, as bench/pages.py by default

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from communities.models import Community  # noqa: E402
from communities.services import community_update  # noqa: E402
from compliance.engine import capture_changes  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    pks = list(Community.objects.exclude(status="revoked").order_by("pk").values_list("pk", flat=True))[:20]
    sent = [0]

    def counting(execute, sql, params, many, context):
        sent[0] += 1
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def backend_cpu() -> float:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    app, pg, queries = [], [], []
    for i in range(n):
        community = Community.objects.get(pk=pks[i % len(pks)])
        delta = 1 if (i // len(pks)) % 2 == 0 else -1
        sent[0] = 0
        cpu, server = time.process_time(), backend_cpu()
        # capture_changes(): as a page's save, which reads what the re-judging opened and resolved.
        with connection.execute_wrapper(counting), capture_changes():
            community_update(community=community, households=community.households + delta)
        app.append(time.process_time() - cpu)
        pg.append(backend_cpu() - server)
        queries.append(sent[0])
    print(f"{n} saves: app CPU median {statistics.median(app) * 1000:.1f} ms (min {min(app) * 1000:.1f}), "
          f"PostgreSQL backend CPU mean {statistics.mean(pg) * 1000:.1f} ms, queries median {statistics.median(queries)}; "
          f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
