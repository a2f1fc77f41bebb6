"""措施二十: findings still open escalate 提醒 → 督办 → 约谈 against the unit that must act."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from communities.models import Community
from compliance import escalation, services
from compliance.models import Finding, RuleParameter, SupervisionAction

from .pages import finding

pytestmark = pytest.mark.django_db

D0 = date(2025, 1, 1)
DEFAULTS = escalation.DEFAULTS


DUE = D0 + timedelta(days=60)  # M04.households is a warning: due 60 days after first found


@pytest.mark.parametrize(
    ("overdue", "level"),
    # deadline −1, 0, +1; each threshold −1/0.
    [(-1, ""), (0, "remind"), (1, "remind"), (29, "remind"), (30, "supervise"), (31, "supervise"), (89, "supervise"),
     (90, "interview"), (400, "interview")],
)
def test_levels_by_days_overdue_at_their_boundaries(streets, overdue, level):
    assert escalation.level_for(overdue, DEFAULTS) == level
    f = finding(first_seen=D0, due_date=DUE, last_seen=DUE + timedelta(days=overdue))
    annotated = escalation.with_level(Finding.objects.filter(pk=f.pk), DEFAULTS).get()
    assert annotated.escalation == level  # the database agrees with Python


def test_age_alone_does_not_escalate(streets):
    # Found a year ago but due only at year end (M12's 12-01): no level until then.
    f = finding(first_seen=D0, due_date=date(2025, 12, 1), last_seen=date(2025, 11, 30))
    assert escalation.with_level(Finding.objects.filter(pk=f.pk), DEFAULTS).get().escalation == ""


def test_notices_never_escalate(streets):
    f = finding(rule_id="M16.embedded_services", first_seen=D0, last_seen=D0 + timedelta(days=400))
    assert f.severity == "notice" and f.due_date is None
    assert escalation.with_level(Finding.objects.filter(pk=f.pk), DEFAULTS).get().escalation == ""
    assert escalation.ladder(Finding.objects.all(), DEFAULTS) == []


def test_sweeps_move_a_finding_up_the_ladder(make_community, today):
    c = make_community(households=500)

    def level_after(day):
        # Live sweeps: each as of "today".
        today(D0 + timedelta(days=day))
        services.sweep_run(rule_ids=["M04.households"])
        return escalation.with_level(Finding.objects.filter(target_key=c.code), DEFAULTS).get().escalation

    assert level_after(0) == ""
    assert level_after(59) == ""  # the day before the deadline
    assert level_after(60) == "remind"  # on the deadline
    assert level_after(89) == "remind"
    assert level_after(90) == "supervise"
    assert level_after(150) == "interview"
    Community.objects.filter(pk=c.pk).update(households=1500)
    assert level_after(151) == ""  # resolved: off the ladder


def test_waived_and_resolved_findings_do_not_escalate(streets, make_community):
    c = make_community(households=500)
    late = D0 + timedelta(days=200)
    for status in ("resolved", "waived", "closed"):
        finding(community=c, rule_id="M04.population", status=status, first_seen=D0, last_seen=late,
                **({"waived_reason": "暂不调整", "waived_until": late} if status == "waived" else {}))
        assert escalation.with_level(Finding.objects.filter(status=status), DEFAULTS).get().escalation == ""


def test_units_answer_for_their_findings(streets, make_community):
    a = make_community("qingnian", households=500)
    assert escalation.unit_for(finding(community=a)) == "青年路街道"
    salary = finding(rule_id="M19.salary_share", target_type="district", by_duty=True)
    adjustment = finding(rule_id="M06.district_adjustment", target_type="district", by_duty=True)
    assert escalation.unit_for(salary) == "区财政局"
    assert escalation.unit_for(adjustment) == "区民政局"


def test_ladder_counts_per_unit(make_community, streets, reviewer):
    a = make_community("qingnian", households=500)
    b = make_community("zaoyuan", households=500)
    finding(community=a, first_seen=D0, last_seen=DUE)  # on the deadline: 提醒
    finding(community=a, rule_id="M04.population", first_seen=D0, last_seen=DUE + timedelta(days=95))  # 约谈
    finding(community=b, first_seen=D0, last_seen=DUE + timedelta(days=30))  # 督办
    finding(community=b, rule_id="M04.population", first_seen=D0, last_seen=DUE - timedelta(days=1))  # not due
    finding(rule_id="M19.salary_share", target_type="district", by_duty=True, first_seen=D0,
            last_seen=D0 + timedelta(days=30 + 31))  # a violation, 31 days past its 30: 督办
    services.supervision_action_record(user=reviewer, level="remind", taken_on=D0, note="电话提醒", unit="枣园街道")
    ladder = {u["unit"]: ([n for _, n, _ in u["levels"]], u["actions"])
              for u in escalation.ladder(Finding.objects.all(), DEFAULTS)}
    assert ladder == {
        "青年路街道": ([1, 0, 1], 0),
        "枣园街道": ([0, 1, 0], 1),
        "区财政局": ([0, 1, 0], 0),
    }


def test_snapshot_ladder_reads_on_the_replay_date(make_community, streets):
    from compliance.models import Sweep, SweepFinding

    sweep = Sweep.objects.create(as_of=DUE + timedelta(days=90), live=False, status="finished")
    c = make_community("qingnian", households=500)
    for due in (DUE, DUE + timedelta(days=1), DUE + timedelta(days=90), DUE + timedelta(days=91)):
        SweepFinding.objects.create(sweep=sweep, rule_id="M04.households", clause=4, target_type="community",
                                    target_key=c.code, target_pk=c.pk, community=c, sub_district_id=c.sub_district_id,
                                    severity="warning", message="x", first_seen=D0, due_date=due)
    [unit] = escalation.ladder(SweepFinding.objects.filter(sweep=sweep), DEFAULTS, as_of=sweep.as_of)
    assert unit["unit"] == "青年路街道"
    assert [n for _, n, _ in unit["levels"]] == [1, 1, 1]  # due +90: 约谈; +1: 督办 (89); 0: 提醒; -1: none


def test_dashboard_shows_the_ladder_scoped(make_community, streets, clerk_qingnian, reviewer):
    a = make_community("qingnian", households=500)
    b = make_community("zaoyuan", households=500)
    finding(community=a, first_seen=D0, last_seen=DUE)
    finding(community=b, first_seen=D0, last_seen=DUE + timedelta(days=90))
    finding(rule_id="M19.salary_share", target_type="district", by_duty=True, first_seen=D0,
            last_seen=D0 + timedelta(days=200))
    rv, qn = Client(), Client()
    rv.force_login(reviewer)
    qn.force_login(clerk_qingnian)
    units = [u["unit"] for u in rv.get(reverse("compliance:dashboard")).context["ladder"]]
    assert units == ["区财政局", "枣园街道", "青年路街道"]  # the furthest up first
    assert [u["unit"] for u in qn.get(reverse("compliance:dashboard")).context["ladder"]] == ["青年路街道"]
    listed = qn.get(reverse("compliance:finding_list")).context["page"]
    assert [f.escalation for f in listed if f.target_key == a.code] == ["remind"]


def test_thresholds_are_dated_parameters(reviewer, streets):
    services.escalation_parameter_set(name="remind_overdue_days", value="15", effective_from=D0, user=reviewer,
                                      reason="放宽提醒")
    assert escalation.params(D0 - timedelta(days=1))["remind_overdue_days"] == 0
    assert escalation.params(D0)["remind_overdue_days"] == 15
    assert RuleParameter.objects.get(rule_id="escalation").set_by == reviewer
    with pytest.raises(ValidationError) as e:
        services.escalation_parameter_set(name="supervise_overdue_days", value="10", effective_from=D0,
                                          user=reviewer, reason="x")
    assert e.value.code == "escalation_order"
    with pytest.raises(ValidationError) as e:
        services.escalation_parameter_set(name="remind_overdue_days", value="20", effective_from=D0, reason="")
    assert e.value.code == "reason_required"
    with pytest.raises(ValidationError) as e:
        services.escalation_parameter_set(name="remind_overdue_days", value="-1", effective_from=D0, reason="x")
    assert e.value.code == "invalid_value"
    assert RuleParameter.objects.count() == 1


def test_thresholds_changed_from_the_catalogue_page(reviewer, clerk_qingnian):
    rv, qn = Client(), Client()
    rv.force_login(reviewer)
    qn.force_login(clerk_qingnian)
    url = reverse("compliance:parameter_set", args=["escalation", "interview_overdue_days"])
    data = {"value": "120", "effective_from": D0, "reason": "约谈从严"}
    assert qn.post(url, data).status_code == 403
    assert rv.post(url, data).status_code == 302
    assert escalation.params(D0)["interview_overdue_days"] == 120
    assert escalation.params(D0 - timedelta(days=1))["interview_overdue_days"] == 90


def test_supervision_actions_are_recorded_by_reviewers_only(make_community, reviewer, clerk_qingnian):
    f = finding(community=make_community("qingnian", households=500))
    action = services.supervision_action_record(user=reviewer, finding=f, level="interview", taken_on=D0,
                                                note="约谈街办分管领导")
    assert (action.unit, action.sub_district_id, action.taken_by) == ("青年路街道", "610104001", reviewer)
    with pytest.raises(PermissionDenied):
        services.supervision_action_record(user=clerk_qingnian, finding=f, level="remind", taken_on=D0, note="x")
    for kwargs, code in [
        ({"level": "scold", "note": "x"}, "supervision_level_invalid"),
        ({"level": "remind", "note": " "}, "supervision_note_required"),
        ({"level": "remind", "note": "x", "taken_on": date(2999, 1, 1)}, "date_in_future"),
    ]:
        with pytest.raises(ValidationError) as e:
            services.supervision_action_record(user=reviewer, finding=f, **{"taken_on": D0, **kwargs})
        assert e.value.code == code
    with pytest.raises(ValidationError) as e:
        services.supervision_action_record(user=reviewer, level="remind", taken_on=D0, note="x", unit="")
    assert e.value.code == "supervision_unit_required"
    assert SupervisionAction.objects.count() == 1


@pytest.mark.parametrize("sort", ["clause", "escalation", "-escalation"])
def test_the_findings_list_shows_the_databases_level_at_every_boundary(streets, reviewer, sort):
    """The list judges its page's levels in Python unless sorted by them: either way each row's badge is the
    one ``with_level`` annotates, at the deadline and at each threshold ±1, for open, waived and undated ones,
    with the latest live sweep's date standing in for an older last_seen."""
    from django.utils import timezone

    from compliance.models import Sweep

    sweep = Sweep.objects.create(as_of=DUE - timedelta(days=5), status="finished", live=True,
                                 finished_at=timezone.now())
    # Last written before its deadline, still open on the sweep's date 35 days past it.
    behind = finding(first_seen=D0, due_date=DUE - timedelta(days=40), last_seen=DUE - timedelta(days=50))
    for overdue in [-1, 0, 1, 29, 30, 31, 89, 90, 91]:
        finding(first_seen=D0, due_date=DUE, last_seen=DUE + timedelta(days=overdue))
    finding(first_seen=D0, due_date=DUE, last_seen=DUE + timedelta(days=200), status="waived",
            waived_reason="暂不调整", waived_until=DUE + timedelta(days=300))
    finding(rule_id="M16.embedded_services", first_seen=D0, last_seen=D0)
    expected = {f.pk: f.escalation for f in escalation.with_level(Finding.objects.all(), escalation.params(sweep.as_of))}
    assert expected[behind.pk] == "supervise"
    assert sorted(set(expected.values())) == ["", "interview", "remind", "supervise"]

    client = Client()
    client.force_login(reviewer)
    page = client.get(reverse("compliance:finding_list"), {"status": "", "sort": sort})
    shown = {f.pk: f.escalation for f in page.context["page"].object_list}
    assert shown == expected
