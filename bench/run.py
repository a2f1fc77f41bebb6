"""`make bench`: the national-scale benchmark of the compliance engine.

Builds a synthetic country in PostgreSQL (115,000 communities in ~4,000 街办,
five compounds each, four facilities each, about twenty people each with
seats, employments, trainings and assessments), then times the sweeps the
issues set goals for and writes a Markdown table to bench-results/latest.md.

The data is written with ``INSERT … SELECT generate_series`` straight into
the tables: the benchmark measures the sweep, not a loader, and two cores
would spend most of the budget in Python building millions of objects.
Figures vary deterministically with the row ids, so every rule finds
something and every run builds the same data.

Environment:
  DATABASE_URL   default postgres:///lianhu_bench; the database is DROPPED and
                 recreated, so the name must contain "bench".
  BENCH_SCALE    1 (default) = 115,000 communities; 0.1 for a quick run.
  BENCH_REUSE    1 = keep an existing bench database built at the same scale.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchenv import bench_environment  # noqa: E402

# Sweeps run in this process, as `compliance_sweep` does.
bench_environment("postgres:///lianhu_bench")

AS_OF = dt.date(2026, 6, 30)
# The day the next sweep runs on: AS_OF for a district without findings, and one day later for each nightly
# sweep, as production runs it (the night after). A repeat on the same day rewrites only what changed in the
# data, and so hid what changes with the date itself (a message naming the day rewrote 115,000 findings a night).
TODAY = AS_OF
FULL_COMMUNITIES = 115_000
FULL_STREETS = 4_000
COMPOUNDS_PER_COMMUNITY = 5
FACILITIES_PER_COMMUNITY = 4
PEOPLE_PER_COMMUNITY = 20
PER_COMMUNITY_SUBSET = 2_000
# Two chunk sizes that both hold failing targets for every rule (a chunk where a rule
# finds nothing skips that rule's bookkeeping queries, which would compare unlike work).
SMALL_CHUNK = 500

GOAL_SWEEP_3 = 30.0
GOAL_SWEEP_4 = 30.0
GOAL_SWEEP_ALL = 90.0
GOAL_RATIO = 20.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the database -------------------------------------------------------------


def database_settings() -> dict:
    import environ

    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        sys.exit(f"bench: needs PostgreSQL, DATABASE_URL is {config['ENGINE']}")
    if "bench" not in (config["NAME"] or ""):
        sys.exit(f"bench: refusing to drop database {config['NAME']!r}: its name must contain 'bench'")
    return config


def admin_connection(config: dict):
    import psycopg

    kwargs: dict[str, Any] = {"dbname": "postgres", "autocommit": True}
    for key, arg in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if config.get(key):
            kwargs[arg] = config[key]
    return psycopg.connect(**kwargs)


def existing_build(config: dict, scale: float) -> dict | None:
    """The build record of a bench database already built at this scale, if any."""
    import psycopg

    with admin_connection(config) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            return None
    kwargs = {"dbname": config["NAME"]}
    for key, arg in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if config.get(key):
            kwargs[arg] = config[key]
    try:
        with psycopg.connect(**kwargs) as conn:
            row = conn.execute("SELECT scale, record FROM bench_meta").fetchone()
    except psycopg.Error:
        return None
    return row[1] if row and abs(row[0] - scale) < 1e-9 else None


def recreate_database(config: dict) -> None:
    name = config["NAME"]
    with admin_connection(config) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def query_counter():
    """Counts every statement the default connection sends (cheap: no SQL formatting)."""
    from django.db import connection

    box = {"n": 0}

    def wrapper(execute, sql, params, many, context):
        box["n"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield box


# -- bulk SQL -----------------------------------------------------------------


def insert_select(model, columns: dict[str, str], from_sql: str, params: list | None = None) -> int:
    """INSERT INTO model's table SELECT the given column expressions FROM ….

    ``columns`` maps attnames to SQL expressions. Every other NOT NULL
    column gets the field's default (or '' for a blank text field), so a
    field another engineer adds with a default does not break the bench; a
    required field without one stops it with its name.
    """
    from django.db import connection
    from django.db.models import NOT_PROVIDED
    from django.db.models.fields import AutoFieldMixin

    names, exprs, default_params = [], [], []
    known = set()
    for field in model._meta.concrete_fields:
        known.add(field.attname)
        if isinstance(field, AutoFieldMixin):
            continue
        if field.attname in columns:
            names.append(connection.ops.quote_name(field.column))
            exprs.append(columns[field.attname])
        elif field.null or getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            continue
        elif field.has_default() or (field.blank and field.empty_strings_allowed):
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = dt.datetime.now(dt.UTC)
            else:
                value = field.get_default()
            names.append(connection.ops.quote_name(field.column))
            exprs.append("%s")
            default_params.append(field.get_db_prep_save(value, connection))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            names.append(connection.ops.quote_name(field.column))
            exprs.append("now()")
        else:
            sys.exit(f"bench: no value for required field {model.__name__}.{field.name}; add it to bench/run.py")
    unknown = set(columns) - known
    if unknown:
        sys.exit(f"bench: {model.__name__} has no field(s) {sorted(unknown)}; update bench/run.py")
    sql = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(names)}) "
           f"SELECT {', '.join(exprs)} {from_sql}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*default_params, *(params or [])])
        return cursor.rowcount


def installed(app: str) -> bool:
    from django.apps import apps

    return apps.is_installed(app)


def model_or_none(label: str):
    from django.apps import apps

    try:
        return apps.get_model(label)
    except LookupError:
        return None


def max_id(model) -> int:
    from django.db.models import Max

    return model.objects.aggregate(m=Max("pk"))["m"] or 0


def build_streets(n: int) -> int:
    from communities.models import SubDistrict

    return insert_select(
        SubDistrict,
        {"code": "(610000000 + g)::text", "name": "'基准' || g || '街道'"},
        "FROM generate_series(1, %s) g",
        [n],
    )


def build_communities(first: int, last: int, streets: int) -> dict[str, int]:
    """Communities numbered first..last, their compounds, facilities, funds and people."""
    from communities.models import Community, Compound, SubDistrict

    counts: dict[str, int] = {}
    before = max_id(Community)
    # r, q: two fixed pseudo-random digits per community, so the data varies but never changes.
    counts["communities"] = insert_select(
        Community,
        {
            "code": f"s.code || lpad(((x.g - 1) / {int(streets)} + 1)::text, 3, '0')",
            "name": "'基准社区' || x.g",
            "sub_district_id": "s.code",
            "households": "x.hh",
            "population": "x.hh * (25 + x.q %% 10) / 10",
            "founded_on": "date '1985-01-01' + (x.g * 37 %% 13000)::int",
            "election_on": "date '2021-09-01' + (x.g %% 120)::int",
            "party_org_type": ("CASE WHEN x.q %% 20 = 0 THEN 'committee' WHEN x.q %% 5 = 0 THEN 'general_branch' "
                               "ELSE 'branch' END"),
            "east": "CASE WHEN x.r %% 50 = 7 THEN '' ELSE '东至' || x.g || '路' END",
            "south": "'南至河道'",
            "west": "'西至' || x.g || '巷'",
            "north": "'北至铁路'",
            "social_org_count": "6 + x.q %% 12",
            "has_property_committee": "x.q %% 9 <> 0",
            "status": "'active'",
        },
        """FROM (
              SELECT g, r, q,
                     CASE WHEN r < 40 THEN 400 + r * 12
                          WHEN r >= 960 THEN 5001 + (r - 960) * 50
                          ELSE 1000 + (r - 40) * 4 END AS hh
              FROM (SELECT g, (g * 7919) %% 1000 AS r, (g * 104729) %% 997 AS q
                    FROM generate_series(%s::bigint, %s::bigint) g) t
           ) x
           JOIN communities_subdistrict s ON s.code = (610000000 + (x.g - 1) %% %s + 1)::text""".replace(
            "communities_subdistrict", SubDistrict._meta.db_table),
        [first, last, streets],
    )
    new = f"FROM {Community._meta.db_table} c"
    where = f"WHERE c.id > {int(before)}"

    counts["compounds"] = insert_select(
        Compound,
        {
            "code": "'XQ' || lpad((c.id * 10 + k)::text, 10, '0')",
            "name": "c.name || k || '号院'",
            "community_id": "c.id",
            "sub_district_id": "s.id",
            "households": "greatest(c.households / 5, 1)",
            "built_on": "date '1990-01-01' + ((c.id * 31 + k * 97) %% 12000)::int",
            "must_provide_facility": "k = 1 AND c.id %% 3 = 0",
            "facility_provided": "(c.id + k) %% 11 <> 0",
            "property_service": ("CASE WHEN (c.id * k) %% 41 = 0 THEN 'none' "
                                 "ELSE (ARRAY['market','market','self','state','employer'])[1 + (c.id + k) %% 5] END"),
            "jurisdiction_unclear": "(c.id * 7 + k) %% 500 = 0",
            "unclear_since": "CASE WHEN (c.id * 7 + k) %% 500 = 0 THEN date '2026-01-15' END",
        },
        f"""{new} CROSS JOIN generate_series(1, {COMPOUNDS_PER_COMMUNITY}) k
            JOIN {SubDistrict._meta.db_table} s ON s.code = c.sub_district_code {where}""",
    )
    adjustment = model_or_none("communities.CommunityAdjustment")
    if adjustment is not None:
        counts["adjustments"] = insert_select(
            adjustment,
            {"community_id": "c.id", "kind": "'defer'", "reason": "'暂不拆分，增配社区工作者'",
             "recorded_on": "date '2025-03-01'"},
            f"{new} {where} AND c.households > 5000 AND c.id %% 2 = 0",
        )
    if installed("facilities"):
        counts.update(build_facilities(new, where))
    if installed("funding"):
        counts.update(build_funding(new, where))
    if installed("staffing"):
        counts.update(build_staffing(new, where, before))
    return counts


def build_facilities(new: str, where: str) -> dict[str, int]:
    from facilities.models import Facility

    # k=1 综合服务设施, k=2 室外活动广场, k=3..4 嵌入式 (two of the four core services).
    area = "round((c.households * 0.30 * (0.95 + ((c.id * 13) %% 40) / 100.0))::numeric, 2)"
    pending = "(c.id * 3) %% 100 = 1"  # accepted, not yet handed over: 措施八
    return {"facilities": insert_select(
        Facility,
        {
            "code": "'SS' || lpad((c.id * 10 + k)::text, 10, '0')",
            "community_id": "c.id",
            "name": "c.name || (ARRAY['综合服务中心','活动广场','嵌入式服务站','嵌入式服务站'])[k]",
            "kind": "(ARRAY['center','plaza','embedded','embedded'])[k]",
            "service_category": ("CASE WHEN k >= 3 THEN (ARRAY['elderly','infant','childcare','meals'])"
                                 "[1 + (c.id + k) %% 4] ELSE '' END"),
            "building_area": f"CASE k WHEN 2 THEN NULL WHEN 1 THEN {area} ELSE 150 END",
            "activity_area": (f"CASE k WHEN 2 THEN NULL WHEN 1 THEN round({area} * (0.58 + ((c.id * 17) %% 40) / 100.0), 2)"
                              " ELSE 100 END"),
            "site_area": "CASE WHEN k = 2 THEN 800 + (c.id * 29) %% 1400 END",
            "acquisition": "'new'",
            "status": f"CASE WHEN k = 1 AND {pending} THEN 'accepted' ELSE 'in_use' END",
            "accepted_on": (f"CASE WHEN k = 1 AND {pending} THEN date '2026-06-30' - (c.id %% 200)::int "
                            "ELSE date '2015-01-01' + ((c.id * k) %% 3000)::int END"),
            "handed_over_on": (f"CASE WHEN k = 1 AND {pending} THEN NULL "
                               "ELSE date '2015-01-01' + ((c.id * k) %% 3000)::int + 30 END"),
        },
        f"{new} CROSS JOIN generate_series(1, {FACILITIES_PER_COMMUNITY}) k {where}",
    )}


def build_funding(new: str, where: str) -> dict[str, int]:
    from funding.models import Allocation

    return {"allocations": insert_select(
        Allocation,
        {
            "community_id": "c.id",
            "year": str(AS_OF.year),
            "level": "lvl",
            "planned": "CASE WHEN lvl = 'city' AND c.id %% 23 = 0 THEN 100000 "
                       "WHEN lvl = 'city' THEN 130000 ELSE 120000 END",
            "disbursed": "0",
        },
        f"{new} CROSS JOIN unnest(ARRAY['city','district']) lvl {where}",
    )}


def _bench_token() -> str:
    from staffing import idcrypto

    return idcrypto.encrypt("610104198001010018")


def build_staffing(new: str, where: str, before: int) -> dict[str, int]:
    from staffing.models import Assessment, Employment, Person, Seat, TrainingAttendance, TrainingEvent

    counts: dict[str, int] = {}
    # serial = community id × 20 + i: unique, and i (0..19) is the person's place in the community.
    counts["people"] = insert_select(
        Person,
        {
            "public_id": "'B' || lpad((c.id * 20 + i)::text, 11, '0')",
            # Ciphertext can only be made in Python: every bench person carries the same encrypted number,
            # and a distinct digest-shaped value keeps the unique look-up column honest.
            "id_number": "'" + _bench_token() + "'",
            "id_number_hash": "encode(sha256(('bench-' || (c.id * 20 + i))::bytea), 'hex')",
            "name": "'人员' || (c.id * 20 + i)",
            "birth_date": "date '1965-01-01' + ((c.id * 20 + i) * 13 %% 12000)::int",
            "sex": "CASE WHEN i %% 2 = 0 THEN 'F' ELSE 'M' END",
            "education": "CASE WHEN (c.id * 20 + i) %% 97 = 0 THEN '' ELSE '本科' END",
            "community_id": "c.id",
        },
        f"{new} CROSS JOIN generate_series(0, {PEOPLE_PER_COMMUNITY - 1}) i {where}",
    )
    people = f"""FROM {Person._meta.db_table} p
        JOIN {new.removeprefix('FROM ')} ON c.id = p.community_id
        CROSS JOIN LATERAL (SELECT substr(p.public_id, 2)::bigint AS serial,
                                   substr(p.public_id, 2)::bigint %% 20 AS i) x
        CROSS JOIN LATERAL (SELECT
            CASE WHEN c.id %% 53 = 0 THEN 2 WHEN c.party_org_type = 'branch' THEN 3 ELSE 5 END AS party_n,
            CASE WHEN c.households < 2000 THEN 5 WHEN c.households <= 4000 THEN 7 ELSE 9 END
              - CASE WHEN c.id %% 61 = 0 THEN 1 ELSE 0 END AS committee_n,
            CASE WHEN c.id %% 67 = 0 THEN 2 ELSE 0 END AS off,
            greatest(1, least({PEOPLE_PER_COMMUNITY}, ceil(c.population * 18 / 10000.0)::int
              - CASE WHEN c.id %% 7 = 0 THEN 2 ELSE 0 END)) AS workers_n) y
        WHERE c.id > {int(before)}"""
    counts["seats"] = insert_select(
        Seat,
        {
            "person_id": "p.id", "community_id": "c.id", "body": "'party'",
            "role": "CASE x.i WHEN 0 THEN 'secretary' WHEN 1 THEN 'deputy_secretary' ELSE 'member' END",
            "start_on": "c.election_on",
        },
        f"{people} AND x.i < y.party_n",
    )
    counts["seats"] += insert_select(
        Seat,
        {
            "person_id": "p.id", "community_id": "c.id", "body": "'committee'",
            "role": "CASE x.i - y.off WHEN 0 THEN 'director' WHEN 1 THEN 'deputy_director' ELSE 'member' END",
            "start_on": "c.election_on",
        },
        f"{people} AND x.i - y.off BETWEEN 0 AND y.committee_n - 1",
    )
    leaves = "x.serial %% 97 = 5"
    leave_on = "greatest(date '2012-01-01' + (x.serial * 7 %% 5200)::int, date '2026-06-30' - (x.serial %% 80)::int)"
    counts["employments"] = insert_select(
        Employment,
        {
            "person_id": "p.id", "community_id": "c.id",
            "full_time": "x.i %% 5 <> 4",
            "post": ("CASE WHEN x.serial %% 151 = 0 THEN '' WHEN x.i = 0 THEN 'chief' WHEN x.i < 3 THEN 'deputy' "
                     "ELSE 'other' END"),
            "grade": "CASE WHEN x.serial %% 173 = 0 THEN NULL ELSE 1 + x.serial %% 18 END",
            "entry_on": "date '2012-01-01' + (x.serial * 7 %% 5200)::int",
            "entry_channel": ("CASE WHEN x.serial %% 211 = 0 THEN '' WHEN x.i < 2 THEN 'election' "
                              "ELSE 'recruitment' END"),
            "leave_on": f"CASE WHEN {leaves} THEN {leave_on} END",
            "leave_way": (f"CASE WHEN {leaves} THEN CASE WHEN x.serial %% 2 = 0 THEN 'resignation' "
                          "ELSE 'dismissal' END ELSE '' END"),
            "resignation_submitted_on": (f"CASE WHEN {leaves} AND x.serial %% 2 = 0 "
                                         f"THEN {leave_on} - (x.serial %% 12)::int END"),
            "filed_on": f"CASE WHEN {leaves} AND x.serial %% 3 = 0 THEN {leave_on} END",
        },
        f"{people} AND x.i < y.workers_n",
    )
    events = {}
    for key, title, kind, held in (
        ("general_prev", f"{AS_OF.year - 1}年全员培训", "general", dt.date(AS_OF.year - 1, 6, 1)),
        ("general_now", f"{AS_OF.year}年全员培训", "general", dt.date(AS_OF.year, 3, 1)),
        ("special_prev", f"{AS_OF.year - 1}年书记主任专项培训", "special", dt.date(AS_OF.year - 1, 6, 2)),
        ("special_now", f"{AS_OF.year}年书记主任专项培训", "special", dt.date(AS_OF.year, 3, 2)),
    ):
        events[key] = TrainingEvent.objects.get_or_create(title=title, kind=kind, held_on=held)[0].pk
    workers = f"""FROM {Employment._meta.db_table} e
        JOIN {Person._meta.db_table} p ON p.id = e.person_id
        CROSS JOIN LATERAL (SELECT substr(p.public_id, 2)::bigint AS serial,
                                   substr(p.public_id, 2)::bigint %% 20 AS i) x
        WHERE e.community_id > {int(before)}"""
    counts["trainings"] = 0
    for event, condition in (
        ("general_prev", "x.serial %% 20 <> 3"),
        ("general_now", "x.serial %% 10 <> 1"),
        ("special_prev", "x.i = 0 AND x.serial %% 5 <> 2"),
        ("special_now", "x.i = 0 AND x.serial %% 5 <> 3"),
    ):
        counts["trainings"] += insert_select(
            TrainingAttendance, {"event_id": str(events[event]), "person_id": "p.id"}, f"{workers} AND {condition}",
        )
    counts["assessments"] = insert_select(
        Assessment,
        {
            "person_id": "p.id", "year": str(AS_OF.year - 1),
            "result": "CASE WHEN x.serial %% 10 = 0 THEN 'excellent' ELSE 'competent' END",
            "assessed_on": f"date '{AS_OF.year}-01-15'",
        },
        f"{workers} AND x.serial %% 13 <> 0",
    )
    vacancy = model_or_none("staffing.Vacancy")
    if vacancy is not None:
        counts["vacancies"] = insert_select(
            vacancy,
            {"community_id": "c.id", "body": "'committee'", "role": "'member'",
             "vacated_on": "date '2026-06-30' - (c.id %% 150)::int", "reason": "'辞职'"},
            f"{new} {where} AND c.id %% 37 = 0",
        )
    return counts


def build_district_records(before: int) -> dict[str, int]:
    """The few district-wide rows: salary funding, 监测点, 典型案例 (among communities after ``before``)."""
    from django.db import connection

    from communities.models import Community

    table = Community._meta.db_table

    counts: dict[str, int] = {}
    if installed("funding"):
        from funding.models import SalaryFunding

        for level in ("city", "district"):
            SalaryFunding.objects.get_or_create(year=AS_OF.year, level=level, defaults={"amount": 500_000_000})
        counts["salary rows"] = 2
    point = model_or_none("communities.MonitoringPoint")
    if point is not None:
        counts["monitoring points"] = insert_select(
            point, {"community_id": "c.id", "designated_on": "date '2025-01-10'"},
            f"FROM {table} c WHERE c.id > {int(before)} AND c.id %% 9000 = 1",
        )
    case = model_or_none("communities.TypicalCase")
    if case is not None:
        counts["typical cases"] = insert_select(
            case, {"kind": "(ARRAY['social_org','consultation'])[1 + c.id %% 2]", "title": "'典型案例' || c.id",
                   "community_id": "c.id", "year": str(AS_OF.year - 1)},
            f"FROM {table} c WHERE c.id > {int(before)} AND c.id %% 5000 = 3",
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return counts


def unassigned_compounds(streets_every: int = 20) -> int:
    from communities.models import Compound, SubDistrict

    return insert_select(
        Compound,
        {"code": "'XQU' || lpad(s.id::text, 9, '0')", "name": "s.name || '待划入小区'", "sub_district_id": "s.id",
         "households": "120", "built_on": "date '2024-05-01'", "property_service": "'none'"},
        f"FROM {SubDistrict._meta.db_table} s WHERE s.id %% {streets_every} = 0",
    )


def loading(on: bool) -> None:
    """While loading, foreign keys are not re-checked row by row (the generator builds them right)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SET session_replication_role = {'replica' if on else 'DEFAULT'}")
        cursor.execute(f"SET synchronous_commit = {'off' if on else 'on'}")


