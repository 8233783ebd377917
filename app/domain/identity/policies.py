"""Officer usernames and the password policy."""

from __future__ import annotations

import re
from typing import Final

from app.domain.shared.errors import FieldError, InvalidInput

MIN_PASSWORD_LENGTH: Final = 12
# Argon2 takes any length, but an unbounded input is a cheap way to burn CPU.
MAX_PASSWORD_LENGTH: Final = 128
MIN_DISTINCT_CHARACTERS: Final = 5
MIN_CHARACTER_CLASSES: Final = 2

_USERNAME: Final = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
# A few passwords (and their stems) that meet the length rule yet top every breach list.
_COMMON_STEMS: Final = ("password", "passw0rd", "123456", "qwerty", "abc123", "iloveyou", "admin")


def normalise_username(raw: str) -> str:
    """Lower-case, trimmed; 3-64 of a-z 0-9 . _ - starting with a letter or digit."""
    username = raw.strip().lower()
    if _USERNAME.fullmatch(username) is None:
        message = "Usernames are 3-64 characters: letters, digits, '.', '_' or '-'."
        raise InvalidInput(
            message,
            "用户名为3到64位字母、数字、'.'、'_'或'-'。",
            code="officer.invalid_username",
            fields=[FieldError(field="username", code="format", message=message)],
        )
    return username


def _classes(password: str) -> int:
    # Uncased letters (Chinese characters) count as lower-case letters.
    lower = any(c.islower() or (c.isalpha() and not c.isupper()) for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not c.isalnum() for c in password)
    return sum((lower, upper, digit, other))


def _weak(code: str, message_en: str, message_zh: str) -> InvalidInput:
    return InvalidInput(
        message_en,
        message_zh,
        code="officer.weak_password",
        fields=[FieldError(field="password", code=code, message=message_en)],
    )


def check_password_policy(password: str, *, username: str) -> None:
    """At least 12 characters, two kinds of character, not built on the username or on a
    well-known password. Chinese characters count like letters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _weak(
            "too_short",
            f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.",
            f"密码至少需要{MIN_PASSWORD_LENGTH}个字符。",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise _weak(
            "too_long",
            f"Passwords may have at most {MAX_PASSWORD_LENGTH} characters.",
            f"密码最多{MAX_PASSWORD_LENGTH}个字符。",
        )
    if _classes(password) < MIN_CHARACTER_CLASSES or len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise _weak(
            "too_simple",
            "Mix at least two kinds of characters (letters, digits, symbols) and avoid repeats.",
            "密码须包含至少两类字符（字母、数字、符号），且不要重复同一字符。",
        )
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise _weak(
            "contains_username",
            "The password must not contain the username.",
            "密码不能包含用户名。",
        )
    if any(stem in lowered for stem in _COMMON_STEMS):
        raise _weak(
            "too_common",
            "The password is built on a well-known password; choose another.",
            "密码过于常见，请换一个。",
        )
