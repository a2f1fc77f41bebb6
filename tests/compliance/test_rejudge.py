"""Re-judging after a save: which rules a change reaches, and what one save's evaluation costs."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities import services as community_services
from communities.models import Community
from compliance import rejudge as rejudging
from compliance.rejudge import read_index, targets_for
from compliance.rules import registry
from tests.staffing import builders as staffing

pytestmark = pytest.mark.django_db

PERSON_RULES = {"M12.leader_training", "M12.worker_training", "M13.post_grade", "M13.archive"}
COMMUNITY_READING_COMPOUNDS = "M03.compound_register"  # a community rule that reads its compounds (via community_id)
COMPOUND_RULES = {"M03.compound_unassigned", "M03.jurisdiction_dispute", "M09.facility_debt"}


@pytest.fixture
def judged(monkeypatch):
    """Rule id → target pks each on-commit evaluation was asked for (and still evaluates them)."""
    asked: dict[str, set[int]] = {}
    real = rejudging.rejudge_now

    def spy(rule_targets, **kwargs):
        for rule_id, pks in rule_targets.items():
            asked.setdefault(rule_id, set()).update(pks)
        return real(rule_targets, **kwargs)

    monkeypatch.setattr(rejudging, "rejudge_now", spy)
    return asked


def test_watched_columns_exist():
    """A mapper watching a column the model does not have would never re-judge: a typo must not pass."""
    watched = 0
    for model, pairs in read_index().items():
        attnames = {f.attname for f in model._meta.concrete_fields}
        for rule, mapper in pairs:
            fields = getattr(mapper, "fields", None)
            if fields is not None:
                watched += 1
                assert fields <= attnames, (rule.id, model.__name__, fields - attnames)
    assert watched  # the community → people and → compounds mappers


def test_households_edit_rejudges_the_community_not_its_people_or_compounds(make_community, make_compound, judged,
                                                                           django_capture_on_commit_callbacks):
    c = make_community(households=3000)
    make_compound(community=c)
    staffing.worker(c)
    judged.clear()
    with django_capture_on_commit_callbacks(execute=True):
        community_services.community_update(community=c, households=2999)
    assert "M04.households" in judged and judged["M04.households"] == {c.pk}
    assert not (PERSON_RULES | COMPOUND_RULES) & set(judged)


def _judging_communities() -> dict[str, frozenset[str]]:
    """Rule id → the Community columns it watches, for the rules judging the community itself."""
    return {rule.id: mapper.fields for rule, mapper in read_index()[Community]
            if rule.community_lookup == "pk" and getattr(mapper, "fields", None) is not None}


def test_a_households_edit_rejudges_exactly_the_rules_that_watch_households(make_community, judged,
                                                                           django_capture_on_commit_callbacks):
    """Issue 17 item 6: not 四至, 社会组织, 物业委员会… (tests/compliance/test_watched_columns.py proves the
    columns a rule leaves out change nothing it finds)."""
    c = make_community(households=3000)
    judged.clear()
    with django_capture_on_commit_callbacks(execute=True):
        community_services.community_update(community=c, households=2999)
    watching = _judging_communities()
    expected = {rule_id for rule_id, fields in watching.items() if "households" in fields}
    assert set(judged) & set(watching) == expected
    assert expected == {"M03.compound_register", "M04.households", "M04.population", "M06.adjustment_plan",
                        "M06.oversized_staffing", "M07.facility_area", "M10.committee_size"}
    assert all(judged[rule_id] == {c.pk} for rule_id in expected)
    # A 四至 edit re-judges 四至 alone of them.
    old = Community.objects.get(pk=c.pk)
    assert set(targets_for(Community, [c, old], {"east"})) & set(watching) == {"M04.boundaries"}


def test_status_or_street_change_rejudges_people_and_compounds(make_community, make_compound, streets):
    c = make_community(households=3000)
    compound = make_compound(community=c)
    job = staffing.worker(c)
    old = Community.objects.get(pk=c.pk)
    for changed in ({"status"}, {"sub_district_id"}, None):
        targets = targets_for(Community, [c, old], changed)
        for rule_id in PERSON_RULES:
            assert targets[rule_id] == {job.person_id}, (changed, rule_id)
        for rule_id in COMPOUND_RULES:
            assert targets[rule_id] == {compound.pk}, (changed, rule_id)
    quiet = targets_for(Community, [c, old], {"households", "population", "name"})
    assert not (PERSON_RULES | COMPOUND_RULES) & set(quiet)


def test_a_save_reads_live_findings_once_not_once_per_rule(make_community, judged,
                                                           django_capture_on_commit_callbacks):
    c = make_community(households=800)  # failing: several rules hold live findings on it
    judged.clear()
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        community_services.community_update(community=c, households=801, population=2500)
    # The day's trend point (compliance.trends) counts the touched (rule, 街办) pairs once: not a per-rule read.
    reads = [q["sql"] for q in queries.captured_queries
             if re.match(r'\s*SELECT\b.*\bFROM "compliance_finding"', q["sql"], re.S)
             and "UPDATE" not in q["sql"][:10] and "COUNT(" not in q["sql"]]
    district_rules = sum(1 for rule_id in judged if registry.get(rule_id).is_district)
    assert len(judged) >= 8  # the rules reading 户数 or 人口 (the others do not watch them) and the district's
    # one read for every community-level rule together, plus the district rules' own
    assert len(reads) == 1 + district_rules, reads


@pytest.mark.django_db(transaction=True)  # autocommit, as the worker's task runs
def test_in_autocommit_a_rule_opens_a_transaction_only_to_write(make_community):
    from compliance.models import Finding, FindingStatus
    from compliance.tasks import rejudge

    c = make_community(households=3000)
    Community.objects.filter(pk=c.pk).update(households=100)
    with CaptureQueriesContext(connection) as writing:
        result = rejudge({"M04.households": [c.pk], "M04.population": [c.pk]}, timezone.localdate().isoformat())
    assert result["opened"] == 1 and result["errors"] == 0
    assert Finding.objects.filter(rule_id="M04.households", target_pk=c.pk, status=FindingStatus.OPEN).count() == 1
    statements = [q["sql"] for q in writing.captured_queries]
    # Two units: the new finding with its event (M04.population, passing, opens none), then today's trend point.
    assert statements.count("BEGIN") == statements.count("COMMIT") == 2
    assert "compliance_findingevent" in statements[statements.index("BEGIN") + 2]
    with CaptureQueriesContext(connection) as unchanged:
        result = rejudge({"M04.households": [c.pk], "M04.population": [c.pk]}, timezone.localdate().isoformat())
    assert result["opened"] == 0 and result["errors"] == 0
    assert "BEGIN" not in [q["sql"] for q in unchanged.captured_queries]


# -- a page's save re-judged by a Celery worker (COMPLIANCE_REJUDGE_ASYNC) ------------------------------


@pytest.fixture
def queued(settings, monkeypatch):
    """Async re-judging on, the task's publish recorded instead of sent (no broker in the tests)."""
    from compliance import tasks

    settings.COMPLIANCE_REJUDGE_ASYNC = True
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.rejudge, "apply_async", lambda args, **kw: sent.append(args))
    return sent


