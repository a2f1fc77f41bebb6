"""Quick figures for the sheets' imports while working on them (issue 17 item 3): each import runs inside an
outer transaction that is rolled back, with the deferred foreign-key checks forced first (SET CONSTRAINTS ALL
IMMEDIATE: what the commit would check), so the same files can be imported again and again on one database
without rebuilding it, and without the re-judging after commit (bench/sheets_bench.py measures that).

    DATABASE_URL=postgres:///lianhu_sheets_bench_<name> .venv/bin/python bench/sheets_profile.py [kind ...]

on a database bench/sheets_bench.py has built (SHEETS_SCALE=0.05 is enough). Kinds: community_create,
community_update, compound_create, person_create, person_update (default: all). N rows for the creating files
(default 10,000); REPEAT=k runs each k times (the shared machine's noise: take the best); PROF=tottime (or
cumulative) writes a cProfile listing per kind beside the files (and the raw stats, KIND.prof) (SHEETS_PROFILE_DIR, default /tmp/sheets-profile);
SPLIT=1 prints the PostgreSQL session's CPU per bulk write and for the deferred checks; PHASES=1 the app's CPU
of the main steps. Printed per import: rows, wall clock, CPU of this process and of its PostgreSQL session,
rows per CPU second and the machine's load."""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from benchenv import bench_environment  # noqa: E402

bench_environment("postgres:///lianhu_sheets_bench")

KINDS = ("community_create", "community_update", "compound_create", "person_create", "person_update")
COMMUNITY_HEADERS = ["社区代码", "社区名称", "街道办事处", "户数", "常住人口", "成立日期", "党组织类型", "东至", "南至", "西至",
                     "北至", "社会组织数", "环境和物业管理委员会"]
PERSON_HEADERS = ["身份证号", "姓名", "社区代码", "社区工作者", "专职", "党组织职务", "居委会职务", "岗位", "等级", "学历",
                  "入职日期", "入职方式", "离职日期", "离职申请日期", "离职方式", "备案日期"]
COMPOUND_HEADERS = ["小区编号", "小区名称", "社区代码", "户数", "建成日期", "应配建社区用房", "已提供社区用房", "物业服务方式",
                    "管理主体未明确"]


def write_book(path: Path, sheet: str, headers: list[str], rows) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet(sheet)
    ws.write_row(0, 0, headers)
    for i, row in enumerate(rows, 1):
        ws.write_row(i, 0, row)
    book.close()


