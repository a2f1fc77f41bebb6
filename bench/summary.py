"""The last step of `make bench`: one table of every goal, its figure, the ratio (to the goal, or to the peer
library on the same rows) and pass/miss, read from what the benchmark steps left in bench-results/:

- latest.json       bench/run.py       sweeps, first and nightly; the engine against one community at a time
- sheets.json       bench/sheets_bench.py  imports, the re-judging after them, django-import-export side by side,
                                        the people ledger and the compliance workbook against bare xlsxwriter
- export_jobs.json  bench/export_jobs.py   the 1.1 M-row 人员台账 as a background job
- load.json         bench/load.py      20 users for 60 s through gunicorn

A step that did not run (or ran before its file learned to write JSON) shows as "not run", never as a pass.
Writes bench-results/summary.md and prints it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results"

Row = tuple[str, str, str, str, str]  # what, figure, goal, ratio, result


def _read(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _verdict(ok: bool) -> str:
    return "达标" if ok else "**未达标**"


def _not_run(what: str, goal: str, step: str) -> Row:
    return (what, f"未运行（{step}）", goal, "–", "–")


def sweep_rows(data: dict | None) -> list[Row]:
    rows: list[Row] = []
    goals = (("issue3", "第3号议题规则", 30.0), ("issue4", "第4号议题规则（含设施、经费）", 30.0),
             ("all", "全部规则", 90.0))
    if data is None:
        return [_not_run(f"{which}：{label}", f"≤ {goal:.0f} s", "bench/run.py")
                for _key, label, goal in goals for which in ("首次巡检", "夜间巡检")]
    scale = data.get("scale", 1)
    note = "" if scale == 1 else f"（BENCH_SCALE={scale}，非全国规模）"
    workers = data.get("sweep_workers", 1)
    # As production runs it: the worker's --concurrency 2 takes the chord's chunks two at a time.
    mode = f"，{workers} 个进程分块并行" if workers > 1 else "，单进程逐块"
    results = data["results"]
    for key, label, goal in goals:
        for which, part in (("首次巡检", "first"), ("夜间巡检（次日）", "repeat")):
            what = f"{which}：{label}{mode}{note}"
            r = results.get(key, {}).get(part)
            if r is None:
                rows.append(_not_run(what, f"≤ {goal:.0f} s", "该组规则未安装"))
                continue
            figure = f"{r['seconds']:.1f} s"
            if r.get("sampled"):
                figure = f"≈ {r['seconds']:.0f} s（抽 {r['sampled']['chunks']}/{r['sampled']['of']} 块外推）"
            ok = r["seconds"] <= goal and not r.get("errors") and scale == 1
            rows.append((what, figure, f"≤ {goal:.0f} s", f"{r['seconds'] / goal:.2f} × 目标", _verdict(ok)))
    pc = results.get("per_community")
    if pc and "issue3" in results:
        n = data.get("counts", {}).get("communities") or 0
        engine = results["issue3"]["repeat"]["seconds"]
        ratio = (pc["one_by_one"] / pc["n"] * n) / engine if engine and n else 0.0
        rows.append((f"引擎对逐社区 ORM 评估{note}", f"快 {ratio:,.0f} 倍", "≥ 20 倍", f"{ratio / 20:.1f} × 目标",
                     _verdict(ratio >= 20 and scale == 1)))
    return rows


def sheet_rows(data: dict | None) -> list[Row]:
    names = {"社区 import, creating": ("社区导入，新建", 10_000), "社区 import, updating": ("社区导入，更新", 3_000),
             "小区 import, creating": ("小区导入，新建", 10_000), "人员 import, creating": ("人员导入，新建", 10_000),
             "人员 import, updating recorded people": ("人员导入，已登记人员", 3_000)}
    if data is None:
        return [_not_run(label, f"≥ {goal:,} 行/秒", "bench/sheets_bench.py") for label, goal in names.values()]
    scale = data.get("scale", 1)
    note = "" if scale == 1 else f"（SHEETS_SCALE={scale}）"
    rows: list[Row] = []
    imports = {r["name"]: r for r in data.get("imports", [])}
    for name, (label, goal) in names.items():
        r = imports.get(name)
        if r is None:
            rows.append(_not_run(label + note, f"≥ {goal:,} 行/秒", "SHEETS_SKIP_IMPORT"))
            continue
        own = r["seconds"] - r["rejudge"]
        rate, per_cpu = r["rows"] / own, r["rows"] / r["cpu"]
        rows.append((f"{label}{note}（{r['rows']:,} 行）", f"{rate:,.0f} 行/秒（每 CPU 秒 {per_cpu:,.0f}）",
                     f"≥ {goal:,} 行/秒", f"{rate / goal:.2f} × 目标", _verdict(rate >= goal and scale == 1)))
    create = imports.get("社区 import, creating")
    if create:
        own = create["seconds"] - create["rejudge"]
        workers = data.get("rejudge_workers", 1)
        mode = f"，{workers} 个进程分块并行" if workers > 1 else "，单进程逐块"
        rows.append((f"社区导入后重新判定{note}", f"{create['rejudge']:.1f} s（导入本身 {own:.1f} s{mode}）",
                     "≤ 导入本身的时间", f"{create['rejudge'] / own:.2f}",
                     _verdict(create["rejudge"] <= own and scale == 1)))
    peers = data.get("peers", {})
    if create:
        own = create["seconds"] - create["rejudge"]
        mine = create["rows"] / own
        for key, label, goal in (("import_True", "社区导入对 django-import-export 批量模式（clean_model_instances=True）", True),
                                 ("import_False", "社区导入对 django-import-export 批量模式（不校验）", False)):
            p = peers.get(key)
            if p is None:
                rows.append(_not_run(label, "领先" if goal else "（只报告）", "SHEETS_SKIP_PEER"))
                continue
            ratio = mine / (p["rows"] / p["seconds"])
            rows.append((label, f"{mine:,.0f} 对 {p['rows'] / p['seconds']:,.0f} 行/秒", "领先" if goal else "（只报告）",
                         f"{ratio:.1f} 倍", _verdict(ratio > 1) if goal else "–"))
    if "export_ours" in peers and "export_peer" in peers:
        ours, theirs = peers["export_ours"], peers["export_peer"]
        ratio = (ours["rows"] / ours["seconds"]) / (theirs["rows"] / theirs["seconds"])
        rows.append(("社区导出对 django-import-export 的 XLSX", f"{ours['seconds']:.1f} 对 {theirs['seconds']:.1f} s",
                     "领先", f"{ratio:.1f} 倍", _verdict(ratio > 1)))
    exports = data.get("exports", {})
    for key, label in (("people", "人员台账导出"), ("compliance", "合规工作簿导出")):
        mine, bare = exports.get(key), exports.get(f"{key}_bare")
        if not mine or not bare or "error" in mine or "error" in bare:
            rows.append(_not_run(label, "≥ 10,000 行/秒，≤ 200 MB", "导出出错或未运行"))
            continue
        rate = mine["rows"] / mine["seconds"]
        rows.append((f"{label}（{mine['rows']:,} 行）", f"{rate:,.0f} 行/秒，峰值 {mine['peak_mb']:.0f} MB",
                     "≥ 10,000 行/秒，≤ 200 MB（1,000,000 行）", f"{rate / 10_000:.2f} × 目标",
                     _verdict(rate >= 10_000 and mine["peak_mb"] <= 200 and mine["rows"] >= 1_000_000)))
        ratio = bare["seconds"] / mine["seconds"]
        rows.append((f"{label}对裸 xlsxwriter（同样的行）", f"{ratio:.2f}", "≥ 0.7", f"{ratio / 0.7:.2f} × 目标",
                     _verdict(ratio >= 0.7)))
    return rows


def job_rows(data: dict | None) -> list[Row]:
    what = "人员台账作为后台任务导出"
    if data is None:
        return [_not_run(what, "≥ 10,000 行/秒，≤ 200 MB，不在请求内", "bench/export_jobs.py")]
    rows: list[Row] = []
    for r in data["results"]:
        rate = r["rows"] / r["seconds"] if r["seconds"] else 0.0
        rows.append((f"{what}（{r['format']}，{r['rows']:,} 行）", f"{rate:,.0f} 行/秒，峰值 {r['peak_mb']:.0f} MB",
                     "≥ 10,000 行/秒，≤ 200 MB（1,100,000 行）", f"{rate / 10_000:.2f} × 目标",
                     _verdict(rate >= 10_000 and r["peak_mb"] <= 200 and r["rows"] >= 1_100_000)))
    return rows


def load_rows(runs: list[dict]) -> list[Row]:
    what = "负载测试（20 用户 60 秒）"
    if not runs:
        return [_not_run(what, "p95 ≤ 300 ms，0 错误，连续三次", "bench/load.py")]
    rows: list[Row] = []
    for i, run in enumerate(runs, 1):
        overall = run["rows"][-1]
        per_request = 1000 * run["app_cpu_s"] / max(1, overall["requests"])
        rows.append((f"{what}，第 {i} 次", f"p95 {overall['p95_ms']} ms，{overall['errors']} 错误",
                     "p95 ≤ 300 ms，0 错误", f"{overall['p95_ms'] / 300:.2f} × 目标", _verdict(run["goal_met"])))
        rows.append((f"{what}，第 {i} 次：应用每请求 CPU", f"{per_request:.0f} ms", "≤ 25 ms",
                     f"{per_request / 25:.2f} × 目标", _verdict(per_request <= 25)))
    return rows


def render() -> str:
    loads = [p for p in [RESULTS / "load.json", *sorted(RESULTS.glob("load-*.json"))] if p.exists()]
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in loads]
    rows = [*sweep_rows(_read("latest.json")), *sheet_rows(_read("sheets.json")), *job_rows(_read("export_jobs.json")),
            *load_rows(runs)]
    load = os.getloadavg()
    lines = [f"# `make bench` 汇总 — {time.strftime('%Y-%m-%d %H:%M %Z')}", "",
             f"{os.cpu_count()} 核；汇总时负载 {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}。各步骤的明细见 bench-results/ 下同名 .md 文件。",
             "", "| 项目 | 实测 | 目标 | 比值 | 结论 |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    missed = sum(1 for row in rows if row[4] == "**未达标**")
    not_run = sum(1 for row in rows if row[1].startswith("未运行"))
    lines += ["", f"共 {len(rows)} 项：{len(rows) - missed - not_run} 项达标或只报告，{missed} 项未达标，{not_run} 项未运行。"]
    return "\n".join(lines) + "\n"


def main() -> int:
    text = render()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
