"""Spreadsheet benchmark (issue 7): imports through the full framework, exports through core.writer.

Standalone:  .venv/bin/python bench/sheets_bench.py   (PostgreSQL, DATABASE_URL default
postgres:///lianhu_sheets_bench — dropped and rebuilt; SHEETS_SCALE=0.1 for a tenth of the rows;
SHEETS_EXPORT_ROWS for the export size, default 1,000,000).

From bench/run.py:  ``import sheets_bench; lines = sheets_bench.run(scale)`` after Django is set up on
a bench database; it returns Markdown lines for the report. It adds its own 街办 (codes 9xxxxxxxx)
and rows, so it does not disturb the national dataset's figures.

Measured:
* import of a 人员 workbook (100,000 rows) and a 社区 workbook (115,000 rows) with full validation,
  creating, then the same 社区 workbook again with changed figures (updating);
* export of the compliance workbook and of the people ledger at SHEETS_EXPORT_ROWS rows: rows/s,
  peak memory of the process doing it (a forked child: ru_maxrss) and the speed ratio to writing the
  same rows (same query) with bare xlsxwriter in constant-memory mode.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Django is set up only once the script runs
    from imports.services import ImportResult

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COMMUNITY_ROWS = 115_000
PERSON_ROWS = 100_000
EXPORT_ROWS = 1_000_000
STREETS = 1_000
GOALS = {"create": 10_000, "update": 3_000, "export": 10_000, "memory_mb": 200, "ratio": 0.7}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] sheets: {message}", flush=True)


def _street_code(i: int) -> str:
    return f"9{i:08d}"


def build_streets(n: int) -> None:
    from communities.models import SubDistrict
    from communities.services import sub_district_upsert

    have = set(SubDistrict.objects.filter(code__startswith="9").values_list("code", flat=True))
    for i in range(n):
        if _street_code(i) not in have:
            sub_district_upsert(code=_street_code(i), name=f"基准街道{i:05d}")


def community_workbook(path: Path, rows: int, streets: int, households_bump: int = 0) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("社区")
    headers = ["社区代码", "社区名称", "街道办事处", "户数", "常住人口", "成立日期", "党组织类型", "东至", "南至", "西至",
               "北至", "社会组织数", "环境和物业管理委员会"]
    ws.write_row(0, 0, headers)
    per_street = -(-rows // streets)
    for i in range(rows):
        street = i // per_street
        code = f"{_street_code(street)}{i % per_street + 1:03d}"
        ws.write_row(i + 1, 0, [code, f"基准社区{i}", _street_code(street), 1000 + i % 2000 + households_bump,
                                3000 + i % 5000 + households_bump, "2001-05-01", "党支部", "东路", "南路", "西路", "北路",
                                5 + i % 10, "是"])
    book.close()


def person_workbook(path: Path, rows: int, communities: list[str]) -> None:
    import xlsxwriter

    from staffing.idnumbers import make_valid

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("人员")
    headers = ["身份证号", "姓名", "社区代码", "社区工作者", "专职", "党组织职务", "居委会职务", "岗位", "等级", "学历",
               "入职日期", "入职方式", "离职日期", "离职申请日期", "离职方式", "备案日期"]
    ws.write_row(0, 0, headers)
    for i in range(rows):
        born = dt.date(1970, 1, 1) + dt.timedelta(days=i // 1000)
        number = make_valid(f"610104{born:%Y%m%d}{i % 1000:03d}")
        ws.write_row(i + 1, 0, [number, f"基准人员{i}", communities[i % len(communities)], "是", "是", "", "", "其他",
                                5 + i % 10, "本科", "2020-01-01", "公开招聘", "", "", "", ""])
    book.close()


def timed_import(path: Path) -> tuple[float, float, ImportResult]:
    """(seconds for the whole import, of which re-judging the rules after commit, result).

    The import's own figure is the rest: reading, checking every row and writing it, up to the commit — what
    the clerk waits for before the data is in. The re-judge of everything it touched then runs after the
    commit (in the same Celery task for a web upload), timed separately."""
    import compliance.services
    from imports.services import workbook_import

    original = compliance.services.reevaluate
    spent = [0.0]

    def timed(*args, **kwargs):
        begin = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - begin

    compliance.services.reevaluate = timed  # onsave looks it up at call time
    try:
        start = time.perf_counter()
        result = workbook_import(file=path)
        return time.perf_counter() - start, spent[0], result
    finally:
        compliance.services.reevaluate = original


def profile_import(path: Path, limit: int = 25) -> str:
    import cProfile
    import io
    import pstats

    from imports.services import workbook_import

    profiler = cProfile.Profile()
    profiler.enable()
    workbook_import(file=path, dry_run=True)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


# -- exports -------------------------------------------------------------------


def build_export_rows(n: int) -> None:
    """n open findings and n people (with a job) in the bench 街办, written with INSERT … SELECT."""
    from django.db import connection

    from communities.models import Community
    from staffing import idcrypto

    communities = list(Community.objects.filter(sub_district__code__startswith="9").order_by("id")
                       .values_list("id", "sub_district_id")[:5000])
    if not communities:
        raise SystemExit("sheets: no bench communities to hang the export rows on")
    first, count = communities[0][0], len(communities)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM compliance_finding WHERE rule_id = 'BENCH.sheets'")
        have = cursor.fetchone()[0]
        if have < n:
            cursor.execute(
                """INSERT INTO compliance_finding (rule_id, clause, target_type, target_key, target_pk, community_id,
                       sub_district_code, severity, measured, required, message, responsible_unit, status, first_seen,
                       last_seen, opened_at, waived_reason)
                   SELECT 'BENCH.sheets', 1 + g %% 20, 'community', 'K' || g, g, c.id, c.sub_district_code,
                          (ARRAY['violation','warning','notice'])[1 + g %% 3], to_jsonb(g %% 1000), to_jsonb(1000),
                          '基准问题 ' || g || '：实测低于应达', '', 'open', DATE '2025-01-01', DATE '2025-06-30', now(), ''
                   FROM generate_series(%s, %s) g
                   JOIN communities_community c ON c.id = %s + g %% %s""",
                [have + 1, n, first, count],
            )
        cursor.execute("SELECT count(*) FROM staffing_person WHERE name LIKE 'E%%'", [])
        have = cursor.fetchone()[0]
        if have < n:
            cursor.execute(
                """INSERT INTO staffing_person (public_id, id_number, id_number_hash, name, birth_date, sex, education,
                       phone, community_id)
                   SELECT 'E' || lpad(g::text, 11, '0'), %s, encode(sha256(('E-' || g)::bytea), 'hex'), 'E基准' || g,
                          DATE '1980-01-01' + g %% 9000, CASE WHEN g %% 2 = 0 THEN 'F' ELSE 'M' END, '本科', '',
                          %s + g %% %s
                   FROM generate_series(%s, %s) g""",
                # Ciphertext is made in Python: every bench person carries the same encrypted number.
                [idcrypto.encrypt("610104198001010018"), first, count, have + 1, n],
            )
            cursor.execute(
                """INSERT INTO staffing_employment (person_id, community_id, full_time, post, grade, entry_on,
                       entry_channel, leave_way)
                   SELECT p.id, p.community_id, true, 'other', 1 + p.id %% 18, DATE '2020-01-01', 'recruitment', ''
                   FROM staffing_person p
                   WHERE p.name LIKE 'E%%' AND NOT EXISTS (SELECT 1 FROM staffing_employment e WHERE e.person_id = p.id)""",
                [],
            )
        cursor.execute("ANALYZE")


def _in_child(name: str) -> dict:
    """Run the export ``name`` in a fresh interpreter; its result and peak RSS (MB).

    Not a fork: a forked child inherits the parent's memory (the imports above leave it at hundreds of MB,
    which ru_maxrss then counts) and its open files."""
    import json
    import subprocess

    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", name], capture_output=True,
                          text=True, env=os.environ.copy(), check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]}
    return json.loads(lines[-1])


def _child(name: str) -> None:
    """The child's side of _in_child: Django on the bench database, one export, JSON on the last line."""
    import json

    import django

    django.setup()
    from django.contrib.auth import get_user_model

    if name == "people":
        result = export_people(get_user_model().objects.filter(is_superuser=True).order_by("pk").first())
    else:
        result = {"people_bare": export_people_bare, "compliance": export_compliance,
                  "compliance_bare": export_compliance_bare}[name]()
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def export_people(user) -> dict:
    from core.writer import XlsxBook
    from staffing.ledgers import people_ledger

    start = time.perf_counter()
    path = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    book = XlsxBook(path)
    data = people_ledger(user)
    sheet = book.sheet(data.title, data.columns)
    sheet.extend(data.rows)
    book.close()
    seconds = time.perf_counter() - start
    size = path.stat().st_size
    path.unlink()
    return {"rows": sheet.rows_written, "seconds": seconds, "bytes": size, "sheets": len(book.book.worksheets())}