def test_a_pages_save_is_queued_not_judged_when_a_broker_is_configured(make_community, judged, queued,
                                                                      django_capture_on_commit_callbacks):
    from compliance.engine import capture_changes
    from compliance.feedback import PENDING, changes_message

    c = make_community(households=3000)
    judged.clear()
    with capture_changes() as changes, django_capture_on_commit_callbacks(execute=True):
        community_services.community_update(community=c, households=2999)
    assert judged == {}  # nothing evaluated in the request
    (targets, as_of), = queued
    assert as_of == timezone.localdate().isoformat()  # judged as of the day of the save
    assert targets["M04.households"] == [c.pk]
    assert changes.pending and not changes.opened and not changes.resolved
    assert PENDING in changes_message(changes)


def test_outside_a_page_the_save_is_judged_at_once_even_with_a_broker(make_community, judged, queued,
                                                                      django_capture_on_commit_callbacks):
    """Imports, commands and the admin: no page waits for a message, so nothing goes stale."""
    c = make_community(households=3000)
    judged.clear()
    with django_capture_on_commit_callbacks(execute=True):
        community_services.community_update(community=c, households=2999)
    assert judged["M04.households"] == {c.pk} and queued == []


def test_a_broker_refusing_the_task_falls_back_to_judging_in_the_request(make_community, judged, settings,
                                                                        monkeypatch, django_capture_on_commit_callbacks):
    from compliance import tasks
    from compliance.engine import capture_changes

    settings.COMPLIANCE_REJUDGE_ASYNC = True

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.rejudge, "apply_async", refuse)
    c = make_community(households=3000)
    judged.clear()
    with capture_changes() as changes, django_capture_on_commit_callbacks(execute=True):
        community_services.community_update(community=c, households=2999)
    assert judged["M04.households"] == {c.pk} and not changes.pending


