"""Workbooks the import pages hand out: blank templates and the error workbook.

Both go through ``core.writer`` like every other spreadsheet the system writes.
"""

from __future__ import annotations

import inspect
from typing import Any

from core.sheets import Column, Sheet, registry, yes_no
from core.writer import ANY, Col, XlsxBook, text_width

from .services import ERROR_HEADER, _decode_csv, max_upload_bytes

TEMPLATE_ROWS = 5_000  # rows that carry the drop-down lists
STREET_HEADER = "街道办事处"


def column_options(column: Column) -> list[str] | None:
    """The labels an enumerated column accepts (for a drop-down), read from its parser."""
    if column.parse is yes_no:
        return ["是", "否"]
    options = getattr(column.parse, "options", None)
    if options:
        return list(options)
    try:
        nonlocals = inspect.getclosurevars(column.parse).nonlocals
    except TypeError:
        return None
    for name in ("by_label", "mapping"):
        if isinstance(nonlocals.get(name), dict):
            return [str(k) for k in nonlocals[name]]
    return None


def _notes(sheet: type[Sheet], column: Column, options: list[str] | None) -> str:
    parts = []
    if column.header == sheet.key:
        parts.append("关键列：按此列新增或更新")
    parts.append("可留空" if column.blank else "必填")
    if column.optional:
        parts.append("可删去整列")
    if options:
        parts.append("可选：" + "、".join(options))
    if "日期" in column.header:
        parts.append("YYYY-MM-DD 或 Excel 日期")
    if column.header == "身份证号":
        parts.append("18位，须设为文本格式")
    if column.header.endswith("代码") and column.header.startswith("社区"):
        parts.append("12位数字")
    if "面积" in column.header:
        parts.append("㎡，最多两位小数")
    if column.header in ("市级配套", "区级配套"):
        parts.append("元")
    return "；".join(parts)


EXAMPLE_SHEET = "填写示例"
# Made up, so the template names no real community: a clerk of one 街办 reads nothing of another's
# (610104000xxx is no 街道's code).
_EXAMPLES = {
    "社区代码": "610104000001", "社区名称": "示例社区居委会", "小区编号": "XQ-001", "小区名称": "示例小区",
    "设施编号": "SS-001", "设施名称": "示例社区党群服务中心", "姓名": "张三", "户数": 3000, "常住人口": 9000,
    "社会组织数": 10, "等级": 10, "年度": 2026, "市级配套": 130000, "区级配套": 120000, "学历": "本科",
    "培训名称": "2026年社区工作者全员培训", "东至": "莲湖路", "南至": "西大街", "西至": "桥梓口", "北至": "北院门",
}


def example_value(column: Column, options: list[str] | None) -> Any:
    """A plausible value for one template column (the 填写示例 sheet, never imported)."""
    from staffing.idnumbers import make_valid

    if column.header == "身份证号":
        return make_valid("61010419800101001")
    if column.header in _EXAMPLES:
        return _EXAMPLES[column.header]
    if options:
        return options[0]
    if "日期" in column.header:
        return "2024-03-01"
    if "面积" in column.header:
        return 650
    return ""


def blank_template(street_names: list[str]) -> bytes:
    """One sheet per kind with its headers, drop-down lists for enumerated columns, and a 说明 sheet."""
    book = XlsxBook(in_memory=True)
    sheets = [s for name in registry.names() if (s := registry.get(name)) is not None]
    guide = book.sheet("说明", [Col("工作表", width=10), Col("列", width=22), Col("填写说明", width=80)],
                       preamble=[
                           ["莲湖区社区管理系统 · 导入模板"],
                           ["整份工作簿“全部成功才写入”：任何一行有错，什么都不写入，并逐行列出原因。"],
                           ["每个工作表第一行是列名（顺序可调整）；不需要的工作表可以删除。日期写 YYYY-MM-DD 或使用 Excel 日期单元格。"],
                           ["不接受公式、宏（.xlsm）和旧版 .xls；CSV 每次一个工作表，文件名即工作表名，UTF-8 或 GBK 编码均可。"],
                           [f"文件不超过 {max_upload_bytes() // (1024 * 1024)} MB。街办办事员只能导入本街办的记录。"],
                           [],
                       ])
    options_sheet = book.book.add_worksheet(book.unique_name("选项"))
    option_col = 0
    text_format = book.book.add_format({"num_format": "@"})
    for sheet in sheets:
        ws = book.sheet(sheet.name, [Col(c.header, width=max(10, len(c.header) * 2 + 2)) for c in sheet.columns])
        ws.freeze_header()
        for index, column in enumerate(sheet.columns):
            options = street_names if column.header == STREET_HEADER else column_options(column)
            guide.append([sheet.name, column.header, _notes(sheet, column, options)])
            if column.header == "身份证号" or column.header.endswith("代码") or column.header.endswith("编号"):
                # Text cells: Excel would round an 18-digit number and drop leading zeros.
                ws.column_format(index, text_format)
                ws.widths[index] = max(ws.widths[index], 22)
            if not options:
                continue
            options_sheet.write_string(0, option_col, f"{sheet.name}·{column.header}")
            for row, label in enumerate(options, start=1):
                options_sheet.write_string(row, option_col, label)
            letter = _column_letter(option_col)
            ws.ws.data_validation(1, index, TEMPLATE_ROWS, index, {
                "validate": "list",
                "source": f"='选项'!${letter}$2:${letter}${len(options) + 1}",
                "error_title": column.header,
                "error_message": "请从下拉列表中选择。",
                "ignore_blank": True,
            })
            option_col += 1
    options_sheet.hide()
    _example_sheet(book, sheets, street_names)
    return book.close()


