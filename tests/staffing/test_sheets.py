"""人员, 培训 and 考核 sheets: all or nothing, Chinese row errors by code, no whole ID number echoed."""

from datetime import date
from io import BytesIO, StringIO

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from imports.services import workbook_import
from staffing.idnumbers import mask
from staffing.models import Assessment, Employment, Person, Seat, TrainingAttendance

from . import builders as b

pytestmark = pytest.mark.django_db

PERSON_HEADERS = ["身份证号", "姓名", "社区代码", "社区工作者", "专职", "党组织职务", "居委会职务", "岗位", "等级", "学历",
                  "入职日期", "入职方式", "离职日期", "离职申请日期", "离职方式", "备案日期"]
TRAINING_HEADERS = ["身份证号", "培训名称", "培训类型", "培训日期"]
ASSESSMENT_HEADERS = ["身份证号", "年度", "结果"]


def person_row(number, name="张三", community="610104001001", worker="是", full_time="是", party=None, committee=None,
               post="其他", grade=8, education="本科", entry="2020-03-01", channel="公开招聘", leave=None, submitted=None,
               way=None, filed=None):
    return [number, name, community, worker, full_time, party, committee, post, grade, education, entry, channel,
            leave, submitted, way, filed]


def xlsx(sheets, name="人员.xlsx"):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet_name, rows in sheets.items():
        sheet = workbook.create_sheet(sheet_name)
        for r in rows:
            sheet.append(r)
    buffer = BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = name
    return buffer


def issues(result):
    return [(i.sheet, i.row, i.column, i.code) for i in result.issues]


@pytest.fixture
def qn(streets):
    return b.community(streets["qingnian"], "001")


@pytest.fixture
def numbers():
    return [b.id_number() for _ in range(4)]


def test_three_sheets_import_together(qn, numbers):
    a, c, d = numbers[:3]
    result = workbook_import(file=xlsx({
        "人员": [PERSON_HEADERS,
                 person_row(a, "甲", party="书记", committee="主任", post="正职", grade=3),
                 person_row(c, "乙", worker="否", full_time=None, committee="委员", post=None, grade=None,
                            channel=None),
                 person_row(d, "丙", leave="2025-05-10", submitted="2025-05-01", way="辞职")],
        "培训": [TRAINING_HEADERS, [a, "2025年全员培训", "全员培训", "2025-04-01"],
                 [c, "2025年全员培训", "全员培训", "2025-04-01"], [a, "书记主任专项培训", "专项培训", "2025-05-01"]],
        "考核": [ASSESSMENT_HEADERS, [a, 2024, "优秀"], [d, 2024, "称职"]],
    }))
    assert result.ok, issues(result)
    assert Person.objects.count() == 3
    first = Person.objects.with_id_number(a).get()
    assert set(first.seats.values_list("body", "role")) == {("party", "secretary"), ("committee", "director")}
    assert first.community == qn
    assert Employment.objects.get(person=first).grade == 3
    assert not Employment.objects.filter(person__in=Person.objects.with_id_number(c)).exists()
    assert Employment.objects.get(person__in=Person.objects.with_id_number(d)).leave_way == "resignation"
    assert TrainingAttendance.objects.filter(event__title="2025年全员培训").count() == 2
    assert Assessment.objects.get(person=first, year=2024).result == "excellent"
    # Keys printed for the import never show a whole number.
    assert all(a not in k for k in result.sheet("人员").created)


def test_one_bad_row_writes_nothing(qn, numbers):
    good, other = numbers[:2]
    bad = other[:17] + ("1" if other[17] == "0" else "0")
    result = workbook_import(file=xlsx({
        "人员": [PERSON_HEADERS, person_row(good), person_row(bad, "坏")],
        "考核": [ASSESSMENT_HEADERS, [good, 2024, "优秀"]],
    }))
    assert ("人员", 3, "身份证号", "id_check_digit") in issues(result)
    text = " ".join(i.message for i in result.issues)
    assert bad not in text and mask(bad) in text
    assert not Person.objects.exists() and not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("changes", "column", "code"),
    [
        ({"grade": 19}, "等级", "grade_range"),
        ({"grade": 0}, "等级", "grade_range"),
        ({"entry": "2022-05-01", "leave": "2022-04-30"}, "离职日期", "leave_before_entry"),
        ({"party": "主任"}, "党组织职务", "bad_choice"),
        ({"community": "610104001999"}, "社区代码", "unknown_community"),
        ({"worker": "否", "full_time": "是"}, "专职", "fulltime_not_worker"),
        ({"party": "委员", "entry": None}, "入职日期", "seat_start_required"),
        ({"entry": "2999-01-01"}, "入职日期", "date_in_future"),
    ],
)
def test_person_row_errors_by_code(qn, numbers, changes, column, code):
    result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, person_row(numbers[0], **changes)]}))
    assert ("人员", 2, column, code) in issues(result)
    assert all(i.message for i in result.issues)
    assert not Person.objects.exists()


