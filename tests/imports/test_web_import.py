"""导入导出 pages: upload, preview, error workbook, confirm; hostile files refused with nothing written."""

from __future__ import annotations

import io
import zipfile
import zlib
from datetime import datetime

import openpyxl
import pytest
from django.urls import reverse

from communities.models import Community, Compound
from imports.models import StoredUpload, UploadState
from tests.imports.test_import_workbook import (
    COMMUNITY_HEADERS,
    COMPOUND_HEADERS,
    community_row,
    compound_row,
    existing,  # noqa: F401 - fixture
    snapshot,
    xlsx,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, data: bytes, name: str, sheet: str = ""):
    file = io.BytesIO(data)
    file.name = name
    response = client.post(reverse("imports:upload"), {"file": file, "sheet": sheet})
    assert response.status_code == 302, response.content[:500]
    stored = StoredUpload.objects.order_by("-created_at").first()
    return stored, client.get(response["Location"])


def refused(stored) -> list[tuple[str, int, str, str]]:
    return [(s["name"], r["row"], i["column"], i["code"])
            for s in stored.summary["sheets"] for r in s["refused"] for i in r["issues"]]


def file_codes(stored) -> list[str]:
    return [i["code"] for i in stored.summary["file_issues"]]


# --------------------------------------------------------------------------- the journey