def export_people_bare() -> dict:
    """The same rows, same query shape, written with bare xlsxwriter (no type dispatch, no safety, no labels)."""
    import xlsxwriter

    from staffing.models import Person

    start = time.perf_counter()
    path = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("人员")
    rows = Person.objects.order_by("pk").values_list("public_id", "name", "id_number", "sex", "birth_date",
                                                    "education", "community__code", "community__name",
                                                    "community__sub_district__name")
    n = 0
    for values in rows.iterator(chunk_size=5000):
        n += 1
        if n >= 1_048_576:  # a new sheet past Excel's last row (reassigning enumerate's counter did not stick)
            ws, n = book.add_worksheet(), 1
        ws.write_row(n, 0, values)
    book.close()
    seconds = time.perf_counter() - start
    path.unlink()
    return {"seconds": seconds}


def export_compliance() -> dict:
    from compliance.workbook import write_compliance_workbook
    from core.writer import XlsxBook

    start = time.perf_counter()
    path = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    book = XlsxBook(path)
    written = write_compliance_workbook(book, as_of=dt.date(2025, 6, 30))
    book.close()
    seconds = time.perf_counter() - start
    path.unlink()
    return {"rows": sum(written.values()), "seconds": seconds}


def export_compliance_bare() -> dict:
    import xlsxwriter

    from compliance.models import Finding

    start = time.perf_counter()
    path = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheets = {n: book.add_worksheet(f"措施{n}") for n in range(1, 21)}
    rows_at = dict.fromkeys(sheets, 0)
    rows = Finding.objects.filter(status="open").order_by("clause", "sub_district_id", "community__code",
                                                          "rule_id", "target_key").values_list(
        "clause", "community__code", "community__name", "sub_district__name", "target_type", "target_key",
        "rule_id", "severity", "measured", "required", "message", "first_seen")
    for values in rows.iterator(chunk_size=5000):
        clause = values[0]
        rows_at[clause] += 1
        sheets[clause].write_row(rows_at[clause], 0, values[1:])
    book.close()
    seconds = time.perf_counter() - start
    path.unlink()
    return {"seconds": seconds}


