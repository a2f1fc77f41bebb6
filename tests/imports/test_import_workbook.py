"""import_workbook: the 社区 and 小区 sheets, all or nothing."""

from datetime import date, datetime
from io import BytesIO, StringIO

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.serializers import serialize

from communities.models import Community, Compound, SubDistrict
from communities.services import community_create, compound_create
from core.sheets import registry
from imports.services import workbook_import

pytestmark = pytest.mark.django_db

COMMUNITY_HEADERS = [
    "社区代码", "社区名称", "街道办事处", "户数", "常住人口", "成立日期", "批复日期", "两委选举日期",
    "党组织类型", "东至", "南至", "西至", "北至", "社会组织数", "环境和物业管理委员会",
]
COMPOUND_HEADERS = [
    "小区编号", "小区名称", "社区代码", "户数", "建成日期", "应配建社区用房", "已提供社区用房", "物业服务方式", "管理主体未明确",
]


def community_row(code, name="测试社区", street="青年路街道", households=1200, population=4000, founded="2001-05-01",
                  approved=None, election="2021-11-20", party="党支部", orgs=12, committee="是",
                  bounds=("莲湖路", "西大街", "北大街", "青年路")):
    return [code, name, street, households, population, founded, approved, election, party, *bounds, orgs, committee]


def compound_row(code, name="测试小区", community="610104001001", households=300, built="2005-06-01", owes="否",
                 provided="否", service="市场化物业", unclear="否"):
    return [code, name, community, households, built, owes, provided, service, unclear]


def xlsx(sheets: dict[str, list[list]]) -> BytesIO:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "导入.xlsx"
    return buffer


def save(tmp_path, buffer: BytesIO, name="导入.xlsx"):
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_workbook", *[str(a) for a in args], stdout=out, stderr=err)
    except CommandError as error:
        return 1 if error.returncode == 1 else error.returncode, out.getvalue(), err.getvalue() + str(error)
    return 0, out.getvalue(), err.getvalue()


def snapshot():
    models = [SubDistrict, Community, Compound]
    return (
        {m.__name__: serialize("json", m.objects.order_by("pk")) for m in models},
        {m.__name__: m.history.count() for m in models},
    )


def codes(result):
    return [(i.sheet, i.row, i.column, i.code) for i in result.issues]


@pytest.fixture
def existing(streets):
    first = community_create(code="610104001001", name="莲湖路第一社区居委会", sub_district=streets["qingnian"],
                             households=1180, population=3892, founded_on=date(2001, 5, 1), figures_are_sample=True,
                             population_is_sample=True)
    other = community_create(code="610104009001", name="枣园社区", sub_district=streets["zaoyuan"],
                             households=2000, population=6000)
    compound_create(code="XQ610104001001-01", name="老院子", community=first, households=200)
    return {"first": first, "other": other}


# ---------------------------------------------------------------------------


def test_creates_and_updates_with_the_acting_user_in_history(existing, admin_user):
    book = xlsx({
        "社区": [
            COMMUNITY_HEADERS,
            community_row("610104001001", name="莲湖路第一社区居委会", households=1190, population=3900),
            community_row("610104001050", name="新建社区", households=1500, population=5200, party="党总支",
                          approved="2024-09-12", election=None),
        ],
        "小区": [
            COMPOUND_HEADERS,
            compound_row("XQ610104001001-01", name="老院子", households=210, service="居民自管"),
            compound_row("XQ-NEW-01", name="新小区", community="610104001050", built="2015-03-01", owes="是"),
        ],
    })
    result = workbook_import(file=book, user=admin_user)

    assert result.ok and result.written
    assert result.sheet("社区").created == ["610104001050"]
    assert result.sheet("社区").updated == ["610104001001"]
    assert result.sheet("小区").created == ["XQ-NEW-01"]
    assert result.sheet("小区").updated == ["XQ610104001001-01"]

    first = Community.objects.get(code="610104001001")
    assert (first.households, first.population, first.figures_are_sample, first.population_is_sample) == (
        1190, 3900, False, False)
    new = Community.objects.get(code="610104001050")
    assert new.sub_district.name == "青年路街道"
    assert (new.party_org_type, new.approved_on, new.election_on) == ("general_branch", date(2024, 9, 12), None)
    compound = Compound.objects.get(code="XQ-NEW-01")
    assert compound.community == new and compound.sub_district.code == "610104001"
    assert (compound.built_on, compound.must_provide_facility, compound.facility_provided) == (
        date(2015, 3, 1), True, False)
    assert Compound.objects.get(code="XQ610104001001-01").property_service == "self"
    assert first.history.latest().history_user == admin_user
    assert first.history.latest().history_change_reason == "工作簿导入"


