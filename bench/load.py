"""`make bench` (load part): a bounded load test against gunicorn on 127.0.0.1.

20 simulated users for 60 seconds, each signed in (15 clerks of 青年路街道, 5
reviewers), each doing a weighted mix of: community list, community detail,
a save of the community edit form (all values re-posted, so the rules re-judge
it on commit), the findings list, and an .xlsx export. Reports p50/p95/max per
action and overall, requests per second and errors (any status other than the
one expected, or a connection failure), and writes bench-results/load.md.

Goal (issue 8): p95 ≤ 300 ms with no errors on 2 cores.

Set up as in production: a Celery worker (concurrency 1) consumes the saves'
re-judging from a Redis broker, and sessions live in a Redis cache; both share
the machine's cores with gunicorn, PostgreSQL and this load generator. After
the run the script waits for the worker to drain the queue and reports how far
the re-judging lagged behind the saves.

Environment:
  LOAD_DATABASE_URL  default postgres:///lianhu_load; the database is DROPPED and recreated,
                  so its name must contain "load". The demo district (load_demo) is loaded.
  LOAD_USERS      20      LOAD_SECONDS    60
  LOAD_PORT       8765    LOAD_WORKERS    cores + 1 gunicorn workers (gthread)
  LOAD_THREADS    2       threads per gunicorn worker (1: sync workers)
  LOAD_BROKER_URL redis://127.0.0.1:6379/11 (purged first)   LOAD_CACHE_URL  redis://127.0.0.1:6379/12
  LOAD_CELERY     1       0: no broker and no worker, saves re-judge in the request (eager), db sessions
  LOAD_THINK      1.0     mean seconds a user reads a page before the next click (exponential);
                          0 hammers the server back to back, which measures capacity, not users.
  LOAD_RUN        1       which of consecutive runs this is (files load.json, load-2.json, …)
"""

from __future__ import annotations

