"""统一社会信用代码, GB 32100-2015: 18 characters.

Position 1 is the 登记管理部门码, 2 the 机构类别码 (which depends on position 1), 3–8 the 登记管理机关行政区划码
(six digits), 9–17 the 主体标识码 (组织机构代码), 18 the check character. Where this differs from
python-stdnum's ``cn.uscc`` is listed in tests/staffing/test_identifier_standards.py.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 32100-2015 附录 A (and the codes added since): 登记管理部门 → its 机构类别.
CATEGORIES: dict[str, dict[str, str]] = {
    "1": {"_": "机构编制", "1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    "2": {"_": "外交", "1": "外国常住新闻机构", "9": "其他"},
    "3": {"_": "司法行政", "1": "律师执业机构", "2": "公证处", "3": "基层法律服务所", "4": "司法鉴定机构",
          "5": "仲裁委员会", "9": "其他"},
    "4": {"_": "文化", "1": "外国在华文化中心", "9": "其他"},
    "5": {"_": "民政", "1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"},
    "6": {"_": "旅游", "1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    "7": {"_": "宗教", "1": "宗教活动场所", "2": "宗教院校", "9": "其他"},
    "8": {"_": "工会", "1": "基层工会", "9": "其他"},
    "9": {"_": "工商（市场监管）", "1": "企业", "2": "个体工商户", "3": "农民专业合作社"},
    "A": {"_": "中央军委改革和编制办公室", "1": "军队事业单位", "9": "其他"},
    "N": {"_": "农业农村", "1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    "Y": {"_": "其他", "1": "其他"},
}


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize(code: object) -> str:
    return str(code or "").strip().replace(" ", "").upper()


def credit_code_error(code: object) -> ValidationError | None:
    """Why a code is not a valid 统一社会信用代码 (a coded ValidationError), or None."""
    code = normalize(code)
    if len(code) != 18:
        return ValidationError(f"统一社会信用代码应为18位，“{code}”为{len(code)}位。", code="credit_length")
    bad = sorted({c for c in code if c not in ALPHABET})
    if bad:
        return ValidationError(f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（不使用 I、O、S、V、Z）。",
                               code="credit_chars")
    department = CATEGORIES.get(code[0])
    if department is None:
        return ValidationError(f"统一社会信用代码第1位（登记管理部门码）“{code[0]}”不存在。", code="credit_department")
    if code[1] == "_" or code[1] not in department:
        return ValidationError(
            f"统一社会信用代码第2位（机构类别码）“{code[1]}”不是{department['_']}登记的机构类别。", code="credit_category")
    if not code[2:8].isdigit():
        return ValidationError("统一社会信用代码第3–8位应为6位数字的行政区划码。", code="credit_area")
    expected = check_character(code[:17])
    if code[17] != expected:
        return ValidationError(f"统一社会信用代码“{code}”校验位错误（按 GB 32100-2015 应为 {expected}）。",
                               code="credit_check")
    return None


def credit_code_problem(code: str) -> str | None:
    """The Chinese reason a code is not a valid 统一社会信用代码, or None."""
    error = credit_code_error(code)
    return error.messages[0] if error is not None else None
