"""Spreadsheet benchmark (issue 7): imports through the full framework, exports through core.writer.

Standalone:  .venv/bin/python bench/sheets_bench.py   (PostgreSQL, DATABASE_URL default
postgres:///lianhu_sheets_bench — dropped and rebuilt; SHEETS_SCALE=0.1 for a tenth of the rows;
SHEETS_EXPORT_ROWS for the export size, default 1,000,000; SHEETS_SKIP_PEER=1 leaves out the django-import-export
runs, whose validated import takes about 100 rows/s: some 20 minutes at full scale).

From bench/run.py:  ``import sheets_bench; lines = sheets_bench.run(scale)`` after Django is set up on
a bench database; it returns Markdown lines for the report. It adds its own 街办 (codes 9xxxxxxxx)
and rows, so it does not disturb the national dataset's figures.

Measured:
* import of a 社区 workbook (115,000 rows) with full validation, creating, then the same workbook again with
  changed figures (updating); a 小区 workbook (115,000 rows); a 人员 workbook (100,000 rows) creating, then
  20,000 of those people again with another grade and education (updating recorded people);
* the same 社区 workbook through a django-import-export ModelResource in bulk mode, with clean_model_instances
  and without validation, each rolled back before ours writes the same rows; the 社区 rows exported by
  core.writer and by the Resource with import-export's XLSX format (issue 17, item 4);
* every figure by the wall clock and per CPU second of the process and its PostgreSQL session, and one table
  of goals, figures, ratios and pass/miss;
* export of the compliance workbook and of the people ledger at SHEETS_EXPORT_ROWS rows: rows/s,
  peak memory of the process doing it (a fresh interpreter: its VmHWM, benchenv.peak_rss_mb) and the speed
  ratio to writing the same rows (same query) with bare xlsxwriter in constant-memory mode.
"""

from __future__ import annotations

import datetime as dt
import json
import os
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
PERSON_UPDATE_ROWS = 20_000  # 人员 rows of people already recorded (the first of the created ones, changed)
EXPORT_ROWS = 1_000_000
STREETS = 1_000
GOALS = {"create": 10_000, "update": 3_000, "export": 10_000, "memory_mb": 200, "ratio": 0.7}
# The figures of the last run, for bench/summary.py's one table (bench-results/sheets.json).
RECORD: dict = {"imports": [], "peers": {}, "exports": {}}


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


def person_workbook(path: Path, rows: int, communities: list[str], bump: int = 0) -> None:
    """``bump``: the same people with another grade and education (a file that updates people already recorded)."""
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
                                5 + i % 10 + bump, "硕士" if bump else "本科", "2020-01-01", "公开招聘", "", "", "", ""])
    book.close()