def test_the_task_judges_with_the_same_engine(make_community, judged):
    from compliance.models import Finding, FindingStatus
    from compliance.tasks import rejudge

    c = make_community(households=3000)
    Community.objects.filter(pk=c.pk).update(households=100)  # no signal: only the task judges it
    judged.clear()
    result = rejudge({"M04.households": [c.pk]}, "2025-06-30")
    assert judged == {"M04.households": {c.pk}} and result["errors"] == 0
    assert result["opened"] == 1  # 100 households: below the minimum
    assert Finding.objects.filter(rule_id="M04.households", target_pk=c.pk, status=FindingStatus.OPEN).exists()


@pytest.mark.django_db(transaction=True)  # the save really commits, inside the view, as in production
def test_the_page_after_a_queued_save_says_results_are_pending(client, clerk_qingnian, streets, queued):
    from django.urls import reverse

    from compliance.feedback import PENDING
    from tests.communities import builders

    c = builders.community(streets["qingnian"], households=3000, population=9000)
    client.force_login(clerk_qingnian)
    response = client.post(reverse("communities:community_edit", args=[c.pk]),
                           builders.community_post(c, households=2999), follow=True)
    assert response.status_code == 200 and len(queued) == 1
    assert PENDING in response.content.decode()


# -- re-judging is a call: the services make it, a bare save does not, the admin through its hook ------------


def test_a_bare_save_rejudges_nothing_the_service_does(make_community, judged, django_capture_on_commit_callbacks):
    c = make_community(households=3000)
    judged.clear()
    with django_capture_on_commit_callbacks(execute=True):
        c.households = 2999
        c.save()  # no signal stands behind the services
    assert judged == {}
    with django_capture_on_commit_callbacks(execute=True):
        community_services.community_update(community=Community.objects.get(pk=c.pk), households=2998)
    assert judged["M04.households"] == {c.pk}


def test_a_compound_moved_by_the_service_rejudges_both_communities(make_community, make_compound, judged,
                                                                   django_capture_on_commit_callbacks):
    """The service passes the row as it was (its own copy: the compound is not read again), so the community
    it left is re-judged too."""
    left, joined = make_community(), make_community()
    compound = make_compound(community=left)
    judged.clear()
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=False) as queued:
        community_services.compound_update(compound=compound, community=joined)
    # What the pre_save receiver read before each save: the stored row by its pk alone.
    assert not [q["sql"] for q in queries.captured_queries
                if re.search(r'FROM "communities_compound" WHERE "communities_compound"\."id" = \d+(?! AND)[^()]*LIMIT 1', q["sql"])]
    for callback in queued:
        callback()
    assert judged[COMMUNITY_READING_COMPOUNDS] == {left.pk, joined.pk}
    assert judged["M03.compound_unassigned"] == {compound.pk}


def test_an_admin_change_rejudges_through_the_hook(admin_client, judged, django_capture_on_commit_callbacks):
    """SalaryFundingAdmin saves with the admin's own save_model (no service): RejudgeAdmin names the row."""
    from decimal import Decimal

    from django.urls import reverse

    from compliance.rules import DISTRICT_PK
    from funding.models import SalaryFunding
    from funding.services import salary_funding_upsert

    funding = salary_funding_upsert(year=timezone.localdate().year, level=SalaryFunding._meta.get_field("level")
                                    .choices[0][0], amount=Decimal("100000"))
    judged.clear()
    url = reverse("admin:funding_salaryfunding_change", args=[funding.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"year": funding.year, "level": funding.level, "amount": "120000.00",
                                           "note": "管理后台修改"})
    assert response.status_code == 302, response.content.decode()[:2000]
    funding.refresh_from_db()
    assert funding.amount == Decimal("120000.00")
    assert judged and all(pks == {DISTRICT_PK} for pks in judged.values())
    judged.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:funding_salaryfunding_delete", args=[funding.pk]),
                                     {"post": "yes"})
    assert response.status_code == 302 and not SalaryFunding.objects.filter(pk=funding.pk).exists()
    assert judged and all(pks == {DISTRICT_PK} for pks in judged.values())


