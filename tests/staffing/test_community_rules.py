"""措施六、十、十一 community rules at the boundaries of issue 5's Done-when list."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities.models import Community
from communities.services import community_revoke
from compliance.parameters import params_for
from compliance.rules import registry
from staffing import services
from staffing.models import Body

from . import builders as b

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 6, 30)


def run(rule_id, as_of=AS_OF, params=None):
    rule = registry.get(rule_id)
    return {r.key: r for r in rule.evaluate(rule.target_queryset(as_of), as_of, {**params_for(rule, as_of), **(params or {})})
            if not r.passed}


def committee_of(c, n):
    b.bulk_seats(c, b.bulk_people(n, c), Body.COMMITTEE)


def party_of(c, n):
    b.bulk_seats(c, b.bulk_people(n, c), Body.PARTY)


class TestCommitteeSize:
    @pytest.mark.parametrize(("households", "expected"), [(1999, 5), (2000, 7), (4000, 7), (4001, 9)])
    def test_expected_size_by_households(self, make_community, households, expected):
        right, other = make_community(households=households), make_community(households=households)
        committee_of(right, expected)
        committee_of(other, 7 if expected != 7 else 5)
        found = run("M10.committee_size")
        assert right.code not in found
        assert found[other.code].severity == "warning"
        assert found[other.code].required == expected

    @pytest.mark.parametrize("n", [4, 10])
    def test_outside_5_to_9_is_a_violation(self, make_community, n):
        c = make_community(households=3000)
        committee_of(c, n)
        assert run("M10.committee_size")[c.code].severity == "violation"


class TestPartySize:
    def test_branch_of_3_passes_and_of_5_is_a_notice(self, make_community):
        three, five = make_community(party_org_type="branch"), make_community(party_org_type="branch")
        party_of(three, 3)
        party_of(five, 5)
        found = run("M10.party_size")
        assert three.code not in found
        assert found[five.code].severity == "notice"

    def test_committee_of_6_violates_and_of_5_passes(self, make_community):
        six, five = make_community(party_org_type="committee"), make_community(party_org_type="committee")
        party_of(six, 6)
        party_of(five, 5)
        found = run("M10.party_size")
        assert found[six.code].severity == "violation" and found[six.code].measured == 6
        assert five.code not in found

    def test_general_branch_of_3_is_a_notice_and_of_2_a_violation(self, make_community):
        three, two = make_community(party_org_type="general_branch"), make_community(party_org_type="general_branch")
        party_of(three, 3)
        party_of(two, 2)
        found = run("M10.party_size")
        assert found[three.code].severity == "notice"
        assert found[two.code].severity == "violation"


def cross_community(make_community, party_n, cross_n):
    c = make_community()
    people = b.bulk_people(party_n, c)
    b.bulk_seats(c, people, Body.PARTY)
    b.bulk_seats(c, people[:cross_n] + b.bulk_people(5 - cross_n, c), Body.COMMITTEE)
    return c


class TestCrossAppointment:
    def test_3_of_5_passes_2_of_5_fails(self, make_community):
        ok, short = cross_community(make_community, 5, 3), cross_community(make_community, 5, 2)
        found = run("M10.cross_appointment")
        assert ok.code not in found
        assert float(found[short.code].measured) == 40.0
        assert found[short.code].required == 60
        assert "交叉任职人数÷党组织成员数" in found[short.code].message

    def test_no_party_members_fails_with_0(self, make_community):
        c = make_community()
        committee_of(c, 5)
        assert run("M10.cross_appointment")[c.code].measured == 0


def fulltime_community(make_community, total, fulltime):
    c = make_community()
    people = b.bulk_people(total, c)
    b.bulk_seats(c, people, Body.COMMITTEE)
    b.bulk_workers(c, people[:fulltime], full_time=True)
    # Part-time workers on the 两委 do not count toward the full-time share.
    b.bulk_workers(c, people[fulltime:fulltime + 1], full_time=False)
    return c


class TestFulltimeShare:
    def test_40_percent_passes_39_fails(self, make_community):
        forty, two_of_five = fulltime_community(make_community, 100, 40), fulltime_community(make_community, 5, 2)
        thirty_nine = fulltime_community(make_community, 100, 39)
        found = run("M10.fulltime_share")
        assert forty.code not in found and two_of_five.code not in found
        assert float(found[thirty_nine.code].measured) == 39.0

    def test_empty_liangwei_fails_with_0(self, make_community):
        c = make_community()
        assert run("M10.fulltime_share")[c.code].measured == 0

    def test_worker_of_another_community_does_not_count(self, make_community):
        here, there = make_community(), make_community()
        people = b.bulk_people(5, here)
        b.bulk_seats(here, people, Body.COMMITTEE)
        b.bulk_workers(there, people[:2])
        assert here.code in run("M10.fulltime_share")


class TestTotalCap:
    def test_11_pass_12_fail(self, make_community):
        eleven, twelve = make_community(), make_community()
        for c, n in ((eleven, 11), (twelve, 12)):
            people = b.bulk_people(n, c)
            b.bulk_seats(c, people[:5], Body.PARTY)
            # Three cross-appointed people are counted once.
            b.bulk_seats(c, people[2:], Body.COMMITTEE)
        found = run("M10.total_cap")
        assert eleven.code not in found
        assert found[twelve.code].measured == 12


class TestWorkerRatio:
    def test_10000_residents_need_18_and_10001_need_19(self, make_community):
        ten_k = make_community(households=3000, population=10000)
        ten_k_one = make_community(households=3000, population=10001)
        for c in (ten_k, ten_k_one):
            b.bulk_workers(c, b.bulk_people(18, c))
        found = run("M11.worker_ratio")
        assert ten_k.code not in found
        assert (found[ten_k_one.code].measured, found[ten_k_one.code].required) == (18, 19)

    def test_only_active_workers_count(self, make_community):
        c = make_community(households=1000, population=5000)  # needs 9
        b.bulk_workers(c, b.bulk_people(8, c))
        leaver = b.person()
        # Left on the as-of day: no longer active that day.
        b.worker(c, who=leaver, entry_on=date(2020, 1, 1), leave_on=AS_OF)
        b.worker(c, entry_on=date(2025, 7, 1))  # not yet hired on the as-of date
        assert run("M11.worker_ratio")[c.code].measured == 8
        assert c.code not in run("M11.worker_ratio", as_of=date(2025, 6, 29))

    def test_revoked_community_is_not_judged(self, make_community):
        c = make_community(population=10000)
        community_revoke(community=c, on=date(2025, 1, 1))
        assert c.code not in run("M11.worker_ratio")


class TestOversizedStaffing:
    def test_needs_ratio_plus_one(self, make_community):
        enough = make_community(households=5001, population=10000)
        short = make_community(households=5001, population=10000)
        moderate = make_community(households=5000, population=10000)
        b.bulk_workers(enough, b.bulk_people(19, enough))
        b.bulk_workers(short, b.bulk_people(18, short))
        b.bulk_workers(moderate, b.bulk_people(18, moderate))
        found = run("M06.oversized_staffing")
        assert enough.code not in found and moderate.code not in found
        assert (found[short.code].required, found[short.code].severity) == (19, "warning")


class TestVacancy:
    def test_day_90_warns_day_91_violates_filled_passes(self, make_community):
        c = make_community()
        seat = b.seat(c, Body.COMMITTEE, "deputy_director", start_on=date(2020, 1, 1))
        vacancy = services.seat_end(seat=seat, on=date(2025, 1, 1), reason="辞职", open_vacancy=True)
        assert run("M11.vacancy", as_of=date(2025, 4, 1))[c.code].severity == "warning"  # day 90
        assert run("M11.vacancy", as_of=date(2025, 4, 2))[c.code].severity == "violation"  # day 91
        services.vacancy_fill(vacancy=vacancy, person=b.person(), on=date(2025, 5, 1))
        assert c.code not in run("M11.vacancy", as_of=date(2025, 6, 1))
        # Before the by-election date the seat was still vacant.
        assert run("M11.vacancy", as_of=date(2025, 4, 30))[c.code].severity == "violation"


def test_community_rules_query_count_does_not_grow(make_community):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            for rule_id in ("M10.party_size", "M10.committee_size", "M10.cross_appointment", "M10.fulltime_share",
                            "M10.total_cap", "M11.worker_ratio", "M06.oversized_staffing", "M11.vacancy"):
                run(rule_id)
        return len(ctx.captured_queries)

    for _ in range(2):
        c = make_community()
        committee_of(c, 3)
    small = count_queries()
    for _ in range(6):
        c = make_community(households=6000)
        committee_of(c, 4)
        party_of(c, 2)
    assert count_queries() == small
    assert Community.objects.count() == 8
