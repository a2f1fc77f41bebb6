"""措施十二 to 十五 person rules: due dates, hire dates, notice and filing days."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.engine import evaluate_rules
from compliance.models import Finding
from compliance.rules import registry
from staffing import services
from staffing.models import Body

from . import builders as b

pytestmark = pytest.mark.django_db


def run(rule_id, as_of):
    rule = registry.get(rule_id)
    return {r.key: r for r in rule.evaluate(rule.target_queryset(as_of), as_of, dict(rule.params)) if not r.passed}


def train(people, on, kind="general", title="全员培训"):
    services.training_event_record(title=f"{title}{on}", kind=kind, held_on=on, persons=people)


@pytest.fixture
def c(make_community):
    return make_community()


class TestWorkerTraining:
    def test_hired_0930_of_previous_year_must_have_previous_year_training(self, c):
        on_0930 = b.worker(c, entry_on=date(2024, 9, 30)).person
        on_1001 = b.worker(c, entry_on=date(2024, 10, 1)).person
        found = run("M12.worker_training", date(2025, 6, 30))
        assert found[on_0930.public_id].severity == "violation"
        assert "2024年度" in found[on_0930.public_id].message
        # Hired after 09-30: only this year is judged, and it is not yet due.
        assert found[on_1001.public_id].severity == "warning"

    def test_current_year_due_on_1201(self, c):
        p = b.worker(c, entry_on=date(2024, 10, 1)).person
        assert run("M12.worker_training", date(2025, 11, 30))[p.public_id].severity == "warning"
        assert run("M12.worker_training", date(2025, 12, 1))[p.public_id].severity == "violation"

    def test_trained_both_years_passes(self, c):
        p = b.worker(c, entry_on=date(2020, 1, 1)).person
        train([p], date(2024, 5, 1))
        train([p], date(2025, 3, 1))
        assert p.public_id not in run("M12.worker_training", date(2025, 12, 15))

    def test_previous_year_done_this_year_not_yet(self, c):
        p = b.worker(c, entry_on=date(2020, 1, 1)).person
        train([p], date(2024, 5, 1))
        assert run("M12.worker_training", date(2025, 11, 30))[p.public_id].severity == "warning"
        assert run("M12.worker_training", date(2025, 12, 1))[p.public_id].severity == "violation"

    def test_training_after_as_of_does_not_count(self, c):
        p = b.worker(c, entry_on=date(2024, 10, 1)).person
        train([p], date(2025, 12, 5))
        assert run("M12.worker_training", date(2025, 12, 1))[p.public_id].severity == "violation"
        assert p.public_id not in run("M12.worker_training", date(2025, 12, 5))

    def test_special_training_is_not_general(self, c):
        p = b.worker(c, entry_on=date(2024, 10, 1)).person
        train([p], date(2025, 3, 1), kind="special")
        assert p.public_id in run("M12.worker_training", date(2025, 6, 30))

    def test_left_worker_not_judged(self, c):
        p = b.worker(c, entry_on=date(2020, 1, 1), leave_on=date(2025, 6, 1)).person
        assert p.public_id not in run("M12.worker_training", date(2025, 6, 30))


class TestLeaderTraining:
    def test_secretary_and_director_need_special_training(self, c):
        secretary = b.seat(c, Body.PARTY, "secretary", start_on=date(2024, 9, 30)).person
        director = b.seat(c, Body.COMMITTEE, "director", start_on=date(2024, 10, 1)).person
        member = b.seat(c, Body.COMMITTEE, "member", start_on=date(2020, 1, 1)).person
        found = run("M12.leader_training", date(2025, 6, 30))
        assert found[secretary.public_id].severity == "violation"
        assert found[director.public_id].severity == "warning"
        assert found[director.public_id].community_id == c.pk
        assert member.public_id not in found

    def test_due_1201_and_general_training_does_not_count(self, c):
        director = b.seat(c, Body.COMMITTEE, "director", start_on=date(2024, 10, 1)).person
        train([director], date(2025, 3, 1), kind="general")
        assert run("M12.leader_training", date(2025, 11, 30))[director.public_id].severity == "warning"
        assert run("M12.leader_training", date(2025, 12, 1))[director.public_id].severity == "violation"
        train([director], date(2025, 3, 2), kind="special", title="书记主任专项培训")
        assert director.public_id not in run("M12.leader_training", date(2025, 12, 1))


class TestAnnualAssessment:
    def test_due_by_0331(self, c):
        p = b.worker(c, entry_on=date(2024, 12, 31)).person
        assert run("M14.annual_assessment", date(2025, 3, 31))[p.public_id].severity == "warning"
        assert run("M14.annual_assessment", date(2025, 4, 1))[p.public_id].severity == "violation"
        services.assessment_record(person=p, year=2024, result="competent")
        assert p.public_id not in run("M14.annual_assessment", date(2025, 4, 1))

    def test_hired_this_year_not_judged(self, c):
        p = b.worker(c, entry_on=date(2025, 1, 1)).person
        assert p.public_id not in run("M14.annual_assessment", date(2025, 4, 1))

    def test_assessment_of_another_year_does_not_count(self, c):
        p = b.worker(c, entry_on=date(2020, 1, 1)).person
        services.assessment_record(person=p, year=2023, result="excellent")
        assert p.public_id in run("M14.annual_assessment", date(2025, 4, 1))


class TestPostGradeAndArchive:
    def test_missing_post_or_grade(self, c):
        no_grade = b.worker(c, grade=None).person
        no_post = b.worker(c, post="").person
        complete = b.worker(c).person
        found = run("M13.post_grade", date(2025, 6, 30))
        assert "等级" in found[no_grade.public_id].message
        assert "岗位" in found[no_post.public_id].message
        assert complete.public_id not in found

    def test_archive_missing_education_or_channel(self, c):
        no_edu = b.worker(c, who=b.person(education="")).person
        no_channel = b.worker(c, entry_channel="").person
        complete = b.worker(c).person
        found = run("M13.archive", date(2025, 6, 30))
        assert "学历" in found[no_edu.public_id].message and found[no_edu.public_id].severity == "warning"
        assert "入职方式" in found[no_channel.public_id].message
        assert complete.public_id not in found


class TestResignationNotice:
    @pytest.mark.parametrize(("submitted", "fails"), [(date(2025, 5, 25), True), (date(2025, 5, 24), False)])
    def test_6_days_fail_7_pass(self, c, submitted, fails):
        p = b.worker(c, entry_on=date(2020, 1, 1), leave_on=date(2025, 5, 31), leave_way="resignation",
                     resignation_submitted_on=submitted).person
        found = run("M15.resignation_notice", date(2025, 6, 10))
        assert (p.public_id in found) is fails
        if fails:
            assert found[p.public_id].measured == 6

    def test_no_written_resignation_fails(self, c):
        p = b.worker(c, entry_on=date(2020, 1, 1), leave_on=date(2025, 5, 31), leave_way="resignation").person
        assert run("M15.resignation_notice", date(2025, 6, 10))[p.public_id].measured == "无书面申请"

    def test_not_yet_left_is_not_judged(self, c):
        p = b.worker(c, entry_on=date(2020, 1, 1), leave_on=date(2025, 7, 1), leave_way="resignation",
                     resignation_submitted_on=date(2025, 6, 28)).person
        assert p.public_id not in run("M15.resignation_notice", date(2025, 6, 30))


class TestExitFiling:
    def test_day_30_warns_day_31_violates(self, c):
        p = b.worker(c, entry_on=date(2020, 1, 1), leave_on=date(2025, 5, 1), leave_way="dismissal",
                     approved_on=date(2025, 4, 20)).person
        assert run("M15.exit_filing", date(2025, 5, 31))[p.public_id].severity == "warning"  # day 30
        assert run("M15.exit_filing", date(2025, 6, 1))[p.public_id].severity == "violation"  # day 31

    def test_filed_passes_but_not_before_the_filing_date(self, c):
        job = b.worker(c, entry_on=date(2020, 1, 1), leave_on=date(2025, 5, 1), leave_way="resignation",
                       resignation_submitted_on=date(2025, 4, 1), filed_on=date(2025, 6, 10))
        assert job.person.public_id in run("M15.exit_filing", date(2025, 6, 9))
        assert job.person.public_id not in run("M15.exit_filing", date(2025, 6, 10))


def test_person_findings_carry_opaque_id_and_community(c):
    p = b.worker(c, entry_on=date(2020, 1, 1), grade=None).person
    evaluate_rules(rules=[registry.get("M13.post_grade")], as_of=date(2025, 6, 30))
    f = Finding.objects.get(rule_id="M13.post_grade")
    assert f.target_key == p.public_id and f.target_key != p.id_number
    assert f.community_id == c.pk and f.target_type == "person"
    assert p.id_number not in f.message


def test_person_rules_query_count_does_not_grow(make_community):
    rules = ["M12.worker_training", "M12.leader_training", "M13.post_grade", "M13.archive",
             "M14.annual_assessment", "M15.resignation_notice", "M15.exit_filing", "M15.approval_before_filing",
             "M14.incompetent_decision", "M13.grade_growth"]

    def count():
        with CaptureQueriesContext(connection) as ctx:
            for rule_id in rules:
                run(rule_id, date(2025, 6, 30))
        return len(ctx.captured_queries)

    def add(n):
        community = make_community()
        for _ in range(n):
            p = b.worker(community, entry_on=date(2020, 1, 1), grade=None, leave_on=date(2025, 6, 1),
                         leave_way="dismissal").person
            b.seat(community, Body.COMMITTEE, "director", who=p, start_on=date(2020, 1, 1))

    add(1)
    small = count()
    add(5)
    assert count() == small