def test_unchanged_rows_write_no_history(existing):
    book = lambda: xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001001", name="莲湖路第一社区居委会",  # noqa: E731
                                                                 households=1180, population=3892)]})
    workbook_import(file=book())
    before = Community.history.count()
    result = workbook_import(file=book())
    assert result.sheet("社区").unchanged == ["610104001001"]
    assert Community.history.count() == before


def test_headers_in_any_order_and_sheets_in_dependency_order(existing):
    order = list(reversed(COMMUNITY_HEADERS))
    row = dict(zip(COMMUNITY_HEADERS, community_row("610104001060", name="倒序社区"), strict=True))
    book = xlsx({
        # 小区 comes first in the file but names a community the 社区 sheet creates.
        "小区": [COMPOUND_HEADERS, compound_row("XQ-NEW-02", community="610104001060")],
        "社区": [order, [row[h] for h in order]],
    })
    result = workbook_import(file=book)
    assert result.ok, [str(i) for i in result.issues]
    assert Compound.objects.get(code="XQ-NEW-02").community.name == "倒序社区"
    assert [s.name for s in result.sheets] == ["社区", "小区"]
    assert [s.name for s in registry.ordered(["小区", "社区"])] == ["社区", "小区"]


def test_bad_last_row_leaves_database_as_it_was(existing, tmp_path):
    before = snapshot()
    path = save(tmp_path, xlsx({
        "社区": [
            COMMUNITY_HEADERS,
            community_row("610104001001", name="莲湖路第一社区居委会", households=1300, population=4000),
            community_row("610104001051"),
            community_row("610104001052", households=300, population=100),
        ],
        "小区": [COMPOUND_HEADERS, compound_row("XQ-NEW-03", community="610104001051")],
    }))
    status, _out, err = run(path)

    assert status == 1
    assert "社区 第4行 常住人口: 常住人口（100）不能少于户数（300）。" in err.splitlines()
    assert "未写入任何数据" in err
    assert snapshot() == before
    assert Community.objects.get(code="610104001001").households == 1180


def test_every_error_is_printed_one_per_line(existing, tmp_path):
    path = save(tmp_path, xlsx({
        "社区": [
            COMMUNITY_HEADERS,
            community_row("61010400105", households="很多"),
            community_row("610104001053", street="不存在街道", founded="2001-02-30"),
        ],
        "小区": [COMPOUND_HEADERS, compound_row("XQ-NEW-04", community="610104001999", unclear="对")],
    }))
    status, _out, err = run(path)
    assert status == 1
    lines = err.splitlines()
    assert "社区 第2行 社区代码: 社区代码必须是12位数字。" in lines
    assert "社区 第2行 户数: 必须是非负整数。" in lines
    assert any(line.startswith("社区 第3行 街道办事处: 未知的街道办事处“不存在街道”") for line in lines)
    assert any(line.startswith("社区 第3行 成立日期: 日期应为 YYYY-MM-DD") for line in lines)
    assert "小区 第2行 管理主体未明确: 应填“是”或“否”。" in lines


