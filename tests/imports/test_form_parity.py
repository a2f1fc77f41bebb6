"""Forms and the import refuse the same rows with the same codes (issue 17, item 3).

The same bad rows go to the form (or the service its view calls) and to the workbook import, which now checks
them in bulk with its look-ups passed in; each refusal's field (as the sheet's column) and code must match."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from communities.forms import CommunityForm, CompoundForm
from communities.models import RetiredCommunityCode
from communities.sheets import CommunitySheet, CompoundSheet
from imports.services import workbook_import
from staffing import services as staffing_services
from staffing.models import Employment
from staffing.sheets import PersonSheet
from tests.staffing import builders as b
from tests.staffing.test_sheets import PERSON_HEADERS, person_row

from .test_import_workbook import COMMUNITY_HEADERS, COMPOUND_HEADERS, compound_row, existing, xlsx  # noqa: F401

pytestmark = pytest.mark.django_db

TOMORROW = date.today() + timedelta(days=2)  # past midnight in Asia/Shanghai too


def form_codes(form, sheet) -> set[tuple[str, str]]:
    assert not form.is_valid()
    return {(sheet.header_for_field(field), error.code) for field, errors in form.errors.as_data().items()
            for error in errors}


def import_codes(result, name: str) -> set[tuple[str, str]]:
    assert not result.ok
    return {(issue.column, issue.code) for issue in result.issues if issue.sheet == name}


COMMUNITY = {"code": "610104001200", "name": "新社区", "households": 1200, "population": 4000,
             "founded_on": "2001-05-01", "election_on": "2021-11-20", "party_org_type": "branch", "east": "东",
             "south": "南", "west": "西", "north": "北", "social_org_count": 3, "has_property_committee": True,
             "status": "active"}
BAD_COMMUNITIES = {
    "population_below_households": {"population": 1000},
    "founded_in_future": {"founded_on": TOMORROW.isoformat()},
    "elected_in_future": {"election_on": TOMORROW.isoformat()},
    "code_of_another_street": {"code": "610104009200"},
    "retired_code": {"code": "610104001999"},
    "code_not_12_digits": {"code": "61010400120"},
    "two_at_once": {"population": 10, "founded_on": TOMORROW.isoformat()},
}


@pytest.mark.parametrize("case", BAD_COMMUNITIES)
def test_a_bad_community_is_refused_by_the_form_and_the_import_with_the_same_codes(case, existing, admin_user,  # noqa: F811
                                                                                   streets):
    RetiredCommunityCode.objects.create(code="610104001999", community=existing["first"])
    data = {**COMMUNITY, "sub_district": streets["qingnian"].code, **BAD_COMMUNITIES[case]}
    by_form = form_codes(CommunityForm(data=data, user=admin_user), CommunitySheet)
    labels = {"branch": "党支部"}
    row = [data["code"], data["name"], "青年路街道", data["households"], data["population"], data["founded_on"], None,
           data["election_on"], labels[data["party_org_type"]], "东", "南", "西", "北", data["social_org_count"], "是"]
    by_import = import_codes(workbook_import(file=xlsx({"社区": [COMMUNITY_HEADERS, row]})), "社区")
    assert by_form == by_import


def test_a_compound_built_in_the_future_is_refused_the_same_way(existing, admin_user, streets):  # noqa: F811
    data = {"code": "XQ-NEW-1", "name": "新小区", "community": existing["first"].pk, "households": 100,
            "built_on": TOMORROW.isoformat(), "property_service": "market"}
    by_form = form_codes(CompoundForm(data=data, user=admin_user), CompoundSheet)
    book = xlsx({"小区": [COMPOUND_HEADERS, compound_row("XQ-NEW-1", built=TOMORROW.isoformat())]})
    assert by_form == import_codes(workbook_import(file=book), "小区") == {("建成日期", "date_in_future")}


def service_codes(call) -> set[tuple[str, str]]:
    with pytest.raises(ValidationError) as refused:
        call()
    return {(PersonSheet.header_for_field(field), error.code) for field, errors in refused.value.error_dict.items()
            for error in errors}


@pytest.fixture
def recorded(streets):
    qn = b.community(streets["qingnian"], "001")
    zy = b.community(streets["zaoyuan"], "001")
    number = b.id_number()
    job = b.worker(qn, who=b.person(id_number=number, name="李四"), entry_on=date(2020, 3, 1))
    return {"qn": qn, "zy": zy, "number": number, "job": job}


def test_a_recorded_persons_job_changed_badly_is_refused_by_the_service_and_the_import_alike(recorded):
    # The worker form's view calls employment_update; the import's bulk path checks the same clean().
    job = Employment.objects.get(pk=recorded["job"].pk)
    for change, row in (
            ({"leave_way": "resignation"}, {"way": "辞职"}),
            ({"filed_on": TOMORROW}, {"filed": TOMORROW.isoformat()}),
            ({"entry_on": TOMORROW}, {"entry": TOMORROW.isoformat()}),
    ):
        by_service = service_codes(lambda change=change: staffing_services.employment_update(
            employment=Employment.objects.get(pk=job.pk), **change))
        result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, person_row(recorded["number"], name="李四",
                                                                                **row)]}))
        assert import_codes(result, "人员") == by_service, change
    assert Employment.objects.get(pk=job.pk).leave_way == ""


def test_a_person_of_another_street_is_refused_by_the_form_rule_and_the_import_alike(recorded):
    by_service = service_codes(lambda: staffing_services.person_require_registrable(
        person=recorded["job"].person, sub_district_code=recorded["zy"].sub_district_id))
    result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, person_row(recorded["number"], name="李四",
                                                                            community=recorded["zy"].code)]}))
    assert import_codes(result, "人员") == by_service == {("身份证号", "id_held_elsewhere")}