# -- measuring ----------------------------------------------------------------


def reset_findings() -> None:
    from django.db import connection

    from compliance.models import Finding, FindingEvent, Sweep

    global TODAY
    TODAY = AS_OF
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (FindingEvent, Finding, Sweep))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")


def live_on_as_of() -> None:
    """The sweeps measured are live ones (they reconcile the findings), as the nightly sweep is: "today" is
    AS_OF. Any other day makes a sweep a replay (its own snapshot, nothing reconciled), which is not what
    the goals are set for. Today follows TODAY (a nightly sweep's next day)."""
    from django.utils import timezone

    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return TODAY if value is None else real(value, timezone)

    timezone.localdate = localdate


def quiet_digest() -> None:
    """The clerks' digest is its own Celery task after a sweep; keep it out of the sweep's time."""
    from compliance import sweeps

    sweeps.queue_digest = lambda sweep_id: None


# Chunks run at once, as in production: the nightly sweep is a Celery chord whose chunks the worker runs
# ``--concurrency 2`` at a time (deploy/systemd/lianhu-worker.service). 1: one after another in this process.
SWEEP_WORKERS = max(1, int(os.environ.get("BENCH_SWEEP_WORKERS", "2") or 2))
STATEMENT_TIMEOUT_MS = 0


def _set_statement_timeout() -> None:
    if STATEMENT_TIMEOUT_MS:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")