def test_model_errors_carry_the_forms_codes(existing):
    future = date.today().replace(year=date.today().year + 1).isoformat()
    book = xlsx({
        "社区": [
            COMMUNITY_HEADERS,
            community_row("610104009002"),  # 枣园's prefix under 青年路
            community_row("610104001054", founded=future),
            community_row("610104001055", households=500, population=400),
            community_row("610104001056", street="610104009"),  # a 街办 by its code, wrong prefix again
        ],
        "小区": [
            COMPOUND_HEADERS,
            compound_row("XQ-NEW-05", community="610104001777"),
            compound_row("XQ-NEW-06", community="610104001055"),
        ],
    })
    result = workbook_import(file=book)
    assert codes(result) == [
        ("社区", 2, "社区代码", "code_prefix"),
        ("社区", 3, "成立日期", "date_in_future"),
        ("社区", 4, "常住人口", "population_below_households"),
        ("社区", 5, "社区代码", "code_prefix"),
        ("小区", 2, "社区代码", "unknown_community"),
        ("小区", 3, "社区代码", "community_row_refused"),
    ]
    assert not Community.objects.filter(code__in=["610104001054", "610104001055"]).exists()


def test_dry_run_writes_nothing_and_lists_creates_and_updates(existing, tmp_path):
    before = snapshot()
    path = save(tmp_path, xlsx({
        "社区": [
            COMMUNITY_HEADERS,
            community_row("610104001001", name="莲湖路第一社区居委会", households=1250, population=3892),
            community_row("610104001057", name="试运行社区"),
        ],
        "小区": [COMPOUND_HEADERS, compound_row("XQ-NEW-07", community="610104001057")],
    }))
    status, out, _err = run(path, "--dry-run")
    assert status == 0
    assert "社区：共 2 行，将新增 1，将更新 1" in out
    assert "将新增：610104001057" in out and "将更新：610104001001" in out
    assert "将新增：XQ-NEW-07" in out
    assert "没有写入任何数据" in out
    assert snapshot() == before

    result = workbook_import(file=path, dry_run=True)
    assert result.ok and not result.written
    assert result.sheet("小区").created == ["XQ-NEW-07"]