import base64
import html.parser
import http.cookiejar
import json
import os
import platform
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
# Its own variable: `make bench` sets DATABASE_URL for the national-scale database of bench/run.py.
DATABASE_URL = os.environ.get("LOAD_DATABASE_URL", "postgres:///lianhu_load")
USERS = int(os.environ.get("LOAD_USERS", "20"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
PORT = int(os.environ.get("LOAD_PORT", "8765"))
CORES = os.cpu_count() or 2
WORKERS = int(os.environ.get("LOAD_WORKERS", str(CORES + 1)))
THREADS = int(os.environ.get("LOAD_THREADS", "2"))
CELERY = os.environ.get("LOAD_CELERY", "1") != "0"
BROKER_URL = os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/11")
CACHE_URL = os.environ.get("LOAD_CACHE_URL", "redis://127.0.0.1:6379/12")
THINK = float(os.environ.get("LOAD_THINK", "1.0"))
# `make bench` runs the load three times in a row (the goal asks for three consecutive runs): run 1 clears the
# files of earlier runs, run N writes load-N.json beside load.json for bench/summary.py.
RUN = int(os.environ.get("LOAD_RUN", "1"))
BASE = f"http://127.0.0.1:{PORT}"
GOAL_P95_MS = 300.0
DEMO_PASSWORD = "Lianhu@2024demo"
PENDING = "正在重新判定".encode()

# action → weight in the mix
MIX = {"list": 30, "detail": 30, "save": 10, "findings": 20, "export": 10}


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", flush=True)


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DATABASE_URL=DATABASE_URL,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Plain HTTP on the loopback: no TLS redirect and no Secure-only cookies here.
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="lianhu.settings",
        # Debug off needs the ID-number keys (staffing/idcrypto.py); fixed bench-only values.
        DJANGO_FIELD_ENCRYPTION_KEY=os.environ.get("DJANGO_FIELD_ENCRYPTION_KEY")
        or base64.urlsafe_b64encode(b"bench-only-key-not-a-secret-32b!").decode(),
        DJANGO_FIELD_HASH_KEY=os.environ.get("DJANGO_FIELD_HASH_KEY") or "bench-only-hash-key-not-a-secret",
        DJANGO_SITE_URL=f"http://127.0.0.1:{PORT}",
    )
    return env


def production_env(env: dict[str, str]) -> dict[str, str]:
    """The web processes and the worker: a real broker (saves re-judge in the worker) and Redis sessions."""
    if not CELERY:
        return env
    return {**env, "CELERY_BROKER_URL": BROKER_URL, "DJANGO_CACHE_URL": CACHE_URL}


def start_worker(env: dict[str, str]) -> subprocess.Popen | None:
    if not CELERY:
        return None
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()  # an earlier run's leftover tasks would be consumed first
    redis.Redis.from_url(CACHE_URL).flushdb()
    log(f"celery worker (concurrency 1) on {BROKER_URL}")
    return subprocess.Popen(
        [PY, "-m", "celery", "-A", "lianhu", "worker", "--concurrency", "1", "--loglevel", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, start_new_session=True,
    )


def queue_length() -> int:
    import redis

    return int(redis.Redis.from_url(BROKER_URL).llen("celery"))


def drain(worker: subprocess.Popen | None, limit: float = 300) -> tuple[int, float]:
    """Tasks still queued when the users stopped, and the seconds until the worker had taken them all."""
    if worker is None:
        return 0, 0.0
    waiting, began = queue_length(), time.monotonic()
    while queue_length() and time.monotonic() - began < limit:
        time.sleep(0.2)
    return waiting, time.monotonic() - began


def group_cpu(*procs: subprocess.Popen | None) -> float:
    """CPU seconds (user + system) used so far by the live processes of these process groups (Linux /proc):
    the app's own share of a shared machine, whatever other people run next to it."""
    groups = {p.pid for p in procs if p is not None}
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) in groups:  # pgrp
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def terminate(proc: subprocess.Popen | None) -> None:
    if proc is not None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare_database(env: dict[str, str]) -> None:
    name = urllib.parse.urlparse(DATABASE_URL).path.lstrip("/")
    if "load" not in name:
        sys.exit(f"LOAD_DATABASE_URL must name a database containing 'load' (it is dropped): {DATABASE_URL}")
    if DATABASE_URL.startswith(("postgres", "postgresql")):
        log(f"recreating PostgreSQL database {name}")
        subprocess.run(["psql", "-q", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                        "-c", f'CREATE DATABASE "{name}"'], check=True)
    log("migrate, load_demo, create_demo_users, a first sweep, collectstatic")
    manage("migrate", "--noinput", env=env)
    manage("load_demo", env=env)
    manage("create_demo_users", "--force", env=env)
    manage("compliance_sweep", env=env)
    manage("collectstatic", "--noinput", "-v", "0", env=env)


# Run by manage.py shell: the reviewer's authenticator and a recovery code for each reviewer's sign-in, printed.
_ENROL = """
import json
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.services import recovery_code_digest
user = get_user_model().objects.get(username="reviewer")
TOTPDevice.objects.filter(user=user).delete()
TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=True)
StaticDevice.objects.filter(user=user).delete()
device = StaticDevice.objects.create(user=user, name="恢复码", confirmed=True)
codes = [StaticToken.random_token() for _ in range(%d)]
StaticToken.objects.bulk_create([StaticToken(device=device, token=recovery_code_digest(c)) for c in codes])
print(json.dumps(codes))
"""


def enrol_reviewer(env: dict[str, str], sign_ins: int) -> list[str]:
    """Reviewers sign in with a second factor, as in production (LIANHU_REQUIRE_2FA is on without DJANGO_DEBUG):
    an authenticator for the demo reviewer and one recovery code per simulated reviewer, since the five share
    one account and an authenticator code works once. Without it every reviewer page was the set-up page
    (a QR code drawn per request, answered 200), not the page the mix asked for."""
    done = subprocess.run([PY, "manage.py", "shell", "-c", _ENROL % max(1, sign_ins)], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_gunicorn(env: dict[str, str]) -> subprocess.Popen:
    log(f"gunicorn: {WORKERS} workers × {THREADS} threads on 127.0.0.1:{PORT}")
    kind = ["--worker-class", "gthread", "--threads", str(THREADS)] if THREADS > 1 else ["--worker-class", "sync"]
    proc = subprocess.Popen(
        [PY, "-m", "gunicorn", "lianhu.wsgi:application", "--bind", f"127.0.0.1:{PORT}", "--workers", str(WORKERS),
         *kind, "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{BASE}/login/", timeout=2).read()
            return proc
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    proc.kill()
    sys.exit("gunicorn did not answer within 60 s")


class FormValues(html.parser.HTMLParser):
    """The values a browser would submit from the page's main form (the one posting to ``action``)."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside = action, False
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("method", "").lower() == "post" and a.get("action", "") in ("", self.action)
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.values.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.values.append((name, ""))

    def handle_data(self, data):
        if self._textarea:
            name, value = self.values[-1]
            self.values[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


class User:
    def __init__(self, username: str, recovery_code: str = ""):
        self.username = username
        self.recovery_code = recovery_code  # the second factor of an account that must give one
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next((c.value or "" for c in self.jar if c.name == "csrftoken"), "")

    def request(self, path: str, data: list[tuple[str, str]] | None = None) -> tuple[int, bytes, str]:
        body = None
        headers = {"User-Agent": "lianhu-load"}
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers.update({"Content-Type": "application/x-www-form-urlencoded", "Referer": BASE + path,
                            "X-CSRFToken": self.csrf()})
        req = urllib.request.Request(BASE + path, data=body, headers=headers)
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read(), response.geturl()
        except urllib.error.HTTPError as error:
            return error.code, error.read(), path

    def login(self) -> None:
        self.request("/login/")
        status, _, url = self.request("/login/", [("username", self.username), ("password", DEMO_PASSWORD),
                                                  ("csrfmiddlewaretoken", self.csrf()), ("next", "")])
        if status == 200 and self.recovery_code and "/two-factor/verify/" in url:
            verify = urllib.parse.urlparse(url)
            status, _, url = self.request(f"{verify.path}?{verify.query}" if verify.query else verify.path,
                                          [("token", self.recovery_code), ("csrfmiddlewaretoken", self.csrf())])
        if status != 200 or "/login/" in url or "/two-factor/" in url:
            raise RuntimeError(f"{self.username} could not sign in ({status} {url})")


def community_ids(user: User) -> list[int]:
    import re

    _, body, _ = user.request("/communities/")
    return sorted({int(m) for m in re.findall(rb'href="/communities/(\d+)/"', body)})


def run_user(user: User, ids: list[int], stop: float, results, errors, lock, seed: int, *, saves: bool) -> None:
    rnd = random.Random(seed)
    # Reviewers read; only the clerks of the 街办 may save its communities.
    mix = MIX if saves else {**{a: w for a, w in MIX.items() if a != "save"}, "detail": MIX["detail"] + MIX["save"]}
    actions, weights = zip(*mix.items(), strict=True)
    while time.monotonic() < stop:
        action = rnd.choices(actions, weights)[0]
        pk = rnd.choice(ids)
        expected = 200
        started = time.perf_counter()
        status: int | str  # the exception's repr when the request fails
        try:
            asked = {"list": "/communities/?page=1", "detail": f"/communities/{pk}/",
                     "findings": "/compliance/findings/", "export": "/exports/ledger/communities/"}.get(action, "")
            if asked:
                status, body, answered = user.request(asked)
            else:
                # The edit page is fetched first (not timed as the save): then every value is posted back.
                _, page, _ = user.request(f"/communities/{pk}/edit/")
                form = FormValues(f"/communities/{pk}/edit/")
                form.feed(page.decode("utf-8", "replace"))
                # A real change (户数 ±1), so the save re-judges the community's rules on commit.
                values = [(k, str(int(v) + rnd.choice((-1, 1))) if k == "households" and v.isdigit() else v)
                          for k, v in form.values]
                started = time.perf_counter()
                status, body, _ = user.request(f"/communities/{pk}/edit/", values)  # follows the redirect
            elapsed = (time.perf_counter() - started) * 1000
            ok = status == expected and (action != "save" or "已保存".encode() in body or "没有修改".encode() in body)
            # A redirect elsewhere (sign-in, second factor) answers 200 too, with another page than the one asked.
            if ok and action != "save" and urllib.parse.urlparse(answered).path != urllib.parse.urlparse(asked).path:
                ok, status = False, f"redirected to {urllib.parse.urlparse(answered).path}"
            # (a save that changed nothing, e.g. another clerk's ±1 undone, re-judges nothing and says so)
            if ok and action == "save" and CELERY and "已保存".encode() in body and PENDING not in body:
                ok, status = False, "no pending note"  # the page must not pass stale findings off as current
        except Exception as exc:  # a refused or reset connection is an error like a 500
            elapsed, ok, status = (time.perf_counter() - started) * 1000, False, repr(exc)
        with lock:
            results[action].append(elapsed)
            if not ok:
                errors.append((action, status))
        if THINK > 0:
            time.sleep(min(rnd.expovariate(1 / THINK), 5 * THINK))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def main() -> int:
    env = server_env()
    if os.environ.get("LOAD_REUSE") != "1":
        prepare_database(env)
    env = production_env(env)
    worker = start_worker(env)
    server = start_gunicorn(env)
    load_before = os.getloadavg()
    try:
        clerks = [User("qingnian") for _ in range(max(1, USERS * 3 // 4))]
        codes = enrol_reviewer(env, USERS - len(clerks))
        reviewers = [User("reviewer", codes[i]) for i in range(USERS - len(clerks))]
        for user in clerks + reviewers:
            user.login()
        own = community_ids(clerks[0])
        if not own:
            raise RuntimeError("the clerk sees no communities: was load_demo run?")
        log(f"{len(clerks)} clerks (青年路, {len(own)} communities) and {len(reviewers)} reviewers, {SECONDS:.0f} s")
        results: dict[str, list[float]] = defaultdict(list)
        errors: list = []
        lock = threading.Lock()
        stop = time.monotonic() + SECONDS
        threads = [threading.Thread(target=run_user, args=(u, own, stop, results, errors, lock, i),
                                    kwargs={"saves": u in clerks})
                   for i, u in enumerate(clerks + reviewers)]
        began, cpu_began = time.monotonic(), time.process_time()
        web_began, worker_began = group_cpu(server), group_cpu(worker)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, generator_cpu = time.monotonic() - began, time.process_time() - cpu_began
        load_after = os.getloadavg()
        queued, lag = drain(worker)
        web_cpu, worker_cpu = group_cpu(server) - web_began, group_cpu(worker) - worker_began
        app_cpu = web_cpu + worker_cpu
    finally:
        terminate(server)
        terminate(worker)

    everything = [v for values in results.values() for v in values]
    rows: list[dict[str, Any]] = []
    for action in [*MIX, "all"]:
        values = everything if action == "all" else results[action]
        rows.append({
            "action": action, "requests": len(values),
            "p50_ms": round(statistics.median(values), 1) if values else None,
            "p95_ms": round(percentile(values, 95), 1), "max_ms": round(max(values), 1) if values else None,
            "errors": len(errors) if action == "all" else sum(1 for a, _ in errors if a == action),
        })
    overall = rows[-1]
    met = overall["p95_ms"] <= GOAL_P95_MS and not errors
    machine = f"{platform.processor() or platform.machine()}, {CORES} cores, Python {platform.python_version()}"
    database = "PostgreSQL" if DATABASE_URL.startswith("postgres") else DATABASE_URL.split(":", 1)[0]
    lines = [
        "# Load test (bench/load.py)",
        "",
        f"gunicorn {WORKERS} workers × {THREADS} threads on 127.0.0.1, {database}, demo district (load_demo); "
        + ("Celery worker (concurrency 1) re-judging saves, sessions in Redis; " if CELERY
           else "no broker (saves re-judged in the request), sessions in the database; ")
        + f"{USERS} users for {SECONDS:.0f} s, think time {THINK:g} s (mean); machine: {machine}, "
        f"load average before {load_before[0]:.1f}, at the end {load_after[0]:.1f}.",
        "",
        "| action | requests | p50 ms | p95 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
        *[f"| {r['action']} | {r['requests']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['errors']} |"
          for r in rows],
        "",
        f"Throughput {overall['requests'] / wall:.1f} requests/s. Goal: p95 ≤ {GOAL_P95_MS:.0f} ms with no errors "
        f"— {'met' if met else 'MISSED'} (p95 {overall['p95_ms']} ms, {len(errors)} errors).",
        "",
        f"CPU used by gunicorn and the Celery worker: {app_cpu:.1f} s, {1000 * app_cpu / max(1, overall['requests']):.0f} ms "
        f"per request ({1000 * web_cpu / max(1, overall['requests']):.0f} gunicorn"
        + (f", {1000 * worker_cpu / max(1, overall['requests']):.0f} the worker's re-judging" if CELERY else "")
        + f"), {app_cpu / wall:.2f} cores on average (PostgreSQL and Redis not counted). "
        f"Load generator CPU {generator_cpu:.1f} s ({100 * generator_cpu / wall:.0f}% of one core)."
        + (f" Re-judging: {queued} saves still queued when the users stopped, drained {lag:.1f} s later."
           if CELERY else ""),
    ]
    if errors:
        sample = sorted({f"{a}: {s}" for a, s in errors})[:10]
        lines += ["", "Errors (first kinds): " + "; ".join(sample)]
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    if RUN == 1:
        for stale in out.glob("load-*.*"):
            stale.unlink()
    suffix = "" if RUN == 1 else f"-{RUN}"
    (out / f"load{suffix}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / f"load{suffix}.json").write_text(json.dumps({"rows": rows, "goal_met": met, "workers": WORKERS, "threads": THREADS, "celery": CELERY,
                                               "queued_at_end": queued, "drain_s": round(lag, 1),
                                               "app_cpu_s": round(app_cpu, 1), "web_cpu_s": round(web_cpu, 1), "worker_cpu_s": round(worker_cpu, 1), "wall_s": round(wall, 1), "users": USERS,
                                               "seconds": SECONDS, "think": THINK, "machine": machine}, ensure_ascii=False, indent=1))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