def build(kind: str, path: Path, n: int, codes: list[str]) -> None:
    """New 社区 in the 街办 100-199 of sheets_bench, new 小区 and new people in its 社区; updates of its rows."""
    import sheets_bench as sb

    from staffing.idnumbers import make_valid

    if kind == "community_create":
        per = -(-n // 100)
        write_book(path, "社区", COMMUNITY_HEADERS, (
            [f"{sb._street_code(100 + i // per)}{i % per + 1:03d}", f"新社区{i}", sb._street_code(100 + i // per),
             1000 + i % 2000, 3000 + i % 5000, "2001-05-01", "党支部", "东路", "南路", "西路", "北路", 5 + i % 10, "是"]
            for i in range(n)))
    elif kind == "community_update":
        streets = len({code[:9] for code in codes})
        sb.community_workbook(path, len(codes), streets, households_bump=13)
    elif kind == "compound_create":
        write_book(path, "小区", COMPOUND_HEADERS, (
            [f"BY{i:08d}", f"新小区{i}", codes[i % len(codes)], 100 + i % 900, "2005-06-01", "是" if i % 3 == 0 else "否",
             "是" if i % 6 == 0 else "否", "市场化物业", "否"] for i in range(n)))
    elif kind == "person_create":
        write_book(path, "人员", PERSON_HEADERS, (
            [make_valid(f"610104{dt.date(1960, 1, 1) + dt.timedelta(days=i // 1000):%Y%m%d}{i % 1000:03d}"),
             f"新人员{i}", codes[i % len(codes)], "是", "是", "", "", "其他", 5 + i % 10, "本科", "2020-01-01", "公开招聘",
             "", "", "", ""] for i in range(n)))
    else:  # the people sheets_bench created, another grade
        sb.person_workbook(path, sb.PERSON_ROWS // 20, codes, bump=3)


def main() -> None:
    import django

    django.setup()
    import sheets_bench as sb
    from django.db import connection, transaction

    from communities.models import Community
    from imports.services import workbook_import

    kinds = sys.argv[1:] or list(KINDS)
    n = int(os.environ.get("N", "10000"))
    repeat = int(os.environ.get("REPEAT", "1"))
    prof = os.environ.get("PROF")
    work = Path(os.environ.get("SHEETS_PROFILE_DIR", "/tmp/sheets-profile"))
    work.mkdir(parents=True, exist_ok=True)
    sb.build_streets(200)
    codes = list(Community.objects.filter(sub_district__code__startswith="9", sub_district__code__lt="900000100")
                 .order_by("code").values_list("code", flat=True))
    if os.environ.get("SPLIT"):
        split_writes(connection)
    phases = timed_phases() if os.environ.get("PHASES") else None
    user = sb.importer()
    for kind in [k for k in kinds for _ in range(repeat)]:
        path = work / f"{kind}-{n}.xlsx"
        if not path.exists():
            build(kind, path, n, codes)
        with transaction.atomic():
            start, cpu0, own0 = time.perf_counter(), sb.cpu_seconds(), time.process_time()
            profiler = cProfile.Profile() if prof else None
            if profiler:
                profiler.enable()
            result = workbook_import(file=path, user=user)
            checks = sb.cpu_seconds()
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if profiler:
                profiler.disable()
            wall, cpu, own = time.perf_counter() - start, sb.cpu_seconds() - cpu0, time.process_time() - own0
            if os.environ.get("SPLIT"):
                print(f"   deferred checks: {sb.cpu_seconds() - checks:.2f} s")
            transaction.set_rollback(True)
        assert result.ok, [str(i) for i in result.issues[:5]]
        sheet = result.sheets[0]
        print(f"{kind}: {sheet.rows} rows ({len(sheet.created)} new, {len(sheet.updated)} updated) wall {wall:.2f} s, "
              f"CPU {cpu:.2f} s (app {own:.2f}, PostgreSQL {cpu - own:.2f}) -> {sheet.rows / cpu:,.0f} rows per CPU s; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        if profiler and prof:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(prof).print_stats(45)
            (work / f"{kind}.prof.txt").write_text(out.getvalue())
            profiler.dump_stats(work / f"{kind}.prof")  # for pstats: callers of a hot function
        if phases is not None:
            print("   app CPU s:", {k: round(v, 3) for k, v in phases.items()})
            phases.clear()


def split_writes(connection) -> None:
    """Print the PostgreSQL session's CPU of each bulk write."""
    import communities.services
    import core.records
    import staffing.services

    def backend_cpu() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    for name in ("insert_rows", "insert_values", "update_rows"):
        original = getattr(core.records, name)

        def wrapped(model, *args, _original=original, _name=name, **kwargs):
            pg, app = backend_cpu(), time.process_time()
            try:
                return _original(model, *args, **kwargs)
            finally:
                print(f"   {_name} {model._meta.db_table}: PostgreSQL {backend_cpu() - pg:.2f} s, "
                      f"app {time.process_time() - app:.2f} s", flush=True)

        for module in (core.records, communities.services, staffing.services):
            if hasattr(module, name):
                setattr(module, name, wrapped)


def timed_phases() -> dict[str, float]:
    """The app's CPU in the main steps of an import, summed per import."""
    import communities.sheets
    import imports.services
    import staffing.idcrypto
    import staffing.models
    import staffing.sheets

    spent: dict[str, float] = {}
    steps = [(imports.services, "_read_tables"), (imports.services, "_parse_table"),
             (imports.services, "_write_sheet"), (communities.sheets, "communities_by_code"),
             (staffing.sheets, "communities_by_code"), (staffing.sheets.PersonSheet, "_new_person"),
             (staffing.models.Person, "clean"), (staffing.models.Employment, "clean"),
             (staffing.idcrypto, "encrypt_many"), (staffing.idcrypto, "digest")]
    for owner, name in steps:
        original = getattr(owner, name)
        label = ".".join(f"{getattr(owner, '__name__', owner)}.{name}".rsplit(".", 2)[-2:])

        def wrapped(*args, _original=original, _label=label, **kwargs):
            begin = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.process_time() - begin

        setattr(owner, name, wrapped)
    return spent


if __name__ == "__main__":
    main()
