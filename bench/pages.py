"""CPU and queries per page type, in process: what each page of the load mix and each record page costs the app.

Logs in as a demo role with the Django test client (debug off, as in production: the settings, the static
manifest, sessions in the Redis cache when PAGES_CACHE_URL is set) and requests each page type N times over a
few records, measuring the Python process's CPU (time.process_time: view, templates, middleware and the
client's own small share; PostgreSQL's CPU is not counted) and the queries each request sent. Prints the
median per page type; --save writes the figures as JSON, --compare prints them beside an earlier --save.
--profile KIND prints where that page type's CPU goes (a sampling profiler on CPU time).

The database must hold the demo (a database of your own, e.g.):
  DATABASE_URL=postgres:///lianhu_pages_demo DJANGO_DEBUG=1 manage.py migrate / load_demo / compliance_sweep /
  create_demo_users --force   (with the same DJANGO_FIELD_* keys as here, or person pages cannot decrypt)
Read-only except the "save" page type (an edit form re-posted with 户数 ±1, as bench/load.py does; in the
request its re-judging runs eagerly unless PAGES_BROKER_URL is set): leave it out with --kinds.

--mix N: bench/load.py's mix in this process instead (its weights, three clerks of 青年路 to one reviewer, the save
as the edit page, the POST and the page it leads to), N actions a round, the same actions every round: the mean
CPU per action, per kind and overall, of each round and the best. With PAGES_BROKER_URL set the saves' re-judging
is queued, not run (the load test counts it in the worker). It writes (the saves): run it on a copy of the demo
database. The load test's "ms per request" at 20 users lands within a few per cent of it, without the noise of 20
threads; under ``valgrind --tool=callgrind`` (about 50 times slower) it counts instructions, which repeat exactly
on the same code and database whatever else the machine does (docs/benchmarks.md, 第十一台机器).

Environment: PAGES_DATABASE_URL (default postgres:///lianhu_pages_demo), PAGES_CACHE_URL (default none:
local-memory cache, database sessions; a redis:// URL gives the load test's Redis sessions).
Usage: bench/pages.py [--role qingnian] [-n 15] [--kinds list,detail] [--save f.json] [--compare f.json]
       bench/pages.py --mix 100 [--rounds 5]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.update(
    DATABASE_URL=os.environ.get("PAGES_DATABASE_URL", "postgres:///lianhu_pages_demo"),
    DJANGO_DEBUG="0",
    DJANGO_SETTINGS_MODULE="lianhu.settings",
    DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
    DJANGO_SITE_URL="http://127.0.0.1:8765",
    DJANGO_SECURE_SSL_REDIRECT="0",
    DJANGO_SECURE_COOKIES="0",
    DJANGO_LOG_LEVEL="WARNING",
    # Reviewers and administrators give a second factor on every login with debug off; the pages are the same.
    LIANHU_REQUIRE_2FA="0",
)
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-a-secret-" + "x" * 30)
os.environ.setdefault("DJANGO_FIELD_ENCRYPTION_KEY",
                      base64.urlsafe_b64encode(b"bench-only-key-not-a-secret-32b!").decode())
os.environ.setdefault("DJANGO_FIELD_HASH_KEY", "bench-only-hash-key-not-a-secret")
for name in ("DJANGO_CACHE_URL", "CELERY_BROKER_URL"):
    os.environ.pop(name, None)
if os.environ.get("PAGES_CACHE_URL"):
    os.environ["DJANGO_CACHE_URL"] = os.environ["PAGES_CACHE_URL"]
if os.environ.get("PAGES_BROKER_URL"):
    os.environ["CELERY_BROKER_URL"] = os.environ["PAGES_BROKER_URL"]

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402


def record_urls(user) -> dict[str, list[str]]:
    """A few records of each type the role may open (its own selectors), and the load mix's pages."""
    from approvals.selectors import requests_for_user
    from communities.selectors import communities_for_user, compounds_for_user
    from compliance.selectors import findings_for_user
    from facilities.selectors import facilities_for_user
    from staffing.selectors import may_read_people, persons_for_user

    def some(queryset, field="pk", k=5):
        values = list(queryset.order_by(field).values_list(field, flat=True))
        return random.Random(7).sample(values, min(k, len(values)))

    communities = some(communities_for_user(user))
    editable = some(communities_for_user(user, "change_community"))  # none for a reviewer: she reads
    kinds = {
        "list": ["/communities/?page=1"],
        "detail": [reverse("communities:community_detail", args=[pk]) for pk in communities],
        "edit": [reverse("communities:community_edit", args=[pk]) for pk in editable],
        "save": [reverse("communities:community_edit", args=[pk]) for pk in editable],
        "findings": ["/compliance/findings/"],
        "export": ["/exports/ledger/communities/"],
        "compound": [reverse("communities:compound_detail", args=[pk]) for pk in some(compounds_for_user(user))],
        "facility": [reverse("facilities:facility_detail", args=[pk]) for pk in some(facilities_for_user(user))],
        "finding": [reverse("compliance:finding_detail", args=[pk]) for pk in some(findings_for_user(user))],
        "approval": [reverse("approvals:request_detail", args=[pk]) for pk in some(requests_for_user(user))],
    }
    if may_read_people(user):
        kinds["composition"] = [reverse("staffing:composition", args=[pk]) for pk in communities]
        kinds["person"] = [reverse("staffing:person_detail", args=[pid])
                           for pid in some(persons_for_user(user), "public_id")]
    return {k: v for k, v in kinds.items() if v}