def compound_workbook(path: Path, rows: int, communities: list[str]) -> None:
    """小区 rows, each in one of the bench's 社区 (the 街办 follows from it)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("小区")
    ws.write_row(0, 0, ["小区编号", "小区名称", "社区代码", "户数", "建成日期", "应配建社区用房", "已提供社区用房",
                        "物业服务方式", "管理主体未明确"])
    for i in range(rows):
        ws.write_row(i + 1, 0, [f"BX{i:08d}", f"基准小区{i}", communities[i % len(communities)], 100 + i % 900,
                                "2005-06-01", "是" if i % 3 == 0 else "否", "是" if i % 6 == 0 else "否",
                                "市场化物业", "否"])
    book.close()


# -- django-import-export on the same rows (issue 17, item 4) --------------------------------------------------


def peer_resource(validate: bool):
    """A django-import-export ModelResource for the 社区 sheet's columns in bulk mode: ``use_bulk`` (bulk_create
    in batches), instances never looked up (``force_init_instance``: every row is new, as in this file),
    no diffs; ``clean_model_instances`` runs full_clean() on every instance — Community.clean(), the checks the
    form and our import run — when ``validate``. Widgets read the sheet's labels (党支部, 是/否) and 街办 codes."""
    from import_export import fields, resources, widgets

    from communities.models import Community, PartyOrgType, SubDistrict

    class Label(widgets.Widget):
        def __init__(self, choices):
            super().__init__()
            self.values = {str(label): value for value, label in choices}
            self.labels = {value: str(label) for value, label in choices}

        def clean(self, value, row=None, **kwargs):
            return self.values.get(str(value).strip(), value)

        def render(self, value, obj=None, **kwargs):
            return self.labels.get(value, value)

    yes_no = Label([(True, "是"), (False, "否")])
    text = widgets.CharWidget()
    number = widgets.IntegerWidget()
    day = widgets.DateWidget("%Y-%m-%d")

    class CommunityResource(resources.ModelResource):
        code = fields.Field("code", "社区代码", widget=text)
        name = fields.Field("name", "社区名称", widget=text)
        sub_district = fields.Field("sub_district", "街道办事处", widget=widgets.ForeignKeyWidget(SubDistrict, "code"))
        households = fields.Field("households", "户数", widget=number)
        population = fields.Field("population", "常住人口", widget=number)
        founded_on = fields.Field("founded_on", "成立日期", widget=day)
        party_org_type = fields.Field("party_org_type", "党组织类型", widget=Label(PartyOrgType.choices))
        east = fields.Field("east", "东至", widget=text)
        south = fields.Field("south", "南至", widget=text)
        west = fields.Field("west", "西至", widget=text)
        north = fields.Field("north", "北至", widget=text)
        social_org_count = fields.Field("social_org_count", "社会组织数", widget=number)
        has_property_committee = fields.Field("has_property_committee", "环境和物业管理委员会", widget=yes_no)

        class Meta:
            model = Community
            fields = ("code", "name", "sub_district", "households", "population", "founded_on", "party_org_type",
                      "east", "south", "west", "north", "social_org_count", "has_property_committee")
            import_id_fields = ("code",)
            use_bulk = True
            batch_size = 1000
            force_init_instance = True
            skip_diff = True
            clean_model_instances = validate

    return CommunityResource()


def peer_import(path: Path, validate: bool) -> dict:
    """The 社区 workbook through django-import-export, read as its admin reads an .xlsx (its XLSX format), in a
    transaction rolled back afterwards so our import then writes the very same rows."""
    from django.db import transaction
    from import_export.formats.base_formats import XLSX

    start, start_cpu = time.perf_counter(), cpu_seconds()
    dataset = XLSX().create_dataset(path.read_bytes())
    read = time.perf_counter() - start
    with transaction.atomic():
        result = peer_resource(validate).import_data(dataset, dry_run=False, use_transactions=True,
                                                     raise_errors=False)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
        errors = len(result.invalid_rows) + len(result.row_errors())
        transaction.set_rollback(True)
    return {"rows": len(dataset), "seconds": seconds, "read": read, "errors": errors, "cpu": cpu}


def export_communities_ours(path: Path) -> tuple[int, float, float]:
    """The bench's 社区 rows in the 社区 sheet's columns, written by core.writer (the ledgers' writer)."""
    from communities.models import Community, PartyOrgType
    from core.writer import DATE, NUMBER, Col, XlsxBook

    party = {value: str(label) for value, label in PartyOrgType.choices}
    start, start_cpu = time.perf_counter(), cpu_seconds()
    book = XlsxBook(path)
    sheet = book.sheet("社区", [Col("社区代码"), Col("社区名称"), Col("街道办事处"), Col("户数", NUMBER),
                                Col("常住人口", NUMBER), Col("成立日期", DATE), "党组织类型", "东至", "南至", "西至",
                                "北至", Col("社会组织数", NUMBER), "环境和物业管理委员会"])
    rows = (Community.objects.filter(sub_district__code__startswith="9").order_by("code").values_list(
        "code", "name", "sub_district_id", "households", "population", "founded_on", "party_org_type", "east",
        "south", "west", "north", "social_org_count", "has_property_committee"))
    sheet.extend([*values[:6], party.get(values[6], values[6]), *values[7:12], "是" if values[12] else "否"]
                 for values in rows.iterator(chunk_size=5000))
    book.close()
    return sheet.rows_written, time.perf_counter() - start, cpu_seconds() - start_cpu