def test_preview_error_workbook_fix_and_confirm(client, existing, clerk_qingnian):  # noqa: F811
    client.force_login(clerk_qingnian)
    before = snapshot()
    book = xlsx({"社区": [
        COMMUNITY_HEADERS,
        community_row("610104001080", name="新社区甲"),
        community_row("610104001081", name="新社区乙", households="一千"),
        community_row("610104001001", name="莲湖路第一社区居委会", households=1190, population=3900),
    ]}).getvalue()
    stored, page = upload(client, book, "社区导入.xlsx")
    stored.refresh_from_db()
    assert stored.state == UploadState.REFUSED
    assert refused(stored) == [("社区", 3, "户数", "not_non_negative_integer")]
    html = page.content.decode()
    assert "第3行" in html and "必须是非负整数" in html and "整个文件都不会导入" in html
    assert "确认导入" not in html
    assert snapshot() == before

    errors = client.get(reverse("imports:errors", args=[stored.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(errors.content))["社区"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "错误" and list(rows[0][:-1]) == COMMUNITY_HEADERS
    assert rows[2][0] == "610104001081" and "户数：必须是非负整数" in rows[2][-1]
    assert rows[1][-1] is None and rows[3][-1] is None  # good rows stay, unmarked

    # Fixed in Excel (the 错误 column left in) and uploaded again.
    fixed = openpyxl.load_workbook(io.BytesIO(errors.content))
    fixed["社区"].cell(row=3, column=COMMUNITY_HEADERS.index("户数") + 1, value=1000)
    out = io.BytesIO()
    fixed.save(out)
    stored, page = upload(client, out.getvalue(), "社区导入-错误.xlsx")
    stored.refresh_from_db()
    assert stored.state == UploadState.CHECKED, stored.summary
    sheet_summary = stored.summary["sheets"][0]
    assert sheet_summary["created"] == ["610104001080", "610104001081"]
    assert sheet_summary["updated"] == ["610104001001"]
    assert "确认导入" in page.content.decode()
    assert snapshot() == before  # the preview wrote nothing

    response = client.post(reverse("imports:confirm", args=[stored.pk]))
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.state == UploadState.IMPORTED
    assert Community.objects.get(code="610104001081").households == 1000
    assert Community.objects.get(code="610104001001").households == 1190
    assert Community.history.filter(code="610104001080").latest().history_user == clerk_qingnian
    # Confirming twice does not import twice.
    client.post(reverse("imports:confirm", args=[stored.pk]))
    assert Community.history.filter(code="610104001080").count() == 1


def test_confirm_rechecks_the_stored_file(client, existing, clerk_qingnian):  # noqa: F811
    client.force_login(clerk_qingnian)
    stored, _page = upload(client, xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001082")]}).getvalue(),
                           "a.xlsx")
    stored.refresh_from_db()
    assert stored.state == UploadState.CHECKED
    # The file on the server changes between preview and confirmation: the confirmation reads it again.
    stored.path.write_bytes(xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001082", households=-1)]})
                            .getvalue())
    before = snapshot()
    client.post(reverse("imports:confirm", args=[stored.pk]))
    stored.refresh_from_db()
    assert stored.state == UploadState.REFUSED
    assert snapshot() == before


def test_uploads_belong_to_their_uploader(client, existing, clerk_qingnian, admin_user):  # noqa: F811
    client.force_login(clerk_qingnian)
    stored, _ = upload(client, xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001083")]}).getvalue(), "a.xlsx")
    assert stored.path.parent.name == "imports" and stored.path.name == str(stored.pk)
    client.force_login(admin_user)
    for name in ("imports:preview", "imports:errors", "imports:progress"):
        assert client.get(reverse(name, args=[stored.pk])).status_code == 404
    assert client.post(reverse("imports:confirm", args=[stored.pk])).status_code == 404
    assert not Community.objects.filter(code="610104001083").exists()


@pytest.mark.parametrize("who", ["reviewer", "department_user"])
def test_reviewers_and_departments_cannot_import(client, existing, who, request):  # noqa: F811
    client.force_login(request.getfixturevalue(who))
    page = client.get(reverse("imports:index"))
    assert page.status_code == 200 and "上传并检查" not in page.content.decode()
    assert client.get(reverse("imports:template")).status_code == 403
    file = io.BytesIO(xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001084")]}).getvalue())
    file.name = "a.xlsx"
    assert client.post(reverse("imports:upload"), {"file": file}).status_code == 403
    assert not StoredUpload.objects.exists()


def test_a_clerk_cannot_touch_another_sub_district(client, existing, clerk_qingnian):  # noqa: F811
    client.force_login(clerk_qingnian)
    other = existing["other"].code
    before = snapshot()
    stored, page = upload(client, xlsx({
        "社区": [COMMUNITY_HEADERS, community_row(other, name="枣园社区", street="枣园街道")],
        "小区": [COMPOUND_HEADERS, compound_row("XQ-ZY-1", community=other)],
    }).getvalue(), "b.xlsx")
    stored.refresh_from_db()
    assert refused(stored) == [("社区", 2, "街道办事处", "out_of_scope"), ("小区", 2, "社区代码", "out_of_scope")]
    assert "您只能导入本街办（青年路街道）的数据" in page.content.decode()
    stored, page = upload(client, xlsx({"小区": [COMPOUND_HEADERS, compound_row("XQ-ZY-1", community=other)]})
                          .getvalue(), "b.xlsx")
    stored.refresh_from_db()
    assert refused(stored) == [("小区", 2, "社区代码", "out_of_scope")]
    assert snapshot() == before


# --------------------------------------------------------------------------- real-world files


def excel_csv(rows) -> bytes:
    """What Excel on Chinese Windows writes for “CSV (逗号分隔)”: GBK, CRLF, no BOM, quotes where needed."""
    import csv

    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows([["" if v is None else v for v in row] for row in rows])
    return text.getvalue().encode("gbk")


def test_gbk_csv_made_by_excel(client, existing, clerk_qingnian):  # noqa: F811
    client.force_login(clerk_qingnian)
    data = excel_csv([COMMUNITY_HEADERS, community_row("610104001085", name="桃园路社区居委会",
                                                       bounds=("环城西路", "西关正街, 南段", "桃园路", "大庆路"))])
    assert b"\r\n" in data and data[:3] != b"\xef\xbb\xbf"
    stored, _ = upload(client, data, "社区.csv")
    client.post(reverse("imports:confirm", args=[stored.pk]))
    community = Community.objects.get(code="610104001085")
    assert community.name == "桃园路社区居委会" and community.south == "西关正街, 南段"


def test_utf16_csv(client, existing, clerk_qingnian):  # noqa: F811
    client.force_login(clerk_qingnian)
    text = "\t".join(COMMUNITY_HEADERS) + "\r\n" + "\t".join(
        "" if v is None else str(v) for v in community_row("610104001086", name="劳动路社区")) + "\r\n"
    stored, _ = upload(client, text.encode("utf-16"), "社区.csv")  # Excel's “Unicode 文本”: UTF-16, tabs
    stored.refresh_from_db()
    assert stored.state == UploadState.CHECKED, stored.summary


@pytest.mark.parametrize("founded", [datetime(1998, 7, 1), "1998-07-01", "1998/7/1"])
def test_excel_date_cells_and_text_dates(client, existing, clerk_qingnian, founded):  # noqa: F811
    client.force_login(clerk_qingnian)
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "社区"
    ws.append(COMMUNITY_HEADERS)
    ws.append(community_row("610104001087", founded=founded))
    if isinstance(founded, datetime):
        ws.cell(row=2, column=6).number_format = "yyyy/m/d"  # a real Excel date cell
    out = io.BytesIO()
    workbook.save(out)
    stored, _ = upload(client, out.getvalue(), "dates.xlsx")
    client.post(reverse("imports:confirm", args=[stored.pk]))
    assert Community.objects.get(code="610104001087").founded_on.isoformat() == "1998-07-01"


# --------------------------------------------------------------------------- files that must not hurt


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _good_book() -> bytes:
    return xlsx({"社区": [COMMUNITY_HEADERS, community_row("610104001090")]}).getvalue()


def _with_entries(extra: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_good_book()))
    entries = {i.filename: source.read(i.filename) for i in source.infolist()}
    entries.update(extra)
    return _zip(entries)


def _bomb() -> bytes:
    # 60 MB of zeros squeezed into ~60 KB: the declared size gives it away before anything is inflated.
    source = zipfile.ZipFile(io.BytesIO(_good_book()))
    entries = {i.filename: source.read(i.filename) for i in source.infolist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        with archive.open("xl/worksheets/sheet2.xml", "w") as big:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(60):
                big.write(chunk)
    return out.getvalue()


BAD_FILES = {
    "not_xlsx": ("社区.xlsx", lambda: "这不是工作簿".encode() * 100, "不是有效的 Excel 工作簿"),
    "truncated": ("社区.xlsx", lambda: _good_book()[: len(_good_book()) // 2], "已损坏或不完整"),
    "macro_name": ("社区.xlsm", _good_book, "不接受启用宏的工作簿"),
    "macro_content": ("社区.xlsx", lambda: _with_entries({"xl/vbaProject.bin": b"\x00" * 64}), "含有宏"),
    "old_xls": ("社区.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 .xls"),
    "bomb": ("社区.xlsx", _bomb, "解压后过大"),
    "too_many_parts": ("社区.xlsx", lambda: _with_entries({f"xl/media/x{i}.bin": b"" for i in range(2100)}),
                       "内部文件过多"),
    "empty": ("社区.csv", lambda: b"", "文件是空的"),
}
EXPECTED_CODE = {"macro_name": "macro_workbook", "macro_content": "macro_workbook", "bomb": "unpacked_too_large",
                 "empty": "empty_file"}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_with_a_message(client, existing, clerk_qingnian, case):  # noqa: F811
    client.force_login(clerk_qingnian)
    name, make, words = BAD_FILES[case]
    before = snapshot()
    stored, page = upload(client, make(), name)
    stored.refresh_from_db()
    assert file_codes(stored) == [EXPECTED_CODE.get(case, case)]
    assert words in page.content.decode()
    assert "确认导入" not in page.content.decode()
    assert client.post(reverse("imports:confirm", args=[stored.pk])).status_code == 302
    assert snapshot() == before


def test_bomb_is_refused_without_inflating(monkeypatch, existing):  # noqa: F811
    from imports.services import workbook_import

    def no_inflate(*args, **kwargs):
        raise AssertionError("inflated")

    bomb = _bomb()
    monkeypatch.setattr(zlib, "decompressobj", no_inflate)
    result = workbook_import(file=io.BytesIO(bomb), filename="社区.xlsx")
    assert [i.code for i in result.file_issues] == ["unpacked_too_large"]


def test_oversized_upload(client, existing, clerk_qingnian, settings):  # noqa: F811
    settings.IMPORT_MAX_UPLOAD_BYTES = 4096
    client.force_login(clerk_qingnian)
    stored, page = upload(client, _good_book() + b"\0" * 10_000, "社区.xlsx")
    stored.refresh_from_db()
    assert file_codes(stored) == ["file_too_large"]
    assert "文件过大" in page.content.decode()
    assert stored.path.stat().st_size <= 4097  # not even kept whole


@pytest.mark.parametrize(("rows", "expected"), [
    ([community_row("610104001091"), community_row("610104001091", name="重复")],
     [("社区", 3, "社区代码", "duplicate_key")]),
    ([community_row("610104001092", street="不存在街道")], [("社区", 2, "街道办事处", "unknown_sub_district")]),
    ([community_row("610104001093", population="=D2*3")], [("社区", 2, "常住人口", "formula")]),
])
def test_bad_rows_are_refused(client, existing, clerk_qingnian, rows, expected):  # noqa: F811
    client.force_login(clerk_qingnian)
    before = snapshot()
    stored, _page = upload(client, xlsx({"社区": [COMMUNITY_HEADERS, *rows]}).getvalue(), "c.xlsx")
    stored.refresh_from_db()
    assert refused(stored) == expected
    assert snapshot() == before


def test_unknown_community_code(client, existing, clerk_qingnian):  # noqa: F811
    client.force_login(clerk_qingnian)
    before = snapshot()
    stored, page = upload(client, xlsx({"小区": [COMPOUND_HEADERS, compound_row("XQ-X", community="610104001999")]})
                          .getvalue(), "d.xlsx")
    stored.refresh_from_db()
    assert refused(stored) == [("小区", 2, "社区代码", "unknown_community")]
    assert "610104001999 不存在" in page.content.decode()
    assert snapshot() == before
    assert not Compound.objects.filter(code="XQ-X").exists()


# --------------------------------------------------------------------------- large imports


def test_large_import_runs_as_a_task_with_progress(client, existing, clerk_qingnian, monkeypatch,  # noqa: F811
                                                   django_capture_on_commit_callbacks):
    import imports.services as services

    monkeypatch.setattr(services, "LARGE_IMPORT_ROWS", 2)
    client.force_login(clerk_qingnian)
    rows = [community_row(f"6101040011{i:02d}", name=f"批量社区{i}") for i in range(5)]
    data = xlsx({"社区": [COMMUNITY_HEADERS, *rows]}).getvalue()
    file = io.BytesIO(data)
    file.name = "big.xlsx"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("imports:upload"), {"file": file})
    stored = StoredUpload.objects.get()
    assert stored.rows == 5 and stored.state == UploadState.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert "js/import_progress.js" in page and "<script>" not in page and 'id="import-progress"' in page
    progress = client.get(reverse("imports:progress", args=[stored.pk])).json()
    assert progress["running"] is True and progress["percent"] < 100
    assert len(callbacks) == 1
    callbacks[0]()  # the Celery task (eager here)
    progress = client.get(reverse("imports:progress", args=[stored.pk])).json()
    assert progress == {"state": "checked", "label": "已检查", "running": False, "percent": 100}

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:confirm", args=[stored.pk]))
    stored.refresh_from_db()
    assert stored.state == UploadState.IMPORTED
    assert Community.objects.filter(name__startswith="批量社区").count() == 5


# --------------------------------------------------------------------------- the template


def test_blank_template_has_sheets_dropdowns_and_instructions(client, existing, clerk_qingnian):  # noqa: F811
    from core.sheets import registry

    client.force_login(clerk_qingnian)
    response = client.get(reverse("imports:template"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "说明"
    for name in registry.names():
        sheet = book[name]
        headers = [c.value for c in next(sheet.iter_rows(max_row=1))]
        assert headers == [c.header for c in registry.get(name).columns]
    community = book["社区"]
    validations = {str(v.sqref).split(":")[0]: v.formula1 for v in community.data_validations.dataValidation}
    column = openpyxl.utils.get_column_letter(COMMUNITY_HEADERS.index("党组织类型") + 1)
    options_ref = validations[f"{column}2"]
    options_sheet = book["选项"]
    ref = options_ref.split("!")[1].replace("$", "")
    assert [c.value for row in options_sheet[ref] for c in row] == ["党支部", "党总支", "党委"]
    street_col = openpyxl.utils.get_column_letter(COMMUNITY_HEADERS.index("街道办事处") + 1)
    street_ref = validations[f"{street_col}2"].split("!")[1].replace("$", "")
    assert [c.value for row in options_sheet[street_ref] for c in row] == ["青年路街道"]  # the clerk's own
    guide = [row for row in book["说明"].iter_rows(values_only=True)]
    assert any(r[:2] == ("人员", "身份证号") and "文本" in (r[2] or "") for r in guide)