# -- the run -------------------------------------------------------------------


def run(scale: float = 1.0, export_rows: int | None = None, profile: bool = True) -> list[str]:
    from django.contrib.auth import get_user_model

    from communities.models import Community

    lines = ["## Spreadsheets (issue 7)", ""]
    n_communities = max(int(COMMUNITY_ROWS * scale), 100)
    n_people = max(int(PERSON_ROWS * scale), 100)
    streets = max(int(STREETS * scale), 10)
    export_rows = export_rows or int(os.environ.get("SHEETS_EXPORT_ROWS", EXPORT_ROWS))
    work = Path(tempfile.mkdtemp(prefix="sheets-bench-"))
    log(f"building {streets} 街办")
    build_streets(streets)

    results = []
    skip_import = os.environ.get("SHEETS_SKIP_IMPORT") == "1"  # exports only, on an earlier run's data
    book = work / "社区.xlsx"
    if not skip_import:
        community_workbook(book, n_communities, streets)
        log(f"importing {n_communities} 社区 rows (create)")
        seconds, rejudge, result = timed_import(book)
        assert result.ok, [str(i) for i in result.issues[:5]]
        results.append(("社区 import, creating", n_communities, seconds, rejudge, GOALS["create"]))

        community_workbook(book, n_communities, streets, households_bump=7)
        log(f"importing {n_communities} 社区 rows (update)")
        seconds, rejudge, result = timed_import(book)
        assert result.ok and len(result.sheet("社区").updated) == n_communities
        results.append(("社区 import, updating", n_communities, seconds, rejudge, GOALS["update"]))

    codes = list(Community.objects.filter(sub_district__code__startswith="9").order_by("code")
                 .values_list("code", flat=True))
    if not skip_import:
        people_book = work / "人员.xlsx"
        person_workbook(people_book, n_people, codes)
        log(f"importing {n_people} 人员 rows (create)")
        seconds, rejudge, result = timed_import(people_book)
        assert result.ok, [str(i) for i in result.issues[:5]]
        results.append(("人员 import, creating", n_people, seconds, rejudge, GOALS["create"]))

    lines += ["| import | rows | import s (read, check, write, commit) | rows/s | goal rows/s | "
              "re-judge after commit s | total s | rows/s incl. re-judge |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, rows, secs, rejudge, goal in results:
        own = secs - rejudge
        lines.append(f"| {name} | {rows:,} | {own:.1f} | {rows / own:,.0f} | {goal:,} | {rejudge:.1f} | {secs:.1f} | "
                     f"{rows / secs:,.0f} |")

    log(f"building {export_rows:,} findings and people for the exports")
    build_export_rows(export_rows)
    admin = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
        "sheets-bench", password=None)
    from accounts.roles import ensure_role_groups

    ensure_role_groups()
    from django.contrib.auth.models import Group

    admin.groups.add(Group.objects.get(name="管理员"))
    log("exporting the people ledger")
    ours = _in_child("people")
    bare = _in_child("people_bare")
    log("exporting the compliance workbook")
    compliance = _in_child("compliance")
    compliance_bare = _in_child("compliance_bare")
    lines += ["", "| export | rows | seconds | rows/s | peak RSS (MB) | bare xlsxwriter s | ratio |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for name, mine, base in (("people ledger", ours, bare), ("compliance workbook", compliance, compliance_bare)):
        if "error" in mine or "error" in base:
            lines.append(f"| {name} | error: {mine.get('error') or base.get('error')} |")
            continue
        lines.append(f"| {name} | {mine['rows']:,} | {mine['seconds']:.1f} | {mine['rows'] / mine['seconds']:,.0f} | "
                     f"{mine['peak_mb']:.0f} | {base['seconds']:.1f} | {base['seconds'] / mine['seconds']:.2f} |")
    lines += ["", f"Goals: import ≥ {GOALS['create']:,} rows/s creating, ≥ {GOALS['update']:,} rows/s updating; "
              f"export ≥ {GOALS['export']:,} rows/s, ≤ {GOALS['memory_mb']} MB at 1,000,000 rows, "
              f"ratio ≥ {GOALS['ratio']}."]
    if profile:
        small = work / "人员-profile.xlsx"
        person_workbook(small, min(n_people, 2000), codes)
        lines += ["", "Where a 人员 import's time goes (2,000 rows, dry run, cProfile cumulative):", "", "```",
                  *profile_import(small).splitlines()[:45], "```"]
    return lines


def main() -> None:
    if sys.argv[1:2] == ["--child"]:  # an export measured in its own process (see _in_child)
        _child(sys.argv[2])
        return
    os.environ.setdefault("DATABASE_URL", "postgres:///lianhu_sheets_bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lianhu.settings")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret-" + "x" * 40)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import environ
    import psycopg

    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "bench" not in (config["NAME"] or ""):
        sys.exit("sheets bench: the database name must contain 'bench' (it is dropped)")
    if os.environ.get("SHEETS_REUSE") != "1":
        with psycopg.connect(dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    scale = float(os.environ.get("SHEETS_SCALE", "1"))
    lines = run(scale)
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "bench-results" / "sheets.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
