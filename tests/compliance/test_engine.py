"""The evaluation path: on save after commit, findings, parameters, waivers."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from communities import services as community_services
from communities.models import Community
from compliance import services
from compliance.engine import capture_changes, evaluate_rules
from compliance.models import Finding, FindingEvent, FindingStatus, RuleParameter
from compliance.parameters import params_for
from compliance.rejudge import bulk_changes
from compliance.rules import registry

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "M04.households"


def live(rule_id=HOUSEHOLDS):
    return list(Finding.objects.filter(rule_id=rule_id, status__in=["open", "waived"]))


# -- on save ------------------------------------------------------------------


def test_finding_appears_after_commit(make_community, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        c = make_community(households=800)
        assert live() == []  # nothing before the commit
    assert len(callbacks) == 1  # one evaluation per transaction, not per signal
    callbacks[0]()
    [f] = live()
    assert (f.target_key, f.measured, f.status) == (c.code, 800, "open")


def test_no_finding_after_rollback(make_community, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), \
            transaction.atomic():
        make_community(households=800)
        raise RuntimeError("表单后续步骤失败")
    assert callbacks == []
    assert live() == []
    assert not Community.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_real_commit_and_rollback(streets):
    with pytest.raises(RuntimeError), transaction.atomic():
        community_services.community_create(code="610104001050", name="回滚社区", sub_district=streets["qingnian"],
                                            households=10, population=10)
        raise RuntimeError
    assert not Finding.objects.exists()
    c = community_services.community_create(code="610104001051", name="提交社区",
                                            sub_district=streets["qingnian"], households=10, population=10)
    assert [f.target_key for f in live()] == [c.code]


def test_save_shows_what_it_opened_and_resolved(make_community, django_capture_on_commit_callbacks):
    with capture_changes() as changes, django_capture_on_commit_callbacks(execute=True):
        c = make_community(households=6000)
    assert [f.target_key for f in changes.opened if f.rule_id == HOUSEHOLDS] == [c.code]
    with capture_changes() as changes, django_capture_on_commit_callbacks(execute=True):
        community_services.community_update(community=c, households=4000)
    assert [f for f in changes.opened if f.rule_id == HOUSEHOLDS] == []
    assert [f.target_key for f in changes.resolved if f.rule_id == HOUSEHOLDS] == [c.code]
    assert Finding.objects.get(rule_id=HOUSEHOLDS).status == FindingStatus.RESOLVED
    kinds = list(FindingEvent.objects.filter(finding__rule_id=HOUSEHOLDS).values_list("kind", flat=True))
    assert kinds == ["opened", "resolved"]


def test_compound_move_rejudges_both_sides(make_community, make_compound, django_capture_on_commit_callbacks):
    a, b = make_community(), make_community()
    with django_capture_on_commit_callbacks(execute=True):
        x = make_compound(community=a, built_on=date(2015, 1, 1), must_provide_facility=True)
    f = Finding.objects.get(rule_id="M09.facility_debt")
    assert f.community_id == a.pk
    with django_capture_on_commit_callbacks(execute=True):
        community_services.compound_update(compound=x, community=b)
    f.refresh_from_db()
    assert (f.community_id, f.status) == (b.pk, "open")


def test_bulk_changes_evaluates_once(streets, django_capture_on_commit_callbacks):
    street = streets["qingnian"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic(), \
            bulk_changes() as bulk:
        rows = Community.objects.bulk_create([
            Community(code=f"{street.code}{i:03d}", name=f"导入{i}", sub_district=street, households=h, population=h)
            for i, h in ((1, 10), (2, 3000), (3, 9000))
        ])
        bulk.add(Community, rows)
        community_services.community_update(community=rows[1], households=20)  # a per-row save, suspended
    assert len(callbacks) == 1
    callbacks[0]()
    assert sorted(f.target_key for f in live()) == [f"{street.code}001", f"{street.code}002", f"{street.code}003"]


def test_reevaluate_explicit_targets(make_community):
    c = make_community(households=10)
    other = make_community(households=10)
    changes = services.reevaluate({HOUSEHOLDS: [c.pk], "M99.unknown": [1]})
    assert [f.target_key for f in changes.opened] == [c.code]
    assert [f.target_key for f in live()] == [c.code]  # only what was handed over
    assert other.code not in {f.target_key for f in live()}


# -- findings -----------------------------------------------------------------


def test_at_most_one_open_finding(make_community):
    c = make_community(households=10)
    evaluate_rules(rules=[registry.get(HOUSEHOLDS)])
    evaluate_rules(rules=[registry.get(HOUSEHOLDS)])
    assert len(live()) == 1
    f = live()[0]
    f.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        f.save()
    assert Finding.objects.filter(rule_id=HOUSEHOLDS, target_pk=c.pk).count() == 1


def test_severity_change_is_recorded():
    from compliance.rules import Registry, Result, Rule

    reg = Registry()
    state = {"severity": "warning"}

    @reg.register
    class Flip(Rule):
        id = "M04.households"

        def target_queryset(self, as_of):
            return Community.objects.all()

        def evaluate(self, queryset, as_of, params):
            return [Result(target_pk=0, key="x", community_id=None, passed=False, severity=state["severity"],
                           message="测试")]

    rule = reg.get("M04.households")
    evaluate_rules(rules=[rule])
    state["severity"] = "violation"
    changes = evaluate_rules(rules=[rule])
    f = Finding.objects.get()
    assert f.severity == "violation"
    assert [x.pk for x in changes.still_open] == [f.pk]
    assert list(f.events.values_list("kind", flat=True)) == ["opened", "severity"]


# -- parameters ---------------------------------------------------------------


def test_parameter_effective_tomorrow_leaves_today_unchanged(make_community, reviewer):
    today = timezone.localdate()
    c = make_community(households=1100)
    services.rule_parameter_set(rule_id=HOUSEHOLDS, name="min_households", value=1200,
                                effective_from=today + timedelta(days=1), user=reviewer, reason="政策调整")
    rule = registry.get(HOUSEHOLDS)
    assert params_for(rule, today)["min_households"] == 1000
    evaluate_rules(rules=[rule], as_of=today)
    assert live() == []
    evaluate_rules(rules=[rule], as_of=today + timedelta(days=1))
    assert [f.target_key for f in live()] == [c.code]
    assert live()[0].required == "1200~5000"


def test_parameter_history_is_kept_and_latest_wins(reviewer):
    rule = registry.get(HOUSEHOLDS)
    d = date(2025, 1, 1)
    services.rule_parameter_set(rule_id=HOUSEHOLDS, name="max_households", value="6000", effective_from=d,
                                user=reviewer, reason="一")
    services.rule_parameter_set(rule_id=HOUSEHOLDS, name="max_households", value=5500, effective_from=d,
                                user=reviewer, reason="二")
    assert RuleParameter.objects.count() == 2
    assert params_for(rule, d)["max_households"] == 5500
    assert params_for(rule, d - timedelta(days=1))["max_households"] == 5000


def test_dated_parameter_round_trips(reviewer):
    services.rule_parameter_set(rule_id="M09.facility_debt", name="debt_since", value="2012-01-01",
                                effective_from=date(2025, 1, 1), user=reviewer, reason="测试")
    assert params_for(registry.get("M09.facility_debt"), date(2025, 1, 1))["debt_since"] == date(2012, 1, 1)


@pytest.mark.parametrize(
    ("rule_id", "name", "value", "code"),
    [
        ("M99.nothing", "x", 1, "unknown_rule"),
        (HOUSEHOLDS, "minimum", 1, "unknown_parameter"),
        (HOUSEHOLDS, "min_households", "一千", "invalid_value"),
        (HOUSEHOLDS, "min_households", 1000.5, "invalid_value"),
        ("M09.facility_debt", "debt_since", "2011-13-01", "invalid_value"),
    ],
)
def test_bad_parameter_refused(reviewer, rule_id, name, value, code):
    with pytest.raises(ValidationError) as exc:
        services.rule_parameter_set(rule_id=rule_id, name=name, value=value, effective_from=date(2025, 1, 1),
                                    user=reviewer, reason="测试")
    assert exc.value.code == code
    assert not RuleParameter.objects.exists()


# -- waivers ------------------------------------------------------------------


def test_waiver_end_reopens(make_community, reviewer):
    make_community(households=6000)
    rule = registry.get(HOUSEHOLDS)
    today = timezone.localdate()
    evaluate_rules(rules=[rule], as_of=today)
    [f] = live()
    services.finding_waive(finding=f, user=reviewer, reason="暂不拆分", until=today + timedelta(days=10))
    evaluate_rules(rules=[rule], as_of=today + timedelta(days=10))
    f.refresh_from_db()
    assert f.status == FindingStatus.WAIVED  # still within the waiver
    changes = evaluate_rules(rules=[rule], as_of=today + timedelta(days=11))
    f.refresh_from_db()
    assert f.status == FindingStatus.OPEN
    assert [x.pk for x in changes.opened] == [f.pk]
    assert list(f.events.values_list("kind", flat=True)) == ["opened", "waived", "reopened"]


def test_a_deleted_reviewer_leaves_the_waiver_and_its_event_without_a_name(make_community, reviewer):
    # The user keys are indexed only where set (finding_waived_by, findingevent_user); SET_NULL still finds them.
    make_community(households=6000)
    evaluate_rules(rules=[registry.get(HOUSEHOLDS)])
    [f] = live()
    services.finding_waive(finding=f, user=reviewer, reason="暂不拆分", until=timezone.localdate())
    assert FindingEvent.objects.filter(finding=f, user=reviewer).count() == 1
    reviewer.delete()
    f.refresh_from_db()
    assert (f.status, f.waived_by_id, f.waived_reason) == (FindingStatus.WAIVED, None, "暂不拆分")
    assert list(f.events.values_list("kind", "user_id")) == [("opened", None), ("waived", None)]


def test_findings_lock_no_community_when_written_and_still_go_with_it(make_community):
    # A first sweep writes a million findings: PostgreSQL checked each against its community and 街办 at commit,
    # locking the community row. Without those constraints Django's CASCADE still takes findings and events along.
    from django.contrib.auth import get_user_model
    from django.db import connection

    c = make_community(households=800)
    evaluate_rules(rules=[registry.get(HOUSEHOLDS)])
    [f] = live()
    assert f.events.count() == 1
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("""SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint
                              WHERE contype = 'f' AND conrelid::regclass::text IN (%s, %s)""",
                           [Finding._meta.db_table, FindingEvent._meta.db_table])
            users = get_user_model()._meta.db_table  # waived_by and the event's user keep theirs
            assert sorted(cursor.fetchall()) == [(Finding._meta.db_table, users), (FindingEvent._meta.db_table, users)]
    Community.objects.filter(pk=c.pk).delete()  # not something the product does (撤销 is a status)
    assert not Finding.objects.filter(pk=f.pk).exists()
    assert not FindingEvent.objects.filter(finding_id=f.pk).exists()


def test_waived_finding_resolves_when_data_passes(make_community, reviewer):
    c = make_community(households=6000)
    rule = registry.get(HOUSEHOLDS)
    evaluate_rules(rules=[rule])
    [f] = live()
    services.finding_waive(finding=f, user=reviewer, reason="暂不拆分", until=timezone.localdate())
    community_services.community_update(community=c, households=4000)
    evaluate_rules(rules=[rule])
    f.refresh_from_db()
    assert f.status == FindingStatus.RESOLVED


def test_waiver_needs_reviewer_reason_and_future_end(make_community, reviewer, clerk_qingnian):
    make_community(households=6000)
    evaluate_rules(rules=[registry.get(HOUSEHOLDS)])
    [f] = live()
    with pytest.raises(PermissionDenied):
        services.finding_waive(finding=f, user=clerk_qingnian, reason="x", until=timezone.localdate())
    with pytest.raises(ValidationError) as exc:
        services.finding_waive(finding=f, user=reviewer, reason=" ", until=timezone.localdate())
    assert exc.value.code == "waiver_reason_required"
    with pytest.raises(ValidationError) as exc:
        services.finding_waive(finding=f, user=reviewer, reason="暂不拆分",
                               until=timezone.localdate() - timedelta(days=1))
    assert exc.value.code == "waiver_until_past"
    f.refresh_from_db()
    assert f.status == FindingStatus.OPEN
