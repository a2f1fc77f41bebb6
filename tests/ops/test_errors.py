"""A 500 and a failed task reach ADMINS by mail, with ID numbers masked; logs carry a request id."""

from __future__ import annotations

import io
import json
import logging

import pytest
from celery import shared_task
from django.core import mail
from django.core.cache import cache
from django.test import Client

from ops.models import TaskRecord, TaskState

from .boom_urls import ID_NUMBER


@shared_task(name="tests.ops.boom")
def boom_task(sweep_id: int) -> None:
    raise RuntimeError(f"任务出错 {ID_NUMBER}")


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("运维", "ops@lianhu.example.gov.cn")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    return settings


def test_a_500_mails_the_administrators(admins, db):
    admins.ROOT_URLCONF = "tests.ops.boom_urls"
    admins.DEBUG = False
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@lianhu.example.gov.cn"]
    assert "/boom/" in message.subject and "ValueError" in message.body
    assert ID_NUMBER not in message.subject + message.body
    for _, content, _ in getattr(message, "alternatives", []):
        assert ID_NUMBER not in content


def _run_as_a_worker_would(*args):
    # A worker traces tasks without propagating (the failure signal fires); eager mode under test re-raises
    # before it, so run the task the worker's way. Eager mode's error reaches the caller's 500 mail instead.
    result = boom_task.apply(args=args, throw=False)
    assert result.failed()


def test_a_failed_task_mails_the_administrators_and_is_recorded(admins, db):
    _run_as_a_worker_would(42)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "tests.ops.boom" in message.subject and "RuntimeError" in message.body
    assert ID_NUMBER not in message.body
    record = TaskRecord.objects.get(name="tests.ops.boom")
    assert record.state == TaskState.FAILURE and "RuntimeError" in record.error
    assert ID_NUMBER not in record.error + record.traceback


def test_repeated_failures_of_one_task_send_one_mail(admins, db):
    for _ in range(3):
        _run_as_a_worker_would(1)
    assert len(mail.outbox) == 1
    assert TaskRecord.objects.filter(state=TaskState.FAILURE).count() == 3


def test_sweep_tasks_are_recorded_against_their_sweep(db, admin_user, client):
    from compliance.models import Sweep
    from compliance.tasks import nightly_sweep

    sweep_id = nightly_sweep.delay(chunks=2).get()
    sweep = Sweep.objects.get(pk=sweep_id)
    names = set(TaskRecord.objects.filter(subject_type="sweep", subject_id=str(sweep.pk)).values_list("name", flat=True))
    assert {"compliance.nightly_sweep", "compliance.sweep_chunk", "compliance.sweep_finish"} <= names
    client.force_login(admin_user)
    detail = client.get(f"/compliance/sweeps/{sweep.pk}/")
    assert f"/ops/tasks/?sweep={sweep.pk}" in detail.text
    page = client.get("/ops/tasks/", {"sweep": sweep.pk})
    assert page.status_code == 200 and "compliance.sweep_chunk" in page.text


def test_task_page_query_count_does_not_grow(db, admin_user, client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(admin_user)

    def load(n: int) -> int:
        TaskRecord.objects.bulk_create([TaskRecord(task_id=f"t{n}-{i}", name="x", state=TaskState.FAILURE)
                                        for i in range(n)])
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/ops/tasks/", {"state": "problems"}).status_code == 200
        return len(ctx.captured_queries)

    assert load(3) == load(30)


def _json_line(record_args: dict) -> dict:
    from django.conf import settings

    config = dict(settings.LOGGING["formatters"]["json"])
    factory = config.pop("()")
    from django.utils.module_loading import import_string

    formatter = import_string(factory)(**{k: v for k, v in config.items()})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    from log_request_id.filters import RequestIDFilter

    from staffing.logfilters import RedactIdNumbers

    handler.addFilter(RequestIDFilter())
    handler.addFilter(RedactIdNumbers())
    logger = logging.getLogger("tests.ops.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error(*record_args["args"], exc_info=record_args.get("exc_info"))
    finally:
        logger.removeHandler(handler)
    return json.loads(stream.getvalue())


def test_json_log_lines_carry_request_id_and_mask_id_numbers():
    try:
        raise ValueError(f"坏行 {ID_NUMBER}")
    except ValueError as exc:
        line = _json_line({"args": ("导入失败：%s", ID_NUMBER), "exc_info": exc})
    assert line["level"] == "ERROR" and "request_id" in line
    assert ID_NUMBER not in json.dumps(line, ensure_ascii=False)
    assert "ValueError" in line["exc_info"]


def test_every_response_carries_a_request_id(client, db):
    response = client.get("/login/", HTTP_X_REQUEST_ID="abc123")
    assert response["X-Request-ID"] == "abc123"
    assert len(client.get("/login/")["X-Request-ID"]) == 32
