"""Personal data rules: resident identity numbers (居民身份证号), mobile numbers, masking.

Pure functions only. Parsing normalises what people type (spaces, lowercase ``x``,
``+86`` prefixes) and rejects everything else with an :class:`InvalidInput` carrying a
field-level code, so forms can point at the exact problem. Masking follows the output
rules in CONVENTIONS.md ("Security"): ``138****8000``, ``320***********1234``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from app.domain.shared.errors import FieldError, InvalidInput

__all__ = [
    "ResidentId",
    "age_on",
    "mask_address",
    "mask_name",
    "mask_phone",
    "mask_resident_id",
    "parse_cn_mobile",
    "parse_resident_id",
    "resident_id_check_char",
]

Gender = Literal["male", "female"]

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS: Final = "10X98765432"
# ASCII only: str.isdigit() would also accept full-width and other Unicode digits.
_ID_SHAPE: Final = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH_YEAR: Final = 1900

_MOBILE: Final = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS: Final = re.compile(r"[\s\-]+")

_MASK: Final = "*"
_ADDRESS_KEEP: Final = 6
_ADDRESS_MASK: Final = "****"


@dataclass(frozen=True, slots=True, repr=False)
class ResidentId:
    """A checked 18-character resident identity number and what it encodes."""

    value: str
    birth_date: date
    gender: Gender
    region_code: str

    def __repr__(self) -> str:
        # Keep full numbers out of logs and tracebacks.
        return f"ResidentId({mask_resident_id(self.value)!r})"


def _id_error(code: str, message_en: str, message_zh: str) -> InvalidInput:
    return InvalidInput(
        message_en,
        message_zh,
        code="person.invalid_resident_id",
        fields=[FieldError(field="resident_id", code=code, message=message_en)],
    )


def resident_id_check_char(body: str) -> str:
    """Check character for the first 17 digits of a resident identity number."""
    if len(body) != len(_ID_WEIGHTS) or not body.isascii() or not body.isdigit():
        raise ValueError("body must be exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_resident_id(raw: str, *, today: date) -> ResidentId:
    """Parse and verify an 18-character resident identity number (GB 11643-1999).

    The checksum is verified before the region and date so that a mistyped digit is
    reported as such, whichever position it is in.
    """
    value = "".join(raw.split()).upper()
    if _ID_SHAPE.fullmatch(value) is None:
        raise _id_error(
            "format",
            "A resident ID number has 18 characters: 17 digits and a final digit or X.",
            "身份证号码应为18位：前17位为数字，最后一位为数字或X。",
        )
    if resident_id_check_char(value[:17]) != value[17]:
        raise _id_error(
            "checksum",
            "The resident ID number is not valid; please check each digit.",
            "身份证号码校验不通过，请逐位核对。",
        )
    region_code = value[:6]
    if region_code[0] not in "12345678":
        raise _id_error(
            "format",
            "The resident ID number does not start with a valid region code.",
            "身份证号码的地区码无效。",
        )
    try:
        birth_date = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise _id_error(
            "birth_date",
            "The birth date in the resident ID number is not a real date.",
            "身份证号码中的出生日期无效。",
        ) from None
    if birth_date > today or birth_date.year < _EARLIEST_BIRTH_YEAR:
        raise _id_error(
            "birth_date",
            "The birth date in the resident ID number is out of range.",
            "身份证号码中的出生日期超出合理范围。",
        )
    gender: Gender = "male" if int(value[16]) % 2 == 1 else "female"
    return ResidentId(value=value, birth_date=birth_date, gender=gender, region_code=region_code)


def age_on(resident: ResidentId, day: date) -> int:
    """Age in completed years on ``day`` (a 29 February birthday counts from 1 March)."""
    birth = resident.birth_date
    if day < birth:
        raise ValueError("day is before the birth date")
    before_birthday = (day.month, day.day) < (birth.month, birth.day)
    return day.year - birth.year - int(before_birthday)


def parse_cn_mobile(raw: str) -> str:
    """Normalise a mainland China mobile number to its 11 digits.

    Accepts an optional ``+86``, ``0086`` or ``86`` country prefix, spaces and dashes.
    """
    digits = _MOBILE_SEPARATORS.sub("", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        # A bare 11-digit mobile number starts with 1, so "86" here can only be a prefix.
        digits = digits[2:]
    if _MOBILE.fullmatch(digits) is None:
        message_en = "Enter an 11-digit mainland China mobile number."
        raise InvalidInput(
            message_en,
            "请输入11位中国大陆手机号码。",
            code="person.invalid_phone",
            fields=[FieldError(field="phone", code="format", message=message_en)],
        )
    return digits


def _mask_middle(text: str, keep_start: int, keep_end: int) -> str:
    if len(text) <= keep_start + keep_end:
        return _MASK * len(text)
    hidden = len(text) - keep_start - keep_end
    return text[:keep_start] + _MASK * hidden + text[len(text) - keep_end :]


def mask_phone(phone: str) -> str:
    """``13800138000`` → ``138****8000`` (too-short values are masked entirely)."""
    return _mask_middle(phone, 3, 4)


def mask_resident_id(value: str) -> str:
    """``320412198001011234`` → ``320***********1234`` (first 3, last 4)."""
    return _mask_middle(value, 3, 4)


def mask_name(name: str) -> str:
    """Keep the first character: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``, ``李`` → ``*``."""
    name = name.strip()
    if len(name) <= 1:
        return _MASK * len(name)
    return name[0] + _MASK * (len(name) - 1)


def mask_address(text: str) -> str:
    """Keep the first 6 characters (roughly province and city) and hide the rest.

    Addresses of 6 characters or fewer are hidden entirely; the mask has a fixed width
    so it does not reveal the length of what it hides.
    """
    text = text.strip()
    if not text:
        return ""
    if len(text) <= _ADDRESS_KEEP:
        return _ADDRESS_MASK
    return text[:_ADDRESS_KEEP] + _ADDRESS_MASK