def test_seats_in_two_communities_refused(streets, qn, numbers):
    other = b.community(streets["qingnian"], "002")
    p = b.person(id_number=numbers[0])
    b.seat(qn, "party", "member", who=p, start_on=date(2021, 1, 1))
    result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, person_row(numbers[1]),
                                                person_row(numbers[0], community=other.code, committee="委员",
                                                           entry="2024-01-01")]}))
    assert ("人员", 3, "社区代码", "seat_two_communities") in issues(result)
    # Refused while writing: the good row before it is rolled back too.
    assert Seat.objects.count() == 1 and Person.objects.count() == 1


def test_duplicate_id_number_in_sheet(qn, numbers):
    result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, person_row(numbers[0]), person_row(numbers[0])]}))
    assert ("人员", 3, "身份证号", "duplicate_key") in issues(result)
    assert numbers[0] not in " ".join(i.message for i in result.issues)


def test_id_number_as_excel_number_refused(qn):
    result = workbook_import(file=xlsx({"考核": [ASSESSMENT_HEADERS, [610104198001010011, 2024, "优秀"]]}))
    assert ("考核", 2, "身份证号", "id_format") in issues(result)


def test_training_for_unknown_and_refused_persons(qn, numbers):
    bad_grade, unknown = numbers[:2]
    result = workbook_import(file=xlsx({
        "人员": [PERSON_HEADERS, person_row(bad_grade, grade=30)],
        "培训": [TRAINING_HEADERS, [bad_grade, "培训", "全员培训", "2025-04-01"], [unknown, "培训", "全员培训", "2025-04-01"]],
    }))
    found = issues(result)
    assert ("培训", 2, "身份证号", "person_row_refused") in found
    assert ("培训", 3, "身份证号", "unknown_person") in found
    assert unknown not in " ".join(i.message for i in result.issues)


def test_assessment_rows(qn, numbers):
    p = b.worker(qn, who=b.person(id_number=numbers[0])).person
    result = workbook_import(file=xlsx({"考核": [ASSESSMENT_HEADERS, [numbers[0], 2024, "良好"],
                                                [numbers[0], 2023, "称职"], [numbers[0], 2023, "优秀"]]}))
    found = issues(result)
    assert ("考核", 2, "结果", "bad_choice") in found
    assert ("考核", 4, "身份证号", "duplicate_key") in found
    assert not Assessment.objects.filter(person=p).exists()


def test_clerk_cannot_import_another_streets_people(streets, numbers, clerk_zaoyuan):
    b.community(streets["qingnian"], "001")
    result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, person_row(numbers[0])]}), user=clerk_zaoyuan)
    assert ("人员", 2, "社区代码", "out_of_scope") in issues(result)


def test_reimport_is_unchanged(qn, numbers):
    sheet = {"人员": [PERSON_HEADERS, person_row(numbers[0], party="书记")]}
    assert workbook_import(file=xlsx(sheet)).ok
    again = workbook_import(file=xlsx(sheet))
    assert again.ok and len(again.sheet("人员").unchanged) == 1
    assert Seat.objects.count() == 1 and Employment.objects.count() == 1


def test_command_prints_row_errors_and_exits_1(qn, numbers, tmp_path):
    path = tmp_path / "人员.xlsx"
    path.write_bytes(xlsx({"人员": [PERSON_HEADERS, person_row(numbers[0], grade=19)]}).getvalue())
    err = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_workbook", str(path), stderr=err, stdout=StringIO())
    assert exc.value.returncode == 1
    assert "人员 第2行 等级: 等级应为三岗十八级的1–18级" in err.getvalue()
    assert numbers[0] not in err.getvalue()
