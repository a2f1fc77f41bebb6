"""Celery's task signals fill TaskRecord and mail the administrators when a task fails for good.

The receivers never raise: a database that is down while a task fails must not
hide the task's own error behind ours.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import task_failure, task_postrun, task_prerun, task_retry
from django.core.cache import cache
from django.core.mail import mail_admins
from django.db import DatabaseError, transaction
from django.utils import timezone

from .redaction import redact

logger = logging.getLogger("ops.tasks")

# Periodic or per-save tasks that would flood the page: recorded only when they fail or retry.
QUIET_TASKS = {"ops.heartbeat", "compliance.rejudge"}
# Tasks whose first positional argument is the id of what they work on.
SUBJECT_OF_FIRST_ARG = {
    "compliance.sweep_chunk": "sweep",
    "compliance.sweep_finish": "sweep",
    "compliance.sweep_digest": "sweep",
    "imports.run_upload": "upload",
    "exports.run_export": "export",
}
# One mail per task name and error type in this many seconds: eight failing sweep chunks send one.
MAIL_THROTTLE_SECONDS = 600


def subject_of(name: str, args: Any, retval: Any = None) -> tuple[str, str]:
    if name == "compliance.nightly_sweep":
        # The sweep exists only once the task made it: its id is the return value.
        return ("sweep", str(retval)) if isinstance(retval, int) and not isinstance(retval, bool) else ("", "")
    kind = SUBJECT_OF_FIRST_ARG.get(name)
    if kind and args:
        return kind, str(args[0])[:64]
    return "", ""


def _write(task_id: str | None, **fields: Any) -> None:
    if not task_id:
        return
    from .models import TaskRecord

    try:
        with transaction.atomic():  # a savepoint: an eager task inside a request must not break its transaction
            TaskRecord.objects.update_or_create(task_id=task_id, defaults=fields)
    except DatabaseError:
        logger.warning("任务记录未能写入：%s", task_id, exc_info=True)


def _worker(task: Any) -> str:
    return str(getattr(getattr(task, "request", None), "hostname", "") or "")[:200]


@task_prerun.connect
def _on_prerun(sender=None, task_id=None, task=None, args=None, **kwargs) -> None:
    name = getattr(task, "name", "") or ""
    if name in QUIET_TASKS:
        return
    from .models import TaskState

    subject_type, subject_id = subject_of(name, args)
    _write(task_id, name=name, state=TaskState.STARTED, subject_type=subject_type, subject_id=subject_id,
           started_at=timezone.now(), finished_at=None, worker=_worker(task))


@task_postrun.connect
def _on_postrun(sender=None, task_id=None, task=None, args=None, retval=None, state=None, **kwargs) -> None:
    name = getattr(task, "name", "") or ""
    if name in QUIET_TASKS or state != "SUCCESS":
        return  # failures and retries have their own receivers
    from .models import TaskState

    subject_type, subject_id = subject_of(name, args, retval)
    fields: dict[str, Any] = {"name": name, "state": TaskState.SUCCESS, "finished_at": timezone.now()}
    if subject_type:
        fields.update(subject_type=subject_type, subject_id=subject_id)
    _write(task_id, **fields)


@task_retry.connect
def _on_retry(sender=None, request=None, reason=None, einfo=None, **kwargs) -> None:
    from .models import TaskState

    name = getattr(sender, "name", "") or ""
    subject_type, subject_id = subject_of(name, getattr(request, "args", None))
    _write(getattr(request, "id", None), name=name, state=TaskState.RETRY,
           retries=int(getattr(request, "retries", 0) or 0) + 1, error=redact(str(reason))[:2000],
           traceback=redact(str(einfo or ""))[:20000], subject_type=subject_type, subject_id=subject_id)


@task_failure.connect
def _on_failure(sender=None, task_id=None, exception=None, args=None, einfo=None, **kwargs) -> None:
    from .models import TaskState

    name = getattr(sender, "name", "") or ""
    error = redact(f"{type(exception).__name__}: {exception}")[:2000]
    trace = redact(str(einfo or ""))[:20000]
    subject_type, subject_id = subject_of(name, args)
    _write(task_id, name=name, state=TaskState.FAILURE, error=error, traceback=trace,
           subject_type=subject_type, subject_id=subject_id, finished_at=timezone.now(),
           retries=int(getattr(getattr(sender, "request", None), "retries", 0) or 0))
    logger.error("后台任务失败：%s %s %s", name, task_id, error)
    _mail_admins_once(name, task_id or "", type(exception).__name__, error, trace)


def _mail_admins_once(name: str, task_id: str, kind: str, error: str, trace: str) -> None:
    try:
        if not cache.add(f"ops:task-failure-mail:{name}:{kind}", 1, MAIL_THROTTLE_SECONDS):
            return
    except Exception:  # no cache (Redis down): mail rather than stay silent
        pass
    try:
        mail_admins(f"后台任务失败：{name}", f"任务：{name}\n任务编号：{task_id}\n错误：{error}\n\n{trace}",
                    fail_silently=True)
    except Exception:
        logger.warning("任务失败邮件未能发送：%s", task_id, exc_info=True)