def test_an_admin_delete_rejudges_the_rows_it_cascades_to(make_community, judged,
                                                          django_capture_on_commit_callbacks):
    """Deleting a training event deletes its attendances: their people are re-judged (no post_delete now)."""
    import datetime as dt

    from django.contrib import admin

    from staffing import services as staffing_services
    from staffing.models import TrainingEvent

    c = make_community()
    job = staffing.worker(c)
    event, _ = staffing_services.training_event_record(title="岗前培训", kind=TrainingEvent._meta.get_field("kind")
                                                       .choices[0][0], held_on=dt.date(2025, 3, 1),
                                                       persons=[job.person])
    judged.clear()
    model_admin = admin.site._registry[TrainingEvent]
    with django_capture_on_commit_callbacks(execute=True):
        model_admin.delete_model(None, event)
    assert any(job.person_id in pks for pks in judged.values()), judged


def test_an_admin_inline_row_rejudges_through_the_hook(admin_client, make_community, judged,
                                                       django_capture_on_commit_callbacks):
    """An attendance added in the training event's inline (save_formset) re-judges its person."""
    import datetime as dt

    from django.urls import reverse

    from staffing import services as staffing_services
    from staffing.models import TrainingAttendance, TrainingEvent

    c = make_community()
    first, second = staffing.worker(c), staffing.worker(c)
    kind = TrainingEvent._meta.get_field("kind").choices[0][0]
    event, _ = staffing_services.training_event_record(title="岗前培训", kind=kind, held_on=dt.date(2025, 3, 1),
                                                       persons=[first.person])
    held = TrainingAttendance.objects.get(event=event)
    judged.clear()
    data = {"title": event.title, "kind": kind, "held_on": "2025-03-01", "organiser": "",
            "attendances-TOTAL_FORMS": "2", "attendances-INITIAL_FORMS": "1", "attendances-MIN_NUM_FORMS": "0",
            "attendances-MAX_NUM_FORMS": "1000",
            "attendances-0-id": str(held.pk), "attendances-0-event": str(event.pk),
            "attendances-0-person": str(first.person_id),
            "attendances-1-id": "", "attendances-1-event": str(event.pk), "attendances-1-person": str(second.person_id)}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:staffing_trainingevent_change", args=[event.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert TrainingAttendance.objects.filter(event=event, person=second.person).exists()
    assert any(second.person_id in pks for pks in judged.values()), judged
    assert not any(first.person_id in pks for pks in judged.values())  # its row did not change


def test_the_districts_progress_is_judged_again_only_for_a_community_in_its_plan(make_community):
    """M06.district_adjustment counts the communities of the district plan by their 户数 and 撤销: editing another
    community's 户数, or a planned one's 四至, leaves it alone; a planned one's 户数 or 撤销 re-judges it."""
    from communities.models import AdjustmentKind

    planned, other = make_community(households=7000), make_community(households=7000)
    community_services.adjustment_create(community=planned, kind=AdjustmentKind.SPLIT, in_district_plan=True)
    community_services.adjustment_create(community=other, kind=AdjustmentKind.SPLIT)  # not in the plan
    rule = "M06.district_adjustment"
    for c in (planned, other):
        old = Community.objects.get(pk=c.pk)
        expected = {0} if c == planned else None
        for changed in ({"households"}, {"revoked_on"}, None):
            assert targets_for(Community, [c, old], changed).get(rule) == expected, (c.name, changed)
        assert rule not in targets_for(Community, [c, old], {"east", "population"})
    # A new plan entry goes through the adjustment's own mapper, whatever community it names.
    adjustment = community_services.adjustment_create(community=other, kind=AdjustmentKind.SPLIT, in_district_plan=True)
    assert targets_for(type(adjustment), [adjustment], None, created=True)[rule] == {0}
    old = Community.objects.get(pk=other.pk)
    assert targets_for(Community, [other, old], {"households"})[rule] == {0}