def export_communities_peer(path: Path) -> tuple[int, float, float]:
    """The same rows through the same Resource's export and import-export's XLSX format."""
    from import_export.formats.base_formats import XLSX

    from communities.models import Community

    start, start_cpu = time.perf_counter(), cpu_seconds()
    dataset = peer_resource(True).export(
        Community.objects.filter(sub_district__code__startswith="9").order_by("code").select_related("sub_district"))
    path.write_bytes(XLSX().export_data(dataset))
    return len(dataset), time.perf_counter() - start, cpu_seconds() - start_cpu


def cpu_seconds() -> float:
    """CPU seconds so far of this process and of its PostgreSQL backend (read from /proc: same machine).

    On the shared machine (load 10 and more while other work runs) wall-clock rates say more about the
    neighbours than about the import; the CPU the import and its database session spent is what an idle
    machine would need, as the two mostly take turns."""
    own = time.process_time()
    from django.db import connection

    if connection.vendor != "postgresql":
        return own
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return own
    return own + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The re-judge after a large import is a sweep of the rules concerned (compliance.rejudge._sweep_instead), which
# production queues for the Celery worker: its chunks run ``--concurrency 2`` at a time, as the nightly sweep's
# do (bench/run.py). 1: one after another in this process, as Celery's eager mode does in `make run`.
SWEEP_WORKERS = max(1, int(os.environ.get("BENCH_SWEEP_WORKERS", "2") or 2))


def _rejudge_chunk(job: tuple[int, list[str], list[int | None], str]) -> None:
    from compliance.sweeps import sweep_chunk_run

    sweep_id, rule_ids, bounds, as_of = job
    sweep_chunk_run(sweep_id=sweep_id, rule_ids=rule_ids, bounds=bounds, as_of=dt.date.fromisoformat(as_of))


def pooled_sweep_run(*, as_of: dt.date | None = None, chunks: int | None = None, rule_ids=None,
                     triggered_by: str = ""):
    """compliance.sweeps.sweep_run as the worker runs the sweep a large re-judge queues (nightly_sweep's chord):
    the same start, plan and finish, the chunks ``SWEEP_WORKERS`` at a time in forked processes."""
    from benchenv import in_pool
    from django.utils import timezone

    from compliance import sweeps

    as_of = as_of or timezone.localdate()
    sweep = sweeps.sweep_start(as_of=as_of, rule_ids=rule_ids, triggered_by=triggered_by)
    try:
        plan = sweeps.sweep_plan(sweep=sweep, chunks=chunks)
        in_pool(_rejudge_chunk, [(sweep.pk, sweep.rule_ids, bounds, as_of.isoformat()) for bounds in plan],
                SWEEP_WORKERS)
        return sweeps.sweep_finish(sweep_id=sweep.pk)
    except BaseException as exc:
        sweeps.sweep_fail(sweep_id=sweep.pk, error=f"{type(exc).__name__}: {exc}")
        raise


def importer():
    """Who the benchmark imports as: an administrator, as every upload names a user (its history rows name them;
    an import without a user is only the command line's)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    return users.filter(username="sheets-importer").first() or users.create_superuser("sheets-importer",
                                                                                     password=None)


def timed_import(path: Path) -> tuple[float, float, ImportResult, float]:
    """Import a workbook: (total s, of which re-judging after commit s, result, the import's own CPU s).

    The import's own figure is the rest: reading, checking every row and writing it, up to the commit — what
    the clerk waits for before the data is in. The re-judge of everything it touched then runs after the
    commit (queued for the worker by a web upload), timed separately. CPU: this process and its database
    session (cpu_seconds) up to the re-judge; the pooled re-judge's processes are not counted (nor needed:
    its figure is the wall clock)."""
    import compliance.rejudge
    from imports.services import workbook_import

    user = importer()  # before the clock: one query
    original = compliance.rejudge.rejudge_now
    spent = [0.0, 0.0]
    judging: list[float] = []  # the CPU reading when the first re-judge began

    def timed(*args, **kwargs):
        begin = time.perf_counter()
        if not judging:
            judging.append(cpu_seconds())
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - begin

    compliance.rejudge.rejudge_now = timed  # the on-commit step looks it up at call time
    sweep_run = compliance.rejudge.sweep_run
    if SWEEP_WORKERS > 1:
        compliance.rejudge.sweep_run = pooled_sweep_run
    try:
        start, start_cpu = time.perf_counter(), cpu_seconds()
        result = workbook_import(file=path, user=user)
        seconds = time.perf_counter() - start
        # The pool closed this process's database session, so a reading after the re-judge would be another
        # backend's: the import's CPU ends where the first re-judge began.
        return seconds, spent[0], result, (judging[0] if judging else cpu_seconds()) - start_cpu
    finally:
        compliance.rejudge.rejudge_now = original
        compliance.rejudge.sweep_run = sweep_run


def profile_import(path: Path, limit: int = 25) -> str:
    import cProfile
    import io
    import pstats

    from imports.services import workbook_import

    profiler = cProfile.Profile()
    profiler.enable()
    workbook_import(file=path, user=importer(), dry_run=True)
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

    Not a fork: a forked child inherits the parent's memory (the imports above leave it at hundreds of MB) and
    its open files. Its peak is VmHWM (benchenv.peak_rss_mb), which exec does not carry over."""
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
    from benchenv import peak_rss_mb

    result["peak_mb"] = peak_rss_mb()
    print(json.dumps(result))