class Sampler:
    """A sampling profiler on CPU time (SIGPROF every millisecond of this process's CPU): which functions
    the CPU was in, inclusive, with far less distortion than cProfile's per-call hooks."""

    def __init__(self, interval: float = 0.001):
        self.interval, self.samples = interval, 0
        self.inclusive: dict[str, int] = {}
        self.own: dict[str, int] = {}
        self.on = False

    def _tick(self, signum, frame):
        if not self.on or frame is None:
            return
        self.samples += 1
        seen = set()
        top = True
        while frame is not None:
            code = frame.f_code
            key = f"{code.co_filename.replace(str(ROOT) + '/', '').replace('.venv/lib/python3.11/site-packages/', '')}"\
                  f":{code.co_firstlineno}({code.co_name})"
            if top:
                self.own[key] = self.own.get(key, 0) + 1
                top = False
            if key not in seen:
                seen.add(key)
                self.inclusive[key] = self.inclusive.get(key, 0) + 1
            frame = frame.f_back

    def __enter__(self):
        signal.signal(signal.SIGPROF, self._tick)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def enable(self):
        self.on = True

    def disable(self):
        self.on = False

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_PROF, 0, 0)

    def report(self, cpu_ms: list[float], top: int = 70) -> str:
        # Ticks coalesce (the kernel's timer granularity), so the samples share out the CPU measured.
        per = sum(cpu_ms) / max(1, len(cpu_ms)) / max(1, self.samples)
        lines = [f"{self.samples} samples, {len(cpu_ms)} requests; ms per request (mean CPU shared by samples), inclusive:"]
        for key, n in sorted(self.inclusive.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"  {n * per:7.2f}  {key}")
        lines.append("self time:")
        for key, n in sorted(self.own.items(), key=lambda kv: -kv[1])[:25]:
            lines.append(f"  {n * per:7.2f}  {key}")
        return "\n".join(lines)


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def form_values(client: Client, url: str, rnd: random.Random) -> dict:
    """The edit form's own values re-posted, 户数 ±1 (as bench/load.py does)."""
    response = client.get(url)
    form = response.context["form"] if response.context else None
    if form is None:  # no instrumented context: read the bound initial values
        raise RuntimeError("no form in the edit page's context")
    data: dict[str, str | list[str]] = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            data[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
        if name == "households" and str(value).isdigit():
            data[name] = str(int(value) + rnd.choice((-1, 1)))
    return data


def measure(client: Client, kinds: dict[str, list[str]], n: int, profile: str | None) -> dict[str, dict]:
    from django.test.utils import setup_test_environment

    setup_test_environment()  # response.context for the save's form values; see lean() below
    from django.template.base import Template
    from django.test.utils import _TestState

    instrumented = Template._render  # type: ignore[attr-defined]  # set by setup_test_environment
    rnd = random.Random(11)
    out = {}
    for kind, urls in kinds.items():
        cpu, queries = [], []
        prof = Sampler() if kind == profile else None
        if prof:
            prof.__enter__()
        for i in range(n + 1):  # the first round warms caches and is not counted
            url = urls[i % len(urls)]
            data = None
            if kind == "save":
                Template._render = instrumented  # type: ignore[attr-defined]
                data = form_values(client, url, rnd)
            # The test client's copy of every template context is a harness cost, not the page's.
            Template._render = _TestState.saved_data.template_render  # type: ignore[attr-defined]
            counter = Counter()
            with connection.execute_wrapper(counter):
                if prof and i:
                    prof.enable()
                began = time.process_time()
                response = client.post(url, data, follow=True) if data is not None else client.get(url)
                if kind == "export":
                    b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
                spent = time.process_time() - began
                if prof and i:
                    prof.disable()
            Template._render = instrumented  # type: ignore[attr-defined]
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")
            if i:
                cpu.append(spent * 1000)
                queries.append(counter.n)
        if prof:
            prof.__exit__()
        out[kind] = {"ms": round(statistics.median(cpu), 1), "queries": statistics.median(queries),
                     "min_ms": round(min(cpu), 1), "pages": len(urls)}
        if prof:
            print(f"--- {kind}")
            print(prof.report(cpu))
    return out


def _load_module():
    """bench/load.py's mix and form reader, the very ones the load test uses."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mix(n: int, rounds: int) -> list[dict[str, float]]:
    """bench/load.py's actions in this process: each round the same ``n`` actions (seeded), three of every four by
    a clerk of 青年路 (saves too), one by a reviewer (no saves, as in the load test); CPU ms per action."""
    import re

    load = _load_module()
    clients = {}
    for name in ("qingnian", "reviewer"):
        clients[name] = Client()
        clients[name].force_login(get_user_model().objects.get(username=name))
    ids = sorted({int(m) for m in re.findall(r'href="/communities/(\d+)/"',
                                              clients["qingnian"].get("/communities/").content.decode())})
    pages = {"list": "/communities/?page=1", "detail": "/communities/{}/", "findings": "/compliance/findings/",
             "export": "/exports/ledger/communities/"}

    def get(client, url):
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
        return b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]

    def act(rnd, client, saves) -> tuple[str, float]:
        weights = load.MIX if saves else {**{a: w for a, w in load.MIX.items() if a != "save"},
                                          "detail": load.MIX["detail"] + load.MIX["save"]}
        action = rnd.choices(list(weights), list(weights.values()))[0]
        pk = rnd.choice(ids)
        began = time.process_time()
        if action == "save":
            url = f"/communities/{pk}/edit/"
            form = load.FormValues(url)
            form.feed(get(client, url).decode())
            data: dict[str, list[str]] = {}
            for k, v in form.values:
                if k == "households" and v.isdigit():
                    v = str(int(v) + rnd.choice((-1, 1)))
                data.setdefault(k, []).append(v)
            if client.post(url, data, follow=True).status_code != 200:
                raise RuntimeError(f"{url}: the save failed")
        else:
            get(client, pages[action].format(pk))
        return action, (time.process_time() - began) * 1000

    def play(seed: int, count: int) -> dict[str, list[float]]:
        rnd = random.Random(seed)
        spent: dict[str, list[float]] = {}
        for i in range(count):
            reviewer = i % 4 == 3
            action, ms = act(rnd, clients["reviewer" if reviewer else "qingnian"], not reviewer)
            spent.setdefault(action, []).append(ms)
        return spent

    play(1, 40)  # templates, caches and connections warmed, not counted
    out = []
    for _ in range(rounds):
        spent = play(3, n)
        row = {kind: statistics.mean(values) for kind, values in spent.items()}
        row["all"] = sum(sum(values) for values in spent.values()) / n
        out.append(row)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", default="qingnian")
    parser.add_argument("-n", type=int, default=15, help="requests per page type (median)")
    parser.add_argument("--kinds", default="", help="comma-separated page types (default: all but save)")
    parser.add_argument("--save", help="write the figures to this JSON file")
    parser.add_argument("--compare", help="an earlier --save to print beside these")
    parser.add_argument("--profile", help="cProfile this page type")
    parser.add_argument("--mix", type=int, default=0, help="bench/load.py's mix in process: actions a round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of --mix")
    args = parser.parse_args()

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", "--noinput", "-v", "0")
    if args.mix:
        load = os.getloadavg()[0]
        mix_rows = mix(args.mix, args.rounds)
        mix_kinds = [k for k in ("list", "detail", "save", "findings", "export") if any(k in r for r in mix_rows)]
        print(f"\nbench/load.py's mix in process, {args.mix} actions a round, load average {load:.1f} → "
              f"{os.getloadavg()[0]:.1f}; CPU ms per action")
        print("| round | all | " + " | ".join(mix_kinds) + " |")
        print("|---|---:|" + "---:|" * len(mix_kinds))
        for i, spent in enumerate(mix_rows, 1):
            print(f"| {i} | {spent['all']:.1f} | " + " | ".join(f"{spent.get(k, 0):.1f}" for k in mix_kinds) + " |")
        print(f"best round: {min(r['all'] for r in mix_rows):.1f} ms per action")
        return 0
    user = get_user_model().objects.get(username=args.role)
    client = Client()
    client.force_login(user)
    kinds = record_urls(user)
    wanted = args.kinds.split(",") if args.kinds else [k for k in kinds if k != "save"]
    kinds = {k: kinds[k] for k in wanted if k in kinds}
    load = os.getloadavg()[0]
    figures = measure(client, kinds, args.n, args.profile)
    before = json.loads(Path(args.compare).read_text()) if args.compare else {}
    db = "PostgreSQL" if connection.vendor == "postgresql" else connection.vendor
    print(f"\n{args.role}, {db}, median of {args.n} (CPU of this process), load average {load:.1f}"
          f" → {os.getloadavg()[0]:.1f}")
    head = "| page | CPU ms | min ms | queries |" + (" before ms | before min | before queries |" if before else "")
    print(head)
    print("|---|---:|---:|---:|" + ("---:|---:|---:|" if before else ""))
    for kind, f in figures.items():
        row = f"| {kind} | {f['ms']} | {f['min_ms']} | {f['queries']:g} |"
        if before.get(kind):
            row += f" {before[kind]['ms']} | {before[kind]['min_ms']} | {before[kind]['queries']:g} |"
        print(row)
    if args.save:
        Path(args.save).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
