"""Two reviewers press 通过 on the same step at the same moment: one transition, one history row."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from approvals.models import State, StepRecord
from approvals.services import request_act, request_create_new

from .conftest import part, submit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TRIALS = 20


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL: DATABASE_URL=postgres:///lianhu_approvals")


def race(req_pk, users):
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(user):
        try:
            barrier.wait()
            request_act(request_id=req_pk, expected_state=State.DISTRICT_REVIEW, user=user, opinion="同意")
            outcome = "ok"
        except ValidationError as exc:
            outcome = exc.code
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return sorted(outcomes)


def test_two_reviewers_one_transition(clerk_qingnian, reviewer, reviewer2, streets):
    for i in range(TRIALS):
        req = request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title=f"新设{i}",
                                 part=part(f"610104001{100 + i:03d}", f"新社区{i}"))
        submit(req, clerk_qingnian)
        outcomes = race(req.pk, [reviewer, reviewer2])
        assert outcomes == ["ok", "stale_state"], f"trial {i}: {outcomes}"
        req.refresh_from_db()
        assert req.state == State.CITY_CONSULT
        assert StepRecord.objects.filter(request=req, step=2).count() == 1