def export_people(user) -> dict:
    from core.writer import XlsxBook
    from staffing.ledgers import people_ledger

    start, cpu = time.perf_counter(), cpu_seconds()
    path = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    book = XlsxBook(path)
    data = people_ledger(user)
    sheet = book.sheet(data.title, data.columns)
    sheet.extend(data.rows)
    book.close()
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    size = path.stat().st_size
    path.unlink()
    return {"rows": sheet.rows_written, "seconds": seconds, "cpu": cpu, "bytes": size, "sheets": len(book.book.worksheets())}


def export_people_bare() -> dict:
    """The same rows, same query shape, written with bare xlsxwriter (no type dispatch, no safety, no labels)."""
    import xlsxwriter

    from staffing.models import Person

    start, cpu = time.perf_counter(), cpu_seconds()
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
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    path.unlink()
    return {"seconds": seconds, "cpu": cpu}


def export_compliance() -> dict:
    from compliance.workbook import write_compliance_workbook
    from core.writer import XlsxBook

    start, cpu = time.perf_counter(), cpu_seconds()
    path = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    book = XlsxBook(path)
    written = write_compliance_workbook(book, as_of=dt.date(2025, 6, 30))
    book.close()
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    path.unlink()
    return {"rows": sum(written.values()), "seconds": seconds, "cpu": cpu}


def export_compliance_bare() -> dict:
    import xlsxwriter

    from compliance.models import Finding

    start, cpu = time.perf_counter(), cpu_seconds()
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
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    path.unlink()
    return {"seconds": seconds, "cpu": cpu}


# -- the run -------------------------------------------------------------------


def peer_lines(peers: dict[str, dict]) -> list[str]:
    """The django-import-export runs on the same rows, figure by figure."""
    lines = ["| same rows | rows | read s | total s | rows/s | CPU s (app + PostgreSQL session) | rows per CPU s "
             "| rows refused |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for key, name in (("import_True", "社区 import, bulk, clean_model_instances=True"),
                      ("import_False", "社区 import, bulk, no validation")):
        if key in peers:
            p = peers[key]
            lines.append(f"| {name} | {p['rows']:,} | {p['read']:.1f} | {p['seconds']:.1f} | "
                         f"{p['rows'] / p['seconds']:,.0f} | {p['cpu']:.1f} | {p['rows'] / p['cpu']:,.0f} | {p['errors']} |")
    for key, name in (("export_ours", "社区 export, ours (core.writer)"),
                      ("export_peer", "社区 export, import-export Resource + XLSX format")):
        if key in peers:
            p = peers[key]
            lines.append(f"| {name} | {p['rows']:,} | – | {p['seconds']:.1f} | {p['rows'] / p['seconds']:,.0f} | "
                         f"{p['cpu']:.1f} | {p['rows'] / p['cpu']:,.0f} | – |")
    return lines


