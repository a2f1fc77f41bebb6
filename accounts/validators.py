"""Password rules of 等保2.0 level 3: long enough and of mixed character classes."""

from __future__ import annotations

import string

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

CLASSES = (
    ("大写字母", str.isupper),
    ("小写字母", str.islower),
    ("数字", str.isdigit),
    ("符号", lambda ch: ch in string.punctuation or (not ch.isalnum() and not ch.isspace())),
)


class CharacterClassesValidator:
    """At least ``min_classes`` of upper case, lower case, digits and symbols.

    Length and common passwords are left to Django's own validators, so each
    message names one thing the user has to change.
    """

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    @staticmethod
    def classes_in(password: str) -> set[str]:
        return {name for name, test in CLASSES if any(test(ch) for ch in password if ch.isascii() or not ch.isalnum())}

    def validate(self, password: str, user=None) -> None:
        found = self.classes_in(password)
        if len(found) < self.min_classes:
            raise ValidationError(
                "密码须至少包含大写字母、小写字母、数字、符号四类中的%(min)d类，当前只有%(count)d类。",
                code="password_too_few_classes",
                params={"min": self.min_classes, "count": len(found)},
            )

    def get_help_text(self) -> str:
        return f"密码须至少包含大写字母、小写字母、数字、符号四类中的{self.min_classes}类。"


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with a Chinese message: Django's zh-hans catalogue lacks its plural form, so the
    message came out in English."""

    def get_error_message(self) -> str:
        return "密码太短，至少需要%(min_length)d个字符。"

    def get_help_text(self) -> str:
        return f"密码至少需要{self.min_length}个字符。"


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    """Django's similarity rule, worded as a sentence ("密码跟 用户名 太相似了" reads as a template)."""

    def get_error_message(self) -> str:
        return "密码与%(verbose_name)s太相似，请换一个。"

    def get_help_text(self) -> str:
        return "密码不能与用户名、姓名、电子邮箱太相似。"


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    """Django's list of common passwords; help text worded like the project's other rules."""

    def get_help_text(self) -> str:
        return "密码不能是常见密码。"


class NumericPasswordValidator(password_validation.NumericPasswordValidator):
    def get_help_text(self) -> str:
        return "密码不能全是数字。"