def _chunk_in_worker(job: tuple[int, list[str], list[int | None], dt.date]) -> int:
    """One chunk in a pool process, as ``compliance.sweep_chunk`` runs it in a Celery worker; its query count."""
    from compliance import services

    sweep_id, rule_ids, bounds, as_of = job
    with query_counter() as queries:
        services.sweep_chunk_run(sweep_id=sweep_id, rule_ids=rule_ids, bounds=bounds, as_of=as_of)
    return queries["n"]


def _chunks_in_pool(sweep, chunks: list[list[int | None]]) -> int:
    """Every chunk over ``SWEEP_WORKERS`` forked processes (benchenv.in_pool); the queries of all of them."""
    from benchenv import in_pool

    jobs = [(sweep.pk, sweep.rule_ids, bounds, sweep.as_of) for bounds in chunks]
    return sum(in_pool(_chunk_in_worker, jobs, SWEEP_WORKERS, initializer=_set_statement_timeout))


def timed_sweep(label: str, rule_ids: list[str], *, nightly: bool = False, sample_chunks: int = 0,
                budget: float = 0.0) -> dict:
    """One sweep as the nightly task runs it (chunks shared by ``SWEEP_WORKERS`` processes, then finished),
    timed and with its queries counted. ``nightly``: the next day's sweep (TODAY moves on a day first); else
    on the day of the sweep before it (new rules landing during the day).

    With ``sample_chunks``, the first chunks are timed and, if the whole
    sweep is predicted to exceed ``budget`` seconds, the sweep stops there
    (recorded as failed, so nothing is resolved) and the figure is the
    extrapolation: chunks are independent, and each one here is as costly as
    any other, so k of them predict the rest.
    """
    from django.conf import settings

    from compliance import services
    from compliance.models import Sweep

    global TODAY
    if nightly:
        TODAY += dt.timedelta(days=1)
    with query_counter() as queries:
        started = time.perf_counter()
        sweep = services.sweep_start(as_of=TODAY, rule_ids=rule_ids, triggered_by=f"bench: {label}")
        assert sweep.live, "a replay was measured instead of a live sweep (live_on_as_of)"
        # As many chunks at 1,000 communities as at 115,000 (the default gives a small district one chunk), so
        # the whole-sweep query counts of the two sizes compare like for like.
        chunks = services.sweep_plan(sweep=sweep, chunks=settings.COMPLIANCE_SWEEP_CHUNKS)
        community_chunks = chunks[:-1]
        sampled = None
        pooled, pooled_queries = SWEEP_WORKERS > 1, 0
        try:
            if pooled:
                # No sampling: every chunk runs (the national sweeps are well inside the budget).
                pooled_queries, community_chunks = _chunks_in_pool(sweep, chunks), []
            for i, bounds in enumerate(community_chunks):
                services.sweep_chunk_run(sweep_id=sweep.pk, rule_ids=sweep.rule_ids, bounds=bounds, as_of=TODAY)
                if sample_chunks and i + 1 == sample_chunks < len(community_chunks):
                    per_chunk = (time.perf_counter() - started) / sample_chunks
                    predicted = per_chunk * len(community_chunks)
                    if predicted > budget:
                        sampled = (sample_chunks, len(community_chunks), per_chunk, queries["n"])
                        break
            orphan_started = time.perf_counter()
            if not pooled:
                services.sweep_chunk_run(sweep_id=sweep.pk, rule_ids=sweep.rule_ids, bounds=chunks[-1], as_of=TODAY)
            if sampled:
                orphan = time.perf_counter() - orphan_started
                services.sweep_fail(sweep_id=sweep.pk, error="bench: sampled, stopped before the end")
            else:
                services.sweep_finish(sweep_id=sweep.pk)
        except BaseException as exc:
            services.sweep_fail(sweep_id=sweep.pk, error=f"{type(exc).__name__}: {exc}")
            raise
        seconds = time.perf_counter() - started
    if pooled:
        _set_statement_timeout()  # this process's connection was closed for the pool (not a sweep's query)
    sweep = Sweep.objects.get(pk=sweep.pk)
    queries["n"] += pooled_queries
    slowest = sorted(sweep.rule_timings.items(), key=lambda kv: -kv[1])[:3]
    out = {
        "seconds": round(seconds, 2), "queries": queries["n"], "chunks": sweep.chunks_total,
        "opened": sweep.opened, "resolved": sweep.resolved, "still_open": sweep.still_open,
        "errors": [e.get("rule", "") + ": " + e.get("error", "")[:200] for e in sweep.errors
                   if not e.get("error", "").startswith("bench: sampled")],
        "slowest": [f"{rid} {sec:.1f}s" for rid, sec in slowest], "sampled": None,
    }
    if sampled:
        k, total_chunks, per_chunk, sample_queries = sampled
        out["sampled"] = {"chunks": k, "of": total_chunks, "per_chunk": round(per_chunk, 2),
                          "queries_per_chunk": round(sample_queries / k)}
        out["seconds"] = round(per_chunk * total_chunks + orphan, 1)
        out["queries"] = round(sample_queries / k * total_chunks)
        # Per-rule time over the sample, scaled the same way.
        out["slowest"] = [f"{rid} ≈{sec / k * total_chunks:.0f}s" for rid, sec in slowest]
        log(f"sweep {label}: ≈{out['seconds']} s extrapolated from {k} of {total_chunks} chunks "
            f"({per_chunk:.1f} s per chunk); slowest {', '.join(out['slowest'])}")
    else:
        log(f"sweep {label}: {out['seconds']} s, {out['queries']} queries, {out['chunks']} chunks, "
            f"opened {out['opened']}, still open {out['still_open']}; slowest {', '.join(out['slowest'])}")
    for error in out["errors"]:
        log(f"  rule error: {error}")
    return out