def test_dry_run_reports_errors_too(existing, tmp_path):
    path = save(tmp_path, xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001058", households=-3)]}))
    status, _out, err = run(path, "--dry-run")
    assert status == 1
    assert "社区 第2行 户数: 必须是非负整数。" in err


def test_excel_date_cells_text_dates_and_numbers_as_text(existing):
    book = xlsx({"社区": [
        COMMUNITY_HEADERS,
        community_row("610104001061", founded=datetime(1998, 7, 1), households=1180.0, population="3892"),
        community_row("610104001062", founded="1998-07-01", households="1180.0", population=3892.0,
                      election=date(2021, 11, 2)),
    ]})
    result = workbook_import(file=book)
    assert result.ok, [str(i) for i in result.issues]
    a, b = Community.objects.filter(code__in=["610104001061", "610104001062"]).order_by("code")
    assert a.founded_on == b.founded_on == date(1998, 7, 1)
    assert a.households == b.households == 1180 and a.population == b.population == 3892
    assert b.election_on == date(2021, 11, 2)


def test_fractional_numbers_are_refused(existing):
    book = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001063", households=1180.5)]})
    assert codes(workbook_import(file=book)) == [("社区", 2, "户数", "not_non_negative_integer")]


def test_numeric_code_cells_are_read_as_codes(existing):
    book = xlsx({"社区": [COMMUNITY_HEADERS, community_row(610104001064)]})
    assert workbook_import(file=book).ok
    assert Community.objects.filter(code="610104001064").exists()


def test_formulas_are_refused(existing):
    book = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001065", population="=B2*3")]})
    result = workbook_import(file=book)
    assert codes(result) == [("社区", 2, "常住人口", "formula")]
    assert not Community.objects.filter(code="610104001065").exists()


def test_duplicate_key_within_the_file_is_refused(existing):
    book = xlsx({
        "社区": [COMMUNITY_HEADERS, community_row("610104001066"), community_row("610104001066", name="又一个")],
        "小区": [COMPOUND_HEADERS, compound_row("XQ-DUP"), compound_row("XQ-DUP")],
    })
    result = workbook_import(file=book)
    assert codes(result) == [("社区", 3, "社区代码", "duplicate_key"), ("小区", 3, "小区编号", "duplicate_key")]
    assert "与第2行重复" in result.issues[0].message
    assert not Community.objects.filter(code="610104001066").exists()


def test_missing_and_unknown_columns(existing):
    headers = [h for h in COMMUNITY_HEADERS if h != "户数"] + ["备注"]
    book = xlsx({"社区": [headers, ["610104001067"]]})
    result = workbook_import(file=book)
    assert ("社区", 1, "备注", "unknown_column") in codes(result)
    assert ("社区", 1, "户数", "missing_column") in codes(result)


def test_optional_columns_may_be_left_out(existing):
    optional = {"批复日期", "两委选举日期"}
    headers = [h for h in COMMUNITY_HEADERS if h not in optional]
    row = dict(zip(COMMUNITY_HEADERS, community_row("610104001001", name="莲湖路第一社区居委会"), strict=True))
    Community.objects.filter(code="610104001001").update(election_on=date(2021, 10, 30))
    result = workbook_import(file=xlsx({"社区": [headers, [row[h] for h in headers]]}))
    assert result.ok
    # The absent column leaves the field alone.
    assert Community.objects.get(code="610104001001").election_on == date(2021, 10, 30)


def _csv(rows, encoding):
    text = "\r\n".join(",".join("" if v is None else str(v) for v in row) for row in rows) + "\r\n"
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_in_gbk_and_utf8(existing, tmp_path, encoding):
    path = tmp_path / "社区.csv"
    path.write_bytes(_csv([COMMUNITY_HEADERS, community_row("610104001068", name="糖坊街社区居委会")], encoding))
    status, out, err = run(path)
    assert status == 0, err
    assert Community.objects.get(code="610104001068").name == "糖坊街社区居委会"
    assert "社区：共 1 行，已新增 1" in out


def test_csv_sheet_named_by_option(existing, tmp_path):
    path = tmp_path / "xiaoqu-2024.csv"
    path.write_bytes(_csv([COMPOUND_HEADERS, compound_row("XQ-CSV-01", name="西荷花园")], "gbk"))
    assert run(path)[0] == 1  # the stem names no sheet
    status, _out, err = run(path, "--sheet", "小区")
    assert status == 0, err
    assert Compound.objects.get(code="XQ-CSV-01").community.code == "610104001001"


def test_csv_errors_use_spreadsheet_row_numbers(existing, tmp_path):
    path = tmp_path / "小区.csv"
    rows = [COMPOUND_HEADERS, compound_row("XQ-CSV-02"), [], compound_row("XQ-CSV-03", service="物业公司")]
    path.write_bytes(_csv(rows, "utf-8-sig"))
    status, _out, err = run(path)
    assert status == 1
    assert "小区 第4行 物业服务方式: 应为以下之一：市场化物业、居民自管、国企兜底、单位自管、无。" in err.splitlines()
    assert not Compound.objects.filter(code="XQ-CSV-02").exists()


def test_unassigned_compounds(existing, clerk_qingnian):
    book = xlsx({"小区": [
        [*COMPOUND_HEADERS, "街道办事处"],
        [*compound_row("XQ-U-01", community=None), "枣园街道"],
        [*compound_row("XQ610104001001-01", name="老院子", community=""), ""],
    ]})
    assert workbook_import(file=book).ok
    assert Compound.objects.get(code="XQ-U-01").sub_district.name == "枣园街道"
    old = Compound.objects.get(code="XQ610104001001-01")
    assert old.community is None and old.sub_district.name == "青年路街道"

    # A clerk's new unassigned compound lies in their own 街办.
    book = xlsx({"小区": [COMPOUND_HEADERS, compound_row("XQ-U-02", community=None)]})
    assert workbook_import(file=book, user=clerk_qingnian).ok
    assert Compound.objects.get(code="XQ-U-02").sub_district.name == "青年路街道"


def test_a_clerk_may_only_import_their_own_sub_district(existing, clerk_qingnian):
    before = snapshot()
    book = xlsx({
        "社区": [
            COMMUNITY_HEADERS,
            community_row("610104001069", name="本街办新社区"),
            community_row("610104009001", name="枣园社区", street="枣园街道", households=2100, population=6000),
            community_row("610104009070", name="越界新社区", street="枣园街道"),
        ],
        "小区": [COMPOUND_HEADERS, compound_row("XQ-NEW-08", community="610104009001")],
    })
    result = workbook_import(file=book, user=clerk_qingnian)
    assert codes(result) == [
        ("社区", 3, "街道办事处", "out_of_scope"),
        ("社区", 4, "街道办事处", "out_of_scope"),
        ("小区", 2, "社区代码", "out_of_scope"),
    ]
    assert "您只能导入本街办（青年路街道）的数据" in result.issues[0].message
    assert snapshot() == before

    own = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001069", name="本街办新社区")]})
    result = workbook_import(file=own, user=clerk_qingnian)
    assert result.ok
    assert Community.history.filter(code="610104001069").latest().history_user == clerk_qingnian


def test_reviewers_may_not_import(existing, reviewer):
    book = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001070")]})
    result = workbook_import(file=book, user=reviewer)
    assert codes(result) == [("社区", 2, "街道办事处", "out_of_scope")]
    assert "不是街办办事员" in result.issues[0].message


def test_unknown_sheets_are_skipped_and_an_empty_workbook_refused(existing, tmp_path):
    path = save(tmp_path, xlsx({"说明": [["随便写点什么"]], "社区": [COMMUNITY_HEADERS, community_row("610104001071")]}))
    status, out, _err = run(path)
    assert status == 0 and "跳过工作表“说明”" in out

    path = save(tmp_path, xlsx({"说明": [["随便写点什么"]]}), name="空.xlsx")
    status, _out, err = run(path)
    assert status == 1 and "没有名为" in err


def test_unreadable_file(existing, tmp_path):
    path = tmp_path / "坏.xlsx"
    path.write_bytes(b"not a workbook")
    status, _out, err = run(path)
    assert status == 1 and "无法读取" in err


def test_sheet_option_limits_a_workbook(existing):
    book = xlsx({
        "社区": [COMMUNITY_HEADERS, community_row("610104001072")],
        "小区": [COMPOUND_HEADERS, compound_row("XQ-NEW-09")],
    })
    result = workbook_import(file=book, sheet="小区")
    assert result.ok and [s.name for s in result.sheets] == ["小区"]
    assert not Community.objects.filter(code="610104001072").exists()
    assert Compound.objects.filter(code="XQ-NEW-09").exists()


def test_rules_rejudge_after_a_committed_import_only(existing, django_capture_on_commit_callbacks):
    from compliance.models import Finding

    micro = community_row("610104001073", name="微型社区", households=600, population=1500)
    bad = xlsx({"社区": [COMMUNITY_HEADERS, micro, community_row("610104001074", households=-1)]})
    with django_capture_on_commit_callbacks(execute=True):
        assert not workbook_import(file=bad).ok
    with django_capture_on_commit_callbacks(execute=True):
        assert workbook_import(file=xlsx({"社区": [COMMUNITY_HEADERS, micro]}), dry_run=True).ok
    assert not Finding.objects.filter(target_key="610104001073").exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert workbook_import(file=xlsx({"社区": [COMMUNITY_HEADERS, micro]})).ok
    assert Finding.objects.filter(rule_id="M04.households", target_key="610104001073", status="open").exists()


def test_import_runs_without_cyclic_collection_and_leaves_it_on(existing, admin_user, monkeypatch):
    """An import builds every row's objects before writing them: the collector is paused for it (core.collector),
    and on again afterwards, whether the file was written, refused or the write failed."""
    import gc

    import imports.services

    seen = []
    original = imports.services._write_sheet

    def watching(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(imports.services, "_write_sheet", watching)
    good = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001051", name="新社区")]})
    assert workbook_import(file=good, user=admin_user).written
    bad = xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001052", households="很多")]})
    assert not workbook_import(file=bad, user=admin_user).ok
    assert seen and not any(seen) and gc.isenabled()

    def failing(*args, **kwargs):
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(imports.services, "_write_sheet", failing)
    with pytest.raises(RuntimeError):
        workbook_import(file=xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001053")]}), user=admin_user)
    assert gc.isenabled()
    assert not Community.objects.filter(code__in=["610104001052", "610104001053"]).exists()
