import pytest


@pytest.fixture
def community(streets):
    from communities.services import community_create

    return community_create(
        code="610104001001", name="青年路社区", sub_district=streets["qingnian"], households=3500, population=9000
    )


@pytest.fixture
def other_community(streets):
    from communities.services import community_create

    return community_create(
        code="610104009001", name="枣园社区", sub_district=streets["zaoyuan"], households=1200, population=4000
    )


def unit_user(username, unit):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.models import DepartmentMembership
    from accounts.roles import Role

    user = get_user_model().objects.create_user(username=username, password="Lianhu#2024pass")
    user.groups.add(Group.objects.get(name=Role.DEPARTMENT.value))
    DepartmentMembership.objects.create(user=user, unit=unit)
    return user


@pytest.fixture
def planning_user(streets):
    return unit_user("zrzy", "planning")


@pytest.fixture
def housing_user(streets):
    return unit_user("zjj", "housing")


@pytest.fixture
def civil_user(streets):
    return unit_user("mzj", "civil_affairs")


@pytest.fixture
def finance_user(streets):
    return unit_user("czj", "finance")
