"""Shared fixtures: the role users every test speaks as."""

import fcntl
import os
import pickle

os.environ.setdefault("DJANGO_DEBUG", "1")

import pytest
from django.contrib.auth import get_user_model

# Under `make test` (pytest-xdist) every worker has a test database of its own (test_<name>_gw0, _gw1, …) and,
# read here before any test module, a Redis database of its own for the real-worker tests: worker N uses the
# database N below the one given (CI: 15, 14), so one worker's test never purges or takes the other's tasks, nor
# counts its Celery workers (kombu keeps even broadcasts apart by database).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER.startswith("gw") and os.environ.get("LIANHU_CI_REDIS_URL"):
    _base, _, _db = os.environ["LIANHU_CI_REDIS_URL"].rpartition("/")
    os.environ["LIANHU_CI_REDIS_URL"] = f"{_base}/{int(_db) - int(_WORKER[2:])}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL the security log refuses TRUNCATE (audit migration 0005) unless ``audit.truncate`` is on;
    pytest-django flushes the test database with TRUNCATE after transactional tests, so the test database, and
    only it, turns the switch on for every new connection."""
    from django.db import connections

    with django_db_blocker.unblock():
        for alias in connections:
            conn = connections[alias]
            if conn.vendor != "postgresql":
                continue
            with conn.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE {conn.ops.quote_name(conn.settings_dict['NAME'])} "
                               "SET audit.truncate = 'on'")
                cursor.execute("SET audit.truncate = 'on'")


@pytest.fixture(autouse=True)
def _fast_passwords(settings, tmp_path_factory):
    # Uploads and exported files land in a per-session temporary folder, never in var/media.
    settings.MEDIA_ROOT = str(tmp_path_factory.getbasetemp() / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def streets(db):
    from accounts.roles import ensure_role_groups
    from communities.services import sub_district_upsert

    ensure_role_groups()
    return {
        "qingnian": sub_district_upsert(code="610104001", name="青年路街道"),
        "zaoyuan": sub_district_upsert(code="610104009", name="枣园街道"),
    }


def _user(username, *groups, superuser=False):
    from django.contrib.auth.models import Group

    User = get_user_model()
    user = User.objects.create_user(username=username, password="Lianhu#2024pass", is_superuser=superuser,
                                    is_staff=superuser)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def clerk_qingnian(streets):
    from accounts.roles import Role

    return _user("clerk_qn", Role.CLERK.value, streets["qingnian"].clerk_group.name)


@pytest.fixture
def clerk_zaoyuan(streets):
    from accounts.roles import Role

    return _user("clerk_zy", Role.CLERK.value, streets["zaoyuan"].clerk_group.name)


@pytest.fixture
def reviewer(streets):
    from accounts.roles import Role

    return _user("reviewer", Role.REVIEWER.value)


@pytest.fixture
def department_user(streets):
    from accounts.roles import Role

    return _user("dept", Role.DEPARTMENT.value)


@pytest.fixture
def admin_user(streets):
    return _user("admin1", superuser=True)


@pytest.fixture
def today(monkeypatch):
    """Set "today" (Asia/Shanghai) for what decides live against replay: ``today(date)``."""
    from django.utils import timezone

    real = timezone.localdate

    def set_today(day):
        def localdate(value=None, timezone=None):
            return day if value is None else real(value, timezone)

        monkeypatch.setattr("django.utils.timezone.localdate", localdate)
        return day

    return set_today


def pytest_report_header(config):
    # CI's log must say which database the suite really ran on.
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db['NAME']})"


# -- the demo world, built once per session (tests/demo_world.py) ----------------------------------------------


def _forget_content_types() -> None:
    from .demo_world import forget_content_types

    forget_content_types()


@pytest.fixture(scope="module", autouse=True)
def _content_types_of_this_module():
    """After a restore that replaced the whole database and was rolled back (tests/demo_world.py), the cached
    content types name ids of the captured state: dropped before each module's own fixtures run."""
    _forget_content_types()


@pytest.fixture(autouse=True)
def _content_types_of_this_test():
    _forget_content_types()


def _captured_once_per_run(name: str, tmp_path_factory, django_db_blocker, build):
    """A demo capture built by one pytest-xdist worker and read by the others (the pattern pytest-xdist's
    documentation gives for session fixtures, with a lock file): the first worker to ask builds it and leaves
    it in the run's shared temporary folder; the others wait for it instead of loading the demo again."""
    from .demo_world import capture

    def built():
        with django_db_blocker.unblock():
            return capture(build)

    if not _WORKER:
        return built()
    shared = tmp_path_factory.getbasetemp().parent
    path = shared / f"{name}.pickle"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            demo = pickle.loads(path.read_bytes())
            demo.sequences_behind = True
            return demo
        demo = built()
        path.write_bytes(pickle.dumps(demo))
        return demo


@pytest.fixture(scope="session")
def whole_demo_rows(django_db_setup, django_db_blocker, tmp_path_factory):
    """What ``load_demo`` writes, built the first time a test of this run asks for it."""
    from .demo_world import load_whole_demo

    return _captured_once_per_run("whole_demo", tmp_path_factory, django_db_blocker, load_whole_demo)


@pytest.fixture(scope="session")
def structure_demo_rows(django_db_setup, django_db_blocker, tmp_path_factory):
    """What ``load_demo --structure-only`` writes."""
    from .demo_world import load_structure

    return _captured_once_per_run("structure_demo", tmp_path_factory, django_db_blocker, load_structure)


@pytest.fixture(scope="module")
def uninstrumented_templates():
    """For a module that requests thousands of pages and never reads ``response.context`` or ``.templates``: the
    test client's copy of every template context (``Template._render`` instrumented by setup_test_environment)
    is a cost of the harness, not of the pages, and is left out while the module runs."""
    from django.template.base import Template
    from django.test.utils import _TestState

    instrumented = Template._render  # type: ignore[attr-defined]  # set by setup_test_environment
    Template._render = _TestState.saved_data.template_render  # type: ignore[attr-defined]
    try:
        yield
    finally:
        Template._render = instrumented  # type: ignore[attr-defined]