def per_community(rule_ids: list[str], pks: list[int]) -> dict:
    """The same rules, one community at a time through the engine (the per-target baseline)."""
    from compliance.engine import evaluate_rules
    from compliance.parameters import params_for_rules
    from compliance.rules import registry

    rules = [r for r in registry.select(rule_ids) if not r.is_district]
    params = params_for_rules(rules, TODAY)
    with query_counter() as q_one:
        started = time.perf_counter()
        for pk in pks:
            evaluate_rules(rules=rules, as_of=TODAY, community_pks=[pk], params=params, catch_errors=True)
        one_by_one = time.perf_counter() - started
    with query_counter() as q_all:
        started = time.perf_counter()
        evaluate_rules(rules=rules, as_of=TODAY, community_pks=pks, params=params, catch_errors=True)
        together = time.perf_counter() - started
    return {"n": len(pks), "one_by_one": one_by_one, "together": together,
            "queries_one_by_one": q_one["n"], "queries_together": q_all["n"]}


def chunk_queries(rule_ids: list[str], pks: list[int]) -> dict[str, tuple[int, int]]:
    """Per rule: (queries, failing targets) of evaluating one chunk of communities."""
    from compliance.engine import evaluate_rules
    from compliance.rules import registry

    out = {}
    for rule in registry.select(rule_ids):
        with query_counter() as q:
            changes = evaluate_rules(rules=[rule], as_of=TODAY, community_pks=pks, catch_errors=True)
        out[rule.id] = (q["n"], len(changes.opened) + len(changes.still_open))
    return out


