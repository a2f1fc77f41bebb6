"""Export jobs benchmark (issue 17 item 1): the 人员台账 written as a background job, rows/s and peak RSS.

    .venv/bin/python bench/export_jobs.py        (also a step of `make bench`)

Builds people with bench/run.py's national generator (about twenty people per community, with seats and
jobs, INSERT … SELECT) in its own PostgreSQL database, then, in a fresh interpreter that plays the Celery
worker, runs the job exactly as a worker does: an ``ExportJob`` requested by an administrator for the whole
人员台账 (masked numbers), ``exports.run_export`` applied to its id, the file written to the media storage.
Prints and writes bench-results/export_jobs.md: rows, seconds, rows/s, peak RSS of the worker process (its
VmHWM: Django and the writer included), file size, and how often the progress bar moved.

Environment:
  EXPORT_BENCH_DATABASE_URL  default postgres:///lianhu_exports_bench; DROPPED and rebuilt (name must hold "bench")
  EXPORT_BENCH_ROWS          people to build, default 1,100,000 (the issue's ledger); 100000 on a shared machine
  EXPORT_BENCH_REUSE         1 = keep a database already built with at least that many people
  EXPORT_BENCH_FORMATS       default "xlsx,csv"
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchenv import bench_environment, peak_rss_mb  # noqa: E402

# The task is applied in the worker-like child, eagerly; the child reads the numbers the build encrypted.
bench_environment(os.environ.get("EXPORT_BENCH_DATABASE_URL", "postgres:///lianhu_exports_bench"), force_database=True)
os.environ.setdefault("DJANGO_MEDIA_ROOT", tempfile.mkdtemp(prefix="export-bench-media-"))

PEOPLE_PER_COMMUNITY = 20
GOAL_ROWS_PER_SECOND = 10_000
GOAL_PEAK_MB = 200


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] exports: {message}", flush=True)


def people_count() -> int:
    from staffing.models import Person

    return Person.objects.count()


def build(rows: int) -> dict:
    import run as national  # bench/run.py

    config = national.database_settings()
    if os.environ.get("EXPORT_BENCH_REUSE") == "1":
        try:
            import django

            django.setup()
            have = people_count()
            if have >= rows:
                log(f"reusing {config['NAME']}: {have:,} people")
                return {"people": have, "built_seconds": 0.0}
        except Exception as exc:  # no such database or tables: build it
            log(f"cannot reuse ({type(exc).__name__}); rebuilding")
    national.recreate_database(config)
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    communities = max(10, -(-rows // PEOPLE_PER_COMMUNITY))
    streets = max(2, communities // 30)
    national.loading(True)
    national.build_streets(streets)
    counts = national.build_communities(1, communities, streets)
    national.loading(False)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    log(f"built {counts.get('people', 0):,} people in {communities:,} communities in {seconds:.1f} s")
    return {"people": people_count(), "built_seconds": seconds}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(fmt: str) -> None:
    """The child: request the job as an administrator would, then run the Celery task on its id."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from exports import services
    from exports.models import ExportJob
    from exports.tasks import run_export

    admin = get_user_model().objects.filter(username="export-bench").first()
    if admin is None:
        admin = get_user_model().objects.create_superuser("export-bench", "bench@example.invalid", None)
    plan = services.export_plan(user=admin, kind="people", fmt=fmt)
    job = services.export_create(user=admin, plan=plan)
    moves: list[int] = []
    original = services._Progress.__call__

    def counting(self, done, force=False):
        before = self.last
        original(self, done, force)
        if self.last != before:
            moves.append(done)

    services._Progress.__call__ = counting  # type: ignore[method-assign]
    started, cpu = time.perf_counter(), _cpu()
    state = run_export.apply(args=[str(job.pk)]).get()
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    job = ExportJob.objects.get(pk=job.pk)
    print(json.dumps({
        "format": fmt, "state": state, "rows": job.rows_done, "planned": job.rows_total, "seconds": seconds,
        "bytes": job.size, "progress_updates": len(moves), "cpu_seconds": cpu,
        "peak_mb": peak_rss_mb(),
    }))


def main() -> None:
    rows = int(os.environ.get("EXPORT_BENCH_ROWS", "1100000"))
    formats = [f.strip() for f in os.environ.get("EXPORT_BENCH_FORMATS", "xlsx,csv").split(",") if f.strip()]
    built = build(rows)
    load = os.getloadavg()
    results = []
    for fmt in formats:
        log(f"人员台账 as a job ({fmt}), {built['people']:,} people …")
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", fmt], capture_output=True,
                              text=True, env=os.environ.copy(), check=False)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            sys.exit(f"exports bench: the job failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
        result = json.loads(lines[-1])
        result["rate"] = result["rows"] / result["seconds"] if result["seconds"] else 0.0
        results.append(result)
        log(f"  {result['rows']:,} rows in {result['seconds']:.1f} s = {result['rate']:,.0f} rows/s, "
            f"{result['rows'] / max(result['cpu_seconds'], 1e-9):,.0f} rows per CPU second of the worker, "
            f"peak RSS {result['peak_mb']:.0f} MB, {result['bytes'] / 2**20:.1f} MiB, "
            f"progress moved {result['progress_updates']} times")
    report = render(built, results, load)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "export_jobs.md").write_text(report, encoding="utf-8")
    (out / "export_jobs.json").write_text(json.dumps({"results": results, "load": load}), encoding="utf-8")
    print()
    print(report)


def render(built: dict, results: list[dict], load: tuple[float, float, float]) -> str:
    lines = [f"# Export jobs — {time.strftime('%Y-%m-%d %H:%M %Z')}", "",
             f"人员台账 of {built['people']:,} people as a background job (exports.run_export), administrator, "
             f"masked numbers; load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
             f"{os.cpu_count()} cores.", "",
             "Rows per CPU second counts the worker process's own CPU time (not PostgreSQL's): on a loaded machine "
             "it says what the job would do with a core to itself.", "",
             "| format | rows | seconds | rows/s (goal ≥ 10,000) | rows per CPU second | peak RSS of the worker "
             "(goal ≤ 200 MB) | file | progress updates |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        rate_ok = "pass" if r["rate"] >= GOAL_ROWS_PER_SECOND else "miss"
        mem_ok = "pass" if r["peak_mb"] <= GOAL_PEAK_MB else "miss"
        per_cpu = r["rows"] / max(r["cpu_seconds"], 1e-9)
        lines.append(f"| {r['format']} | {r['rows']:,} | {r['seconds']:.1f} | {r['rate']:,.0f} ({rate_ok}) | "
                     f"{per_cpu:,.0f} | {r['peak_mb']:.0f} MB ({mem_ok}) | {r['bytes'] / 2**20:.1f} MiB | {r['progress_updates']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker(sys.argv[2])
    else:
        main()
