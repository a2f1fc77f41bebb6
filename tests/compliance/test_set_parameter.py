"""`set_parameter` sets a dated rule parameter from the command line, as the catalogue page does."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import SecurityEvent
from compliance.models import RuleParameter
from compliance.parameters import params_for
from compliance.rules import registry


def _run(*args):
    out = StringIO()
    call_command("set_parameter", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_sets_a_value_from_a_date_and_not_before():
    out = _run("M04.households", "max_households", "8000", "--from", "2026-07-01", "--reason", "政策修订")
    assert "8000" in out and "2026-07-01" in out
    rule = registry.get("M04.households")
    assert params_for(rule, dt.date(2026, 6, 30))["max_households"] == 5000
    assert params_for(rule, dt.date(2026, 7, 1))["max_households"] == 8000
    row = RuleParameter.objects.get()
    assert (row.rule_id, row.name, row.value, row.reason) == ("M04.households", "max_households", 8000, "政策修订")


@pytest.mark.django_db
def test_recorded_in_the_security_log_as_the_command_line():
    _run("M19.work_funds", "city_funds", "140000", "--from", "2027-01-01", "--reason", "市级标准提高")
    event = SecurityEvent.objects.get(kind="parameter_change")
    assert event.detail["rule"] == "M19.work_funds" and event.detail["value"] == 140000
    assert (event.username, event.detail["via"], event.detail["command"]) == ("(命令行)", "command", "set_parameter")


@pytest.mark.django_db
@pytest.mark.parametrize("args, fragment", [
    (("M04.nothing", "max_households", "1"), "不存在"),
    (("M04.households", "max_household", "1"), "没有参数"),
    (("M04.households", "max_households", "很多"), "无效"),
])
def test_bad_input_is_refused_and_writes_nothing(args, fragment):
    with pytest.raises(CommandError) as excinfo:
        _run(*args, "--from", "2026-07-01", "--reason", "试")
    assert fragment in str(excinfo.value)
    assert not RuleParameter.objects.exists()
    assert not SecurityEvent.objects.filter(kind="parameter_change").exists()


@pytest.mark.django_db
def test_bad_date_is_refused():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _run("M04.households", "max_households", "8000", "--from", "2026-13-01", "--reason", "试")
    assert not RuleParameter.objects.exists()