def rule_groups() -> dict[str, list[str]]:
    from compliance.rules import registry

    def of(*modules: str) -> list[str]:
        return [r.id for r in registry.all() if type(r).__module__.split(".")[0] in modules]

    return {
        "issue3": of("communities"),
        "issue4": of("communities", "facilities", "funding"),
        "all": registry.ids(),
    }


def machine() -> dict[str, str]:
    from django.db import connection

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    import django

    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores (nproc)",
        "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "PostgreSQL": pg,
        "Python / Django": f"{platform.python_version()} / {django.get_version()}",
        "OS": platform.platform(),
    }


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("pass" if ok else "**miss**")


def over(value: float, goal: float) -> str:
    return f" ({value / goal:.1f}× the goal)" if value > goal else ""


def main() -> None:
    scale = float(os.environ.get("BENCH_SCALE", "1") or 1)
    config = database_settings()
    n_communities = max(20, round(FULL_COMMUNITIES * scale))
    n_streets = max(2, round(FULL_STREETS * scale))
    n_small = max(10, min(1000, n_communities // 10))
    begun = time.perf_counter()
    log(f"bench: scale {scale} → {n_communities} communities in {n_streets} 街办, database {config['NAME']}")

    record = existing_build(config, scale) if os.environ.get("BENCH_REUSE") == "1" else None
    import django

    if record is None:
        recreate_database(config)
        django.setup()
        quiet_digest()
        live_on_as_of()
        from django.core.management import call_command

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        log(f"migrated in {time.perf_counter() - started:.1f} s")
        from django.db import connection

        from communities.models import Community

        loading(True)
        groups = rule_groups()

        # Phase 1: a small country, to count the queries of a sweep at a small size.
        started = time.perf_counter()
        build_streets(n_streets)
        counts = build_communities(1, n_small, n_streets)
        counts["unassigned compounds"] = unassigned_compounds()
        counts.update(build_district_records(0))
        log(f"phase 1: {n_small} communities built in {time.perf_counter() - started:.1f} s")
        loading(False)
        small = {}
        for name, ids in groups.items():
            reset_findings()
            small[name] = [timed_sweep(f"{name} first @{n_small}", ids), timed_sweep(f"{name} again @{n_small}", ids)]
        reset_findings()

        # Phase 2: the rest of the country.
        started = time.perf_counter()
        loading(True)
        before = max_id(Community)
        more = build_communities(n_small + 1, n_communities, n_streets)
        more.update(build_district_records(before))
        for key, value in more.items():
            counts[key] = counts.get(key, 0) + value
        loading(False)
        build_seconds = time.perf_counter() - started
        log(f"phase 2: {n_communities - n_small} more communities built in {build_seconds:.1f} s: {counts}")
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_meta (scale float, record jsonb)")
            record = {"counts": counts, "small": small, "n_small": n_small, "build_seconds": build_seconds}
            cursor.execute("INSERT INTO bench_meta VALUES (%s, %s)", [scale, json.dumps(record)])
    else:
        django.setup()
        quiet_digest()
        live_on_as_of()
        log("reusing the bench database built earlier at this scale")
        reset_findings()
        groups = rule_groups()
    counts, small, n_small = record["counts"], record["small"], record["n_small"]

    from communities.models import Community

    pks = list(Community.objects.order_by("pk").values_list("pk", flat=True))
    n_communities = len(pks)
    budget = float(os.environ.get("BENCH_MAX_SWEEP", "240"))
    # A rule whose query runs away at this scale is cancelled and recorded as that rule's error;
    # the sweep goes on, as it does in production when a rule raises.
    timeout = int(float(os.environ.get("BENCH_STATEMENT_TIMEOUT", "120")))
    from django.db import connection

    global STATEMENT_TIMEOUT_MS
    STATEMENT_TIMEOUT_MS = timeout * 1000
    _set_statement_timeout()
    results: dict[str, dict] = {}
    reset_findings()
    # Issue 3's rules from nothing, then the next night's sweep, where findings exist.
    # The same sweep again on the same day, on the same data, counts the statements a sweep needs when nothing
    # changed: those must not grow with the district (the small district's, phase 1).
    results["issue3"] = {"first": timed_sweep(f"issue3 first @{n_communities}", groups["issue3"]),
                         "again": timed_sweep(f"issue3 again @{n_communities}", groups["issue3"]),
                         "repeat": timed_sweep(f"issue3 repeat @{n_communities}", groups["issue3"], nightly=True)}
    subset = pks[:: max(1, n_communities // PER_COMMUNITY_SUBSET)][:PER_COMMUNITY_SUBSET]
    log(f"per-community baseline on {len(subset)} communities …")
    results["per_community"] = per_community(groups["issue3"], subset)
    log(f"  one by one {results['per_community']['one_by_one']:.1f} s, "
        f"together {results['per_community']['together']:.2f} s")
    results["chunk_queries"] = {
        "issue3": [chunk_queries(groups["issue3"], pks[:SMALL_CHUNK]), chunk_queries(groups["issue3"], pks[:2000])]
    }
    # Each later issue's rules join the ones before, as when the issue lands: the first sweep
    # creates the new rules' findings, the next is the nightly one.
    for name, wanted, sample in (("issue4", installed("facilities") or installed("funding"), 3),
                                 ("all", installed("staffing"), 1)):
        if not wanted:
            continue
        results[name] = {
            "first": timed_sweep(f"{name} first @{n_communities}", groups[name], sample_chunks=sample, budget=budget),
        }
        results[name]["again"] = timed_sweep(
            f"{name} again @{n_communities}", groups[name],
            sample_chunks=sample if results[name]["first"]["sampled"] else 0,
            budget=0.0 if results[name]["first"]["sampled"] else budget,
        )
        results[name]["repeat"] = timed_sweep(
            f"{name} repeat @{n_communities}", groups[name], nightly=True,
            # A sampled first sweep created findings in its sampled chunks only: sample the same chunks again.
            sample_chunks=sample if results[name]["first"]["sampled"] else 0,
            budget=0.0 if results[name]["first"]["sampled"] else budget,
        )
    if "all" in results and not results["all"]["repeat"]["errors"]:
        results["chunk_queries"]["all"] = [chunk_queries(groups["all"], pks[:SMALL_CHUNK]),
                                           chunk_queries(groups["all"], pks[:2000])]

    report = render(scale, n_communities, counts, small, n_small, results, groups, time.perf_counter() - begun)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(report, encoding="utf-8")
    (out / "latest.json").write_text(json.dumps({"scale": scale, "counts": counts, "small": small,
                                                 "sweep_workers": SWEEP_WORKERS, "results": results},
                                                ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    print()
    print(report)


def render(scale, n, counts, small, n_small, results, groups, total_seconds) -> str:
    lines = [f"# `make bench` — {time.strftime('%Y-%m-%d %H:%M %Z')}", ""]
    if scale != 1:
        lines += [f"**BENCH_SCALE={scale}: {n} communities, not the national scale the goals are set for.**", ""]
    lines += ["| machine | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in machine().items()] + [""]
    lines += ["Dataset: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()) + f"; first sweeps as of {AS_OF}, each "
              "nightly sweep the day after the sweep before it (and each later first sweep on that day).", ""]
    lines += [f"Sweeps: chunks run {SWEEP_WORKERS} at a time in separate processes (BENCH_SWEEP_WORKERS), as the "
              "Celery worker's `--concurrency 2` runs them in production." if SWEEP_WORKERS > 1 else
              "Sweeps: chunks one after another in one process (BENCH_SWEEP_WORKERS=1).", ""]
    lines += ["| # | figure | measured | goal | result |", "|---|---|---|---|---|"]

    def sweep_rows(key: str, tag: str, title: str, goal: float) -> None:
        if key not in results:
            lines.append(f"| {tag} | {title} | not run (app not installed) | ≤ {goal:.0f} s | — |")
            return
        first, repeat = results[key]["first"], results[key]["repeat"]
        rules = len(groups[key])
        first_label = "first (creates every finding)" if key == "issue3" else "first (creates the new rules' findings)"
        for which, r in (("nightly, the next day (findings exist)", repeat), (first_label, first)):
            errors = f", {len(r['errors'])} rule errors" if r["errors"] else ""
            if r.get("sampled"):
                sm = r["sampled"]
                figure = (f"≈ {r['seconds']:,.0f} s, extrapolated: {sm['chunks']} of {sm['of']} chunks timed, "
                          f"{sm['per_chunk']:.1f} s and {sm['queries_per_chunk']} queries per chunk{errors}")
            else:
                figure = (f"{r['seconds']:.1f} s ({r['chunks']} chunks, {r['queries']:,} queries, "
                          f"{r['still_open']:,} open{errors})")
            lines.append(
                f"| {tag} | {title}, {rules} rules, {n:,} communities — {which} | {figure} | ≤ {goal:.0f} s "
                f"| {verdict(r['seconds'] <= goal and not r['errors'])}{over(r['seconds'], goal)} |"
            )

    sweep_rows("issue3", "a", "Sweep of the communities/compounds rules (issue 3)", GOAL_SWEEP_3)
    pc = results.get("per_community")
    if pc:
        per_target = pc["one_by_one"] / pc["n"]
        extrapolated = per_target * n
        engine = results["issue3"]["repeat"]["seconds"]
        ratio = extrapolated / engine if engine else 0
        lines.append(
            f"| b | Same rules one community at a time through the ORM: {pc['n']:,} communities took "
            f"{pc['one_by_one']:.1f} s ({pc['queries_one_by_one']:,} queries) → {extrapolated:,.0f} s for {n:,}; "
            f"engine sweep {engine:.1f} s | **{ratio:.0f}×** faster (same {pc['n']:,}: "
            f"{pc['one_by_one'] / pc['together']:.0f}×, {pc['queries_together']} queries) | ≥ {GOAL_RATIO:.0f}× "
            f"| {verdict(ratio >= GOAL_RATIO)} |"
        )
    cq = results.get("chunk_queries", {})
    for key, label in (("issue3", "issue-3 rules"), ("all", "every rule")):
        if key in cq:
            small_chunk, big_chunk = cq[key]
            # A rule with no failing target in a chunk skips its bookkeeping queries: compare like with like.
            both = [r for r in small_chunk if small_chunk[r][1] and big_chunk[r][1]]
            a = sum(small_chunk[r][0] for r in both)
            b = sum(big_chunk[r][0] for r in both)
            differ = [f"{r} {small_chunk[r][0]}→{big_chunk[r][0]}" for r in both if small_chunk[r][0] != big_chunk[r][0]]
            skipped = len(small_chunk) - len(both)
            note = f"; {skipped} rules with nothing failing in one chunk left out" if skipped else ""
            lines.append(f"| c | Queries of one sweep chunk, {label}: {SMALL_CHUNK:,} vs 2,000 communities "
                         f"({len(both)} rules){note} | {a} vs {b}" + (f" ({', '.join(differ)})" if differ else "")
                         + f" | equal | {verdict(a == b)} |")
    for key, label in (("issue3", "issue-3 rules"), ("all", "every rule")):
        if key in small and key in results and not results[key]["repeat"].get("sampled"):
            s_first, s_again = small[key]
            first, again = results[key]["first"], results[key]["again"]
            lines.append(
                f"| c | Queries of a whole sweep, {label}: {n_small:,} vs {n:,} communities | again on the same day "
                f"{s_again['queries']:,} vs {again['queries']:,}; first {s_first['queries']:,} vs {first['queries']:,} "
                f"({s_again['chunks']} vs {again['chunks']} chunks) | equal | "
                + (verdict(s_again["queries"] == again["queries"]) if s_again["chunks"] == again["chunks"] else
                   "**miss**: one fixed set of queries per 2,000-community chunk "
                   f"(+{(again['queries'] - s_again['queries']) / (again['chunks'] - s_again['chunks']):.0f} "
                   "per extra chunk)")
                + " |"
            )
    sweep_rows("issue4", "d", "Sweep including facilities and funding rules (issue 4)", GOAL_SWEEP_4)
    sweep_rows("all", "e", "Sweep of every rule (issue 5)", GOAL_SWEEP_ALL)
    errors = sorted({e for r in results.values() if isinstance(r, dict) and "repeat" in r
                     for run in (r["first"], r["repeat"]) for e in run["errors"]})
    if errors:
        lines += ["", "Rule errors (the sweep recorded them and went on):", ""] + [f"- {e}" for e in errors]
    lines += ["", f"Total bench run time: {total_seconds / 60:.1f} min. Slowest rules (nightly sweep of every rule): "
              + ", ".join(results.get("all", results.get("issue3", {})).get("repeat", {}).get("slowest", []))]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