def summary_table(results: list[tuple], peers: dict[str, dict]) -> list[str]:
    """One table: each goal of this bench, the figure, the ratio (to the goal, or to django-import-export on the
    same rows) and pass/miss. Import figures are the import's own time (read, check, write, commit); each is given
    by the wall clock (what the goal names) and per CPU second of the app and its PostgreSQL session (what an idle
    machine would need: on the shared machine the wall clock mostly measures the neighbours). Pass/miss goes by
    the wall clock."""
    wall = {name: rows / (secs - rejudge) for name, rows, secs, rejudge, _goal, _cpu in results}
    per_cpu = {name: rows / cpu for name, rows, _secs, _rejudge, _goal, cpu in results}
    lines = ["| goal | figure (wall clock) | rows per CPU s | ratio (wall; CPU) | result (wall) |", "|---|---:|---:|---:|---|"]
    for name, _rows, _secs, _rejudge, goal, _cpu in results:
        lines.append(f"| {name} ≥ {goal:,} rows/s | {wall[name]:,.0f} rows/s | {per_cpu[name]:,.0f} | "
                     f"{wall[name] / goal:.2f}; {per_cpu[name] / goal:.2f} × goal | "
                     f"{'pass' if wall[name] >= goal else 'miss'} |")

    def versus(name: str, mine: tuple[float, float], key: str, goal: bool) -> None:
        theirs = (peers[key]["rows"] / peers[key]["seconds"], peers[key]["rows"] / peers[key]["cpu"])
        ratio = (mine[0] / theirs[0], mine[1] / theirs[1])
        verdict = ("pass" if ratio[0] > 1 else "miss") if goal else "(stated, no goal)"
        lines.append(f"| {name} | {mine[0]:,.0f} vs {theirs[0]:,.0f} rows/s | {mine[1]:,.0f} vs {theirs[1]:,.0f} | "
                     f"{ratio[0]:.2f}; {ratio[1]:.2f} | {verdict} |")

    ours = "社区 import, creating"
    if ours in wall:
        for key, name, goal in (("import_True", "社区 import ahead of import-export bulk, clean_model_instances=True",
                                 True),
                                ("import_False", "社区 import against import-export bulk without validation", False)):
            if key in peers:
                versus(name, (wall[ours], per_cpu[ours]), key, goal)
    if "export_ours" in peers and "export_peer" in peers:
        mine = peers["export_ours"]
        versus("社区 export ahead of import-export's XLSX", (mine["rows"] / mine["seconds"], mine["rows"] / mine["cpu"]),
               "export_peer", True)
    return lines


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
    peers: dict[str, dict] = {}
    skip_import = os.environ.get("SHEETS_SKIP_IMPORT") == "1"  # exports only, on an earlier run's data
    book = work / "社区.xlsx"
    if not skip_import:
        community_workbook(book, n_communities, streets)
        if os.environ.get("SHEETS_SKIP_PEER") != "1":
            for validate in (True, False):
                log(f"importing {n_communities} 社区 rows through django-import-export (bulk, "
                    f"clean_model_instances={validate}), rolled back")
                peers[f"import_{validate}"] = peer_import(book, validate)
        log(f"importing {n_communities} 社区 rows (create)")
        seconds, rejudge, result, cpu = timed_import(book)
        assert result.ok, [str(i) for i in result.issues[:5]]
        results.append(("社区 import, creating", n_communities, seconds, rejudge, GOALS["create"], cpu))

        community_workbook(book, n_communities, streets, households_bump=7)
        log(f"importing {n_communities} 社区 rows (update)")
        seconds, rejudge, result, cpu = timed_import(book)
        assert result.ok and len(result.sheet("社区").updated) == n_communities
        results.append(("社区 import, updating", n_communities, seconds, rejudge, GOALS["update"], cpu))

    codes = list(Community.objects.filter(sub_district__code__startswith="9").order_by("code")
                 .values_list("code", flat=True))
    if not skip_import:
        compounds_book = work / "小区.xlsx"
        n_compounds = n_communities
        compound_workbook(compounds_book, n_compounds, codes)
        log(f"importing {n_compounds} 小区 rows (create)")
        seconds, rejudge, result, cpu = timed_import(compounds_book)
        assert result.ok, [str(i) for i in result.issues[:5]]
        results.append(("小区 import, creating", n_compounds, seconds, rejudge, GOALS["create"], cpu))

        people_book = work / "人员.xlsx"
        person_workbook(people_book, n_people, codes)
        log(f"importing {n_people} 人员 rows (create)")
        seconds, rejudge, result, cpu = timed_import(people_book)
        assert result.ok, [str(i) for i in result.issues[:5]]
        results.append(("人员 import, creating", n_people, seconds, rejudge, GOALS["create"], cpu))

        n_update = max(int(PERSON_UPDATE_ROWS * scale), 100)
        person_workbook(people_book, n_update, codes, bump=1)
        log(f"importing {n_update} 人员 rows of people already recorded (update)")
        seconds, rejudge, result, cpu = timed_import(people_book)
        assert result.ok and len(result.sheet("人员").updated) == n_update, [str(i) for i in result.issues[:5]]
        results.append(("人员 import, updating recorded people", n_update, seconds, rejudge, GOALS["update"],
                        cpu))

        log("exporting the 社区 rows: ours and django-import-export's XLSX")
        peers["export_ours"] = dict(zip(("rows", "seconds", "cpu"), export_communities_ours(work / "社区-ours.xlsx"),
                                        strict=True))
        peers["export_peer"] = dict(zip(("rows", "seconds", "cpu"), export_communities_peer(work / "社区-peer.xlsx"),
                                        strict=True))

    lines += ["| import | rows | import s (read, check, write, commit) | rows/s | import CPU s (app + its PostgreSQL "
              "session) | rows per CPU s | goal rows/s | re-judge after commit s | total s | rows/s incl. re-judge |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, rows, secs, rejudge, goal, cpu in results:
        own = secs - rejudge
        lines.append(f"| {name} | {rows:,} | {own:.1f} | {rows / own:,.0f} | {cpu:.1f} | {rows / cpu:,.0f} | {goal:,} | "
                     f"{rejudge:.1f} | {secs:.1f} | {rows / secs:,.0f} |")
    from compliance.rejudge import SWEEP_INSTEAD_ABOVE

    lines += ["", f"Re-judging after commit: past {SWEEP_INSTEAD_ABOVE:,} targets a sweep of the rules concerned, its chunks "
              + (f"{SWEEP_WORKERS} at a time in separate processes, as the Celery worker runs the sweep the import "
                 "queues (BENCH_SWEEP_WORKERS)." if SWEEP_WORKERS > 1 else
                 "one after another in this process, as Celery's eager mode runs it (BENCH_SWEEP_WORKERS=1).")]
    if peers:
        lines += ["", *peer_lines(peers)]
    lines += ["", *summary_table(results, peers)]
    RECORD["imports"] = [dict(zip(("name", "rows", "seconds", "rejudge", "goal", "cpu"), r, strict=True)) for r in results]
    RECORD["peers"] = peers
    RECORD["rejudge_workers"] = SWEEP_WORKERS

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
    RECORD["exports"] = {"people": ours, "people_bare": bare, "compliance": compliance,
                         "compliance_bare": compliance_bare}
    lines += ["", "Rows per CPU second count the exporting process and its PostgreSQL session (see cpu_seconds); the "
              "ratio is bare xlsxwriter's time over ours, wall-clock and in CPU.", "",
              "| export | rows | seconds | rows/s | rows per CPU s | peak RSS (MB) | bare xlsxwriter s (CPU s) | ratio "
              "(CPU) |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, mine, base in (("people ledger", ours, bare), ("compliance workbook", compliance, compliance_bare)):
        if "error" in mine or "error" in base:
            lines.append(f"| {name} | error: {mine.get('error') or base.get('error')} |")
            continue
        lines.append(f"| {name} | {mine['rows']:,} | {mine['seconds']:.1f} | {mine['rows'] / mine['seconds']:,.0f} | "
                     f"{mine['rows'] / mine['cpu']:,.0f} | {mine['peak_mb']:.0f} | {base['seconds']:.1f} "
                     f"({base['cpu']:.1f}) | {base['seconds'] / mine['seconds']:.2f} ({base['cpu'] / mine['cpu']:.2f}) |")
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
    from benchenv import bench_environment

    bench_environment("postgres:///lianhu_sheets_bench")
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
    RECORD["scale"] = scale
    (ROOT / "bench-results").mkdir(exist_ok=True)
    (ROOT / "bench-results" / "sheets.json").write_text(json.dumps(RECORD, ensure_ascii=False, indent=1),
                                                        encoding="utf-8")
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "bench-results" / "sheets.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
