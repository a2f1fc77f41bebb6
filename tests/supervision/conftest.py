"""Findings of known units for the 整改/督导/考核 tests, made directly (no rules run)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.compliance.pages import finding as _finding


@pytest.fixture
def make_community(streets):
    from communities import services

    counter = {"n": 0}

    def make(street="qingnian", **fields):
        counter["n"] += 1
        sub = streets[street]
        return services.community_create(code=f"{sub.code}{counter['n']:03d}", name=f"测试{counter['n']}社区",
                                         sub_district=sub, households=3000, population=9000, **fields)

    return make


def overdue_finding(*, days_overdue: int = 200, due: dt.date | None = None, **kwargs):
    """An open finding past its 整改期限 by ``days_overdue`` days (old enough for 约谈 on any reading)."""
    today = timezone.localdate()
    due = due or today - dt.timedelta(days=days_overdue)
    first_seen = kwargs.pop("first_seen", due - dt.timedelta(days=30))
    extra = {"due_date": due}
    unit = kwargs.pop("unit", None)
    if unit:
        extra.update(responsible_kind="department", responsible_unit=unit)
    return _finding(first_seen=first_seen, last_seen=kwargs.pop("last_seen", today), **extra, **kwargs)


@pytest.fixture
def finding_factory():
    return overdue_finding


@pytest.fixture
def department_housing(department_user):
    from accounts.models import DepartmentMembership

    DepartmentMembership.objects.create(user=department_user, unit="housing")
    return department_user


@pytest.fixture
def reviewer2(streets):
    from accounts.roles import Role
    from tests.conftest import _user

    return _user("reviewer2", Role.REVIEWER.value)
