"""Exit procedures follow their declared flows; ID numbers stay out of logs and exports."""

import logging
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from staffing import services
from staffing.idnumbers import mask, redact
from staffing.logfilters import RedactIdNumbers
from staffing.models import EXIT_FLOWS, ExitKind
from staffing.privacy import export_id_number, id_number_for

from . import builders as b

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(streets):
    return b.worker(b.community(streets["qingnian"]), entry_on=date(2020, 1, 1))


def test_flows_are_declared():
    assert EXIT_FLOWS[ExitKind.RESIGNATION] == ("submitted", "head_opinion", "subdistrict_approved", "filed")
    assert EXIT_FLOWS[ExitKind.DISMISSAL] == ("subdistrict_decided", "filed")


def test_resignation_cannot_skip_a_step(job, clerk_qingnian):
    procedure = services.exit_start(employment=job, kind="resignation", on=date(2025, 5, 1),
                                    leave_on=date(2025, 5, 10), user=clerk_qingnian)
    with pytest.raises(ValidationError) as exc:
        services.exit_advance(procedure=procedure, step="subdistrict_approved", on=date(2025, 5, 3))
    assert exc.value.code == "exit_step_order"
    services.exit_advance(procedure=procedure, step="head_opinion", on=date(2025, 5, 2), note="同意",
                          user=clerk_qingnian)
    procedure.refresh_from_db()
    assert procedure.next_step == "subdistrict_approved"
    step = procedure.steps.get(step="head_opinion")
    assert (step.actor, step.on, step.note) == (clerk_qingnian, date(2025, 5, 2), "同意")


def test_dismissal_goes_decision_then_filing(job, clerk_qingnian):
    procedure = services.exit_start(employment=job, kind="dismissal", on=date(2025, 5, 1),
                                    leave_on=date(2025, 5, 1), user=clerk_qingnian)
    job.refresh_from_db()
    assert (job.leave_way, job.approved_on) == ("dismissal", date(2025, 5, 1))
    services.exit_advance(procedure=procedure, step="filed", on=date(2025, 5, 20), user=clerk_qingnian)
    procedure.refresh_from_db()
    assert procedure.finished
    with pytest.raises(ValidationError) as exc:
        services.exit_advance(procedure=procedure, step="filed", on=date(2025, 5, 21))
    assert exc.value.code == "exit_finished"


def test_second_exit_refused_and_step_dates_in_order(job):
    procedure = services.exit_start(employment=job, kind="resignation", on=date(2025, 5, 1),
                                    leave_on=date(2025, 5, 10))
    with pytest.raises(ValidationError) as exc:
        services.exit_start(employment=job, kind="dismissal", on=date(2025, 5, 1), leave_on=date(2025, 5, 1))
    assert exc.value.code == "exit_started"
    with pytest.raises(ValidationError) as exc:
        services.exit_advance(procedure=procedure, step="head_opinion", on=date(2025, 4, 30), note="同意")
    assert "step_before_previous" in [e.code for e in exc.value.error_dict["on"]]


def test_masking_helpers(admin_user, clerk_qingnian):
    number = "11010519491231002X"
    assert mask(number) == "110105********002X"
    assert id_number_for(clerk_qingnian, number) == "110105********002X"
    assert id_number_for(admin_user, number) == "110105********002X"  # pages reveal only when asked
    assert id_number_for(admin_user, number, revealed=True) == number
    assert id_number_for(clerk_qingnian, number, revealed=True) == "110105********002X"
    assert export_id_number(number, user=admin_user) == "110105********002X"  # masked unless asked
    assert export_id_number(number, user=admin_user, reveal=True) == number
    assert export_id_number(number, user=clerk_qingnian, reveal=True) == "110105********002X"


def test_log_records_are_redacted():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "导入 %s 失败", ("11010519491231002X",), None)
    RedactIdNumbers().filter(record)
    assert record.getMessage() == "导入 110105********002X 失败"
    assert redact("a11010519491231002Xb") == "a11010519491231002Xb"  # not a standalone number


def test_console_handler_has_the_filter():
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    assert any(isinstance(f, RedactIdNumbers) for h in handlers for f in h.filters)


def test_leaving_ends_the_persons_seats_and_opens_vacancies(job):
    seat = b.seat(job.community, "committee", "director", who=job.person, start_on=date(2021, 1, 1))
    services.exit_start(employment=job, kind="resignation", on=date(2025, 5, 1), leave_on=date(2025, 5, 10))
    seat.refresh_from_db()
    assert seat.end_on == date(2025, 5, 10)
    vacancy = seat.vacancies.get()
    assert (vacancy.body, vacancy.role, vacancy.vacated_on) == ("committee", "director", date(2025, 5, 10))


def test_revoked_community_people_have_no_findings(job):
    from communities.services import community_revoke
    from compliance.rules import registry

    rule = registry.get("M13.archive")
    services.person_update(person=job.person, education="")
    as_of = date(2025, 6, 30)
    assert list(rule.evaluate(rule.target_queryset(as_of), as_of, dict(rule.params)))
    community_revoke(community=job.community, on=date(2025, 1, 1))
    assert not list(rule.evaluate(rule.target_queryset(as_of), as_of, dict(rule.params)))
