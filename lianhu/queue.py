"""Queueing a Celery task from a request, with a clear answer when the broker is down.

A publish to a Redis that is gone used to take 19 s and end in a 500 (kombu's
OperationalError, or the result backend's RuntimeError after its retries, or a
plain socket error). ``enqueue`` tries once, briefly (settings.CELERY_* timeouts
in the faults block), and turns every one of those into ``QueueUnavailable``,
whose message a view shows as it is.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("lianhu.queue")

QUEUE_UNAVAILABLE_MESSAGE = "任务队列暂时不可用（消息服务未连接），{what}未能启动，也没有留下排队中的任务。请稍后再试；如持续出现，请联系系统管理员。"


class QueueUnavailable(Exception):
    def __init__(self, what: str = "任务"):
        super().__init__(QUEUE_UNAVAILABLE_MESSAGE.format(what=what))
        self.message = str(self)


def queue_errors() -> tuple[type[BaseException], ...]:
    """What a publish raises when the broker or the result backend cannot be reached."""
    from kombu.exceptions import OperationalError as KombuOperationalError

    errors: list[type[BaseException]] = [KombuOperationalError, ConnectionError, OSError, TimeoutError, RuntimeError]
    try:
        import redis

        errors.append(redis.exceptions.RedisError)
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    return tuple(errors)


def enqueue(task: Any, *args: Any, what: str = "任务", **kwargs: Any) -> Any:
    """``task.apply_async(args, kwargs)`` without retries; QueueUnavailable when it cannot be queued.

    Eager mode (no broker configured) runs the task here, as ``delay`` would, and lets its own errors through.
    """
    if task.app.conf.task_always_eager:
        return task.apply_async(args=args, kwargs=kwargs)
    try:
        return task.apply_async(args=args, kwargs=kwargs, retry=False)
    except queue_errors() as error:
        logger.error("任务 %s 未能排队：%s: %s", getattr(task, "name", task), type(error).__name__, error)
        raise QueueUnavailable(what) from error