def _example_sheet(book: XlsxBook, sheets: list[type[Sheet]], street_names: list[str]) -> None:
    """One filled-in row per kind, on a sheet the importer does not read (its name is no kind's)."""
    ws = book.book.add_worksheet(book.unique_name(EXAMPLE_SHEET))
    text = book.book.add_format({"num_format": "@"})
    ws.write_string(0, 0, "每种工作表填好一行的样子（本工作表不会被导入；请在同名工作表中填写）。", book.bold)
    widths: dict[int, int] = {}
    row = 2
    for sheet in sheets:
        ws.write_string(row, 0, f"工作表“{sheet.name}”", book.bold)
        row += 1
        for col, column in enumerate(sheet.columns):
            ws.write_string(row, col, column.header, book.head)
            options = street_names if column.header == STREET_HEADER else column_options(column)
            value = example_value(column, options)
            if isinstance(value, int):
                ws.write_number(row + 1, col, value, book.integer)
            else:
                ws.write_string(row + 1, col, str(value), text)
            widths[col] = max(widths.get(col, 10), text_width(column.header) + 2, text_width(str(value)) + 2)
        row += 3
    for col, width in widths.items():
        ws.set_column(col, col, min(width, 40))
    book.print_setup(ws)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _raw_tables(data: bytes, filename: str, only: str | None) -> list[tuple[str, list[tuple[int, list[Any]]]]]:
    """Every row of every importable sheet as the file has it (blank rows kept for their numbers)."""
    import csv
    import io
    from pathlib import Path

    if data[:4] == b"PK\x03\x04":
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            out = []
            for ws in book.worksheets:
                name = ws.title.strip()
                if registry.get(name) is None or (only and name != only):
                    continue
                ws.reset_dimensions()
                out.append((name, [(n, list(v)) for n, v in enumerate(ws.iter_rows(values_only=True), 1)]))
            return out
        finally:
            book.close()
    text = _decode_csv(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    rows = [(n, list(v)) for n, v in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1)]
    return [((only or Path(filename).stem).strip(), rows)]


def error_workbook(*, data: bytes, filename: str, sheet: str | None, summary: dict) -> bytes:
    """The uploaded workbook again, with a 错误 column saying what is wrong with each refused row.

    All rows are kept, in their places, so the file can be fixed in Excel and uploaded as a whole again.
    """
    reasons: dict[str, dict[int, str]] = {}
    for s in summary.get("sheets", []):
        marks = reasons.setdefault(s["name"], {})
        for refused in s["refused"]:
            marks[refused["row"]] = "；".join(f"{i['column']}：{i['message']}" for i in refused["issues"])
        for issue in s.get("header_issues", []):
            marks[1] = "；".join(filter(None, [marks.get(1), f"{issue['column']}：{issue['message']}"]))
    book = XlsxBook(in_memory=True)
    marked = book.book.add_format({"bg_color": "#F8D7DA", "font_color": "#842029", "text_wrap": True})
    for name, rows in _raw_tables(data, filename, sheet):
        if not rows:
            continue
        header = list(rows[0][1])
        while header and (header[-1] is None or str(header[-1]).strip() in ("", ERROR_HEADER)):
            header.pop()
        keep = [i for i, h in enumerate(header) if str(h or "").strip() != ERROR_HEADER]
        cols = [Col(str(header[i] or ""), ANY, 14) for i in keep] + [Col(ERROR_HEADER, ANY, 60)]
        ws = book.sheet(name, cols)
        ws.ws.freeze_panes(1, 0)
        own = reasons.get(name, {})
        if 1 in own:
            ws.ws.write_string(0, len(cols) - 1, f"{ERROR_HEADER}（列名：{own[1]}）", book.head)
        for number, values in rows[1:]:
            ws.row = number - 1  # the row keeps its number in the original file
            ws.append([values[i] if i < len(values) else None for i in keep] + [None])
            if number in own:
                ws.ws.write_string(number - 1, len(cols) - 1, own[number], marked)
    return book.close()

