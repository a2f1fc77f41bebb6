"""python manage.py compliance_sweep [--as-of YYYY-MM-DD] [--json]

As of today (Asia/Shanghai) the sweep is live: it reconciles the live findings and prints them. As of any
other date it is a replay (or a look ahead): it keeps its own snapshot and prints that, leaving the live
findings as they were."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import QuerySet
from django.utils import timezone

from compliance import services
from compliance.catalogue import CHINESE_NUMERALS, Severity
from compliance.models import Finding, FindingStatus, SweepFinding


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"日期“{text}”格式不对，应为 YYYY-MM-DD。") from exc


class Command(BaseCommand):
    help = "按评估日期运行全部措施规则（同步），输出仍未整改的问题。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", dest="as_of", help="评估日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--json", action="store_true", help="每行输出一个未整改问题的 JSON 对象")
        parser.add_argument("--chunks", type=int, default=None,
                            help="分块数（默认 COMPLIANCE_SWEEP_CHUNKS，按社区主键区间等分）")

    def handle(self, *args, **options) -> None:
        as_of = _date(options["as_of"]) if options["as_of"] else timezone.localdate()
        try:
            sweep = services.sweep_run(as_of=as_of, chunks=options["chunks"], triggered_by="命令行")
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc

        findings: QuerySet[Any]
        if sweep.live:
            findings = (
                Finding.objects.filter(rule_id__in=sweep.rule_ids, status=FindingStatus.OPEN)
                .select_related("community")
                .order_by("rule_id", "target_key", "pk")
            )
        else:
            findings = SweepFinding.objects.filter(sweep=sweep).select_related("community").order_by(
                "rule_id", "target_key", "pk")
        if options["json"]:
            for f in findings.iterator(chunk_size=2000):
                self.stdout.write(json.dumps({
                    "rule": f.rule_id,
                    "clause": CHINESE_NUMERALS[f.clause],
                    "severity": f.severity,
                    "target": f.target_type,
                    "key": f.target_key,
                    "community": f.community.code if f.community is not None else None,
                    "measured": f.measured,
                    "required": f.required,
                    "message": f.message,
                }, ensure_ascii=False))
            for error in sweep.errors:
                self.stderr.write(f"规则 {error.get('rule') or '—'} 出错：{error.get('error')}")
            return

        assert sweep.finished_at is not None, "sweep_run returns a finished sweep"
        seconds = (sweep.finished_at - sweep.started_at).total_seconds()
        if sweep.live:
            self.stdout.write(
                f"巡检完成：评估日期 {sweep.as_of:%Y-%m-%d}，规则 {len(sweep.rule_ids)} 条，用时 {seconds:.1f} 秒。\n"
                f"新发现 {sweep.opened} 项，已整改 {sweep.resolved} 项，仍未整改 {sweep.still_open} 项。"
            )
        else:
            self.stdout.write(
                f"回放巡检完成：评估日期 {sweep.as_of:%Y-%m-%d}（不是今天），规则 {len(sweep.rule_ids)} 条，"
                f"用时 {seconds:.1f} 秒。\n当日未整改 {sweep.still_open} 项，另存为巡检 #{sweep.pk} 的快照；"
                "实时问题清单未改动。"
            )
        by_severity: dict[str, int] = {}
        for severity in findings.values_list("severity", flat=True):
            by_severity[severity] = by_severity.get(severity, 0) + 1
        if by_severity:
            parts = [f"{Severity.label(s)} {by_severity[s]} 项" for s in Severity.ALL if s in by_severity]
            self.stdout.write("其中：" + "，".join(parts) + "。")
        for error in sweep.errors:
            self.stderr.write(f"规则 {error.get('rule') or '—'} 出错：{error.get('error')}")
