"""居民身份证号 (GB 11643): checking, reading and masking.

The full number is personal data. It is shown whole to administrators only;
everything else (pages, exports, error messages, logs) goes through ``mask``.
"""

from __future__ import annotations

import csv
import operator
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils import timezone

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
# Anything that looks like an 18-character ID number inside free text.
ID_LIKE = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")

MALE = "M"
FEMALE = "F"


def normalize(value: object) -> str:
    text = "" if value is None else str(value)
    return text.strip().replace(" ", "").upper()


def check_char(first17: str) -> str:
    if len(first17) != len(WEIGHTS):
        raise ValueError("check_char needs the first 17 characters")
    total = sum(map(operator.mul, map(int, first17), WEIGHTS))  # per row of an import: map, not a generator
    return CHECK_CHARS[total % 11]


def mask(value: str | None) -> str:
    """610104199001011234 → 610104********1234; blank stays blank."""
    text = normalize(value)
    if not text:
        return ""
    if len(text) <= 10:
        return "*" * len(text)
    return f"{text[:6]}{'*' * (len(text) - 10)}{text[-4:]}"


def redact(text: str) -> str:
    """Masks every ID-number-like run in a free text (log lines, messages)."""
    return ID_LIKE.sub(lambda m: f"{m.group(1)}********{m.group(3)}", text)


AREA_CODES_CSV = Path(__file__).resolve().parent / "data" / "gb2260-area-codes.csv"


@lru_cache(maxsize=1)
def area_codes() -> frozenset[str]:
    """GB/T 2260 codes ever assigned (staffing/data/README.md): current and retired alike."""
    with AREA_CODES_CSV.open(encoding="utf-8", newline="") as handle:
        return frozenset(row["code"] for row in csv.DictReader(handle))


@dataclass(frozen=True)
class IdFacts:
    number: str
    birth_date: date
    sex: str


def parse(value: object, *, today: date | None = None) -> IdFacts:
    """Checks shape, area code (GB/T 2260, retired codes included), birth date (a real date, 1900 to today)
    and check digit; raises ValidationError with a stable code.

    Messages never quote the number whole: they may end up in import reports. Where this differs from
    python-stdnum's ``cn.ric`` is listed in tests/staffing/test_identifier_standards.py.
    """
    number = normalize(value)
    if not number:
        raise ValidationError("身份证号不能为空。", code="id_required")
    if not _SHAPE.match(number):
        raise ValidationError(
            f"身份证号 {mask(number)} 格式不对：应为18位，前17位是数字，最后一位是数字或X。", code="id_format"
        )
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(f"身份证号 {mask(number)} 中的出生日期不存在。", code="id_birth_date") from None
    if birth.year < 1900:
        raise ValidationError(f"身份证号 {mask(number)} 中的出生日期不合理。", code="id_birth_date")
    today = today or timezone.localdate()
    if birth > today:
        raise ValidationError(f"身份证号 {mask(number)} 中的出生日期晚于今天。", code="id_birth_date")
    if number[:6] not in area_codes():
        raise ValidationError(
            f"身份证号 {mask(number)} 的前6位不是有效的行政区划代码（GB/T 2260），请核对是否录错。", code="id_area_code")
    if check_char(number[:17]) != number[17]:
        raise ValidationError(
            f"身份证号 {mask(number)} 校验位不正确（GB 11643），请核对是否录错。", code="id_check_digit"
        )
    sex = MALE if int(number[16]) % 2 == 1 else FEMALE
    return IdFacts(number=number, birth_date=birth, sex=sex)


def make_valid(first17: str) -> str:
    """Completes 17 digits with their check character (tests and demo data)."""
    return first17 + check_char(first17)
