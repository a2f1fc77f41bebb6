"""Two reviewers numbering at the same moment get two numbers (PostgreSQL: the counter row is locked)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from supervision.services import number_take


@pytest.mark.django_db(transaction=True)
def test_concurrent_numbers_differ():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises whole-database writes)")
    taken: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def take():
        try:
            start.wait()
            with transaction.atomic():
                taken.append(number_take(year=2031, kind="supervise"))
                time.sleep(0.3)  # hold the lock while the other waits for it
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    assert sorted(taken) == [1, 2]
