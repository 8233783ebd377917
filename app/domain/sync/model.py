"""Changes in a caller's feed and the opaque sync token."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from enum import StrEnum

from app.domain.shared.errors import InvalidInput


class RecordType(StrEnum):
    TIP = "tip"
    NOTIFICATION = "notification"
    HAZARD = "hazard"
    POINTS_ENTRY = "points_entry"
    REWARD = "reward"


class Op(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    record_type: RecordType
    record_id: uuid.UUID
    op: Op


@dataclass(frozen=True, slots=True)
class ChangeSlice:
    changes: list[Change]
    has_more: bool


class InvalidSyncToken(InvalidInput):
    code = "sync.invalid_token"
    message_en = "The sync token is not valid; start again without one."
    message_zh = "同步令牌无效，请不带令牌重新同步。"


_PREFIX = "s1:"


def encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_token(token: str | None) -> int:
    """No token: a full initial sync from the start."""
    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidSyncToken() from exc
    digits = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not digits.isdigit() or len(digits) > 19:
        raise InvalidSyncToken()
    return int(digits)
