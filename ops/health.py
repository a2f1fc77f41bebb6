"""The checks behind /healthz, the administrators' status page and ``ops_status``.

Every check is bounded by a short timeout, so the answer comes within about two
seconds even when the database or the broker sits behind a closed or silent port.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

# The nightly sweep runs at 02:00; one missed night shows by 04:00 the next day.
SWEEP_STALE_AFTER = dt.timedelta(hours=26)
# ops.heartbeat is scheduled every minute; a few missed ticks mean beat (or every worker) is down.
BEAT_STALE_AFTER = dt.timedelta(minutes=5)
NIGHTLY_TRIGGER = "定时任务"  # compliance.tasks.nightly_sweep's default triggered_by
BROKER_TIMEOUT = 0.5
PING_TIMEOUT = 1.0
DISK_MIN_FREE_FRACTION = 0.05


@dataclass
class Check:
    key: str
    label: str
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _broker_url() -> str:
    return getattr(settings, "CELERY_BROKER_URL", "") or ""


def _redis_client():
    import redis

    return redis.Redis.from_url(_broker_url(), socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT)


def check_database(alias: str = "default") -> Check:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # Drop the broken connection so the next request reconnects instead of reusing it.
        connection.close_if_unusable_or_obsolete()
        return Check("database", "数据库", False, f"无法连接：{type(exc).__name__}")
    return Check("database", "数据库", True, f"正常（{connection.vendor}）")


def check_broker() -> Check:
    if not _broker_url():
        return Check("broker", "Redis（消息代理）", True, "未配置消息代理：任务在进程内执行")
    try:
        _redis_client().ping()
    except Exception as exc:
        return Check("broker", "Redis（消息代理）", False, f"无法连接：{type(exc).__name__}")
    return Check("broker", "Redis（消息代理）", True, "正常")


def check_workers() -> Check:
    if not _broker_url():
        return Check("workers", "Celery worker", True, "未配置消息代理：任务在进程内执行", {"workers": []})
    from lianhu.celery import app

    try:
        replies = app.control.ping(timeout=PING_TIMEOUT) or []
    except Exception as exc:
        return Check("workers", "Celery worker", False, f"无法询问：{type(exc).__name__}", {"workers": []})
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return Check("workers", "Celery worker", False, f"{PING_TIMEOUT:g} 秒内没有 worker 应答", {"workers": []})
    return Check("workers", "Celery worker", True, f"{len(names)} 个应答：{'、'.join(names)}", {"workers": names})


def check_beat(now: dt.datetime | None = None) -> Check:
    from .models import Heartbeat

    if not _broker_url():
        return Check("beat", "Celery beat", True, "未配置消息代理：没有定时任务")
    now = now or timezone.now()
    try:
        beat = Heartbeat.objects.filter(name="beat").first()
    except DatabaseError:
        return Check("beat", "Celery beat", False, "数据库不可用，无法读取心跳")
    if beat is None:
        return Check("beat", "Celery beat", False, "还没有收到过心跳（beat 或 worker 未运行）")
    age = now - beat.at
    data = {"last_tick": beat.at.isoformat(), "age_seconds": int(age.total_seconds())}
    when = f"{timezone.localtime(beat.at):%Y-%m-%d %H:%M:%S}"
    if age > BEAT_STALE_AFTER:
        return Check("beat", "Celery beat", False, f"最近一次心跳 {when}，已超过 {_minutes(age)}（beat 或 worker 停止）", data)
    return Check("beat", "Celery beat", True, f"最近一次心跳 {when}", data)


def check_sweep(now: dt.datetime | None = None) -> Check:
    from compliance.models import Sweep, SweepStatus

    now = now or timezone.now()
    try:
        last = (Sweep.objects.filter(status=SweepStatus.FINISHED, triggered_by=NIGHTLY_TRIGGER)
                .exclude(finished_at=None).order_by("-finished_at").first())
    except DatabaseError:
        return Check("sweep", "夜间巡检", False, "数据库不可用，无法读取巡检记录")
    if last is None:
        return Check("sweep", "夜间巡检", False, "还没有完成过夜间巡检")
    assert last.finished_at is not None
    age = now - last.finished_at
    data = {"sweep_id": last.pk, "finished_at": last.finished_at.isoformat(), "age_hours": round(age.total_seconds() / 3600, 1)}
    when = f"{timezone.localtime(last.finished_at):%Y-%m-%d %H:%M}"
    if age > SWEEP_STALE_AFTER:
        hours = int(SWEEP_STALE_AFTER.total_seconds() // 3600)
        return Check("sweep", "夜间巡检", False, f"最近一次完成于 {when}，已超过 {hours} 小时", data)
    return Check("sweep", "夜间巡检", True, f"最近一次完成于 {when}（{data['age_hours']} 小时前）", data)


def queue_names() -> list[str]:
    names = {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery") or "celery"}
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    return sorted(names)


def check_queues() -> Check:
    if not _broker_url():
        return Check("queues", "任务队列", True, "未配置消息代理", {"queues": {}})
    try:
        client = _redis_client()
        lengths = {name: int(client.llen(name)) for name in queue_names()}
    except Exception as exc:
        return Check("queues", "任务队列", False, f"无法读取：{type(exc).__name__}", {"queues": {}})
    text = "，".join(f"{name} {count:,} 个待执行" for name, count in lengths.items())
    return Check("queues", "任务队列", True, text, {"queues": lengths})


def check_disk() -> Check:
    root = Path(settings.MEDIA_ROOT)
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    free = usage.free / usage.total if usage.total else 0.0
    data = {"path": str(root), "free_bytes": usage.free, "total_bytes": usage.total, "free_fraction": round(free, 4)}
    text = f"{root}：可用 {usage.free / 2**30:,.1f} GB / {usage.total / 2**30:,.1f} GB（{free:.0%}）"
    return Check("disk", "附件存储空间", free >= DISK_MIN_FREE_FRACTION, text, data)


def _minutes(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} 小时 {minutes % 60} 分钟" if minutes >= 60 else f"{minutes} 分钟"


def liveness() -> list[Check]:
    """What /healthz looks at: the two services without which no page or task works."""
    return [check_database(), check_broker()]


def full_status() -> list[Check]:
    database = check_database()
    checks = [database, check_broker(), check_workers()]
    if database.ok:
        checks += [check_beat(), check_sweep()]
    else:
        checks += [Check("beat", "Celery beat", False, "数据库不可用"), Check("sweep", "夜间巡检", False, "数据库不可用")]
    return [*checks, check_queues(), check_disk()]
