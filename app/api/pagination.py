"""Keyset pagination shared by both doors: opaque cursors and page sizes.

A cursor is URL-safe base64 of a small JSON object naming the sort key of the last item
a page showed; lists resume strictly after it. REST and GraphQL use the same cursors.
"""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from app.domain.shared.errors import InvalidInput
from app.domain.shared.ids import parse_id

MAX_PAGE = 200


class Identified(Protocol):
    @property
    def id(self) -> UUID: ...


def _invalid_cursor() -> InvalidInput:
    return InvalidInput(
        "The cursor is not valid.", "分页游标无效。", code="pagination.invalid_cursor"
    )


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise _invalid_cursor()
    return value


# --- lists ordered by id (UUIDv7, so newest first by id DESC) -------------------------------


def id_cursor(record_id: object) -> str:
    """The cursor that resumes after the record with this id."""
    return encode_cursor({"id": str(record_id)})


def cursor_of(item: Identified) -> str:
    return id_cursor(item.id)


def after_id(cursor: str | None) -> UUID | None:
    """The id a page resumes after (None for the first page)."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    parsed = parse_id(str(values.get("id", "")))
    if parsed is None:
        raise _invalid_cursor()
    return parsed


# --- lists ordered by a due date, then id (re-checks due) -----------------------------------


def due_cursor(due: date | None, record_id: UUID) -> str:
    return encode_cursor({"due": due, "id": str(record_id)})


def due_after(cursor: str | None) -> tuple[date, UUID] | None:
    """Keyset position (due date, id) a page resumes after."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    record_id = parse_id(str(values.get("id", "")))
    try:
        due = date.fromisoformat(str(values.get("due", "")))
    except ValueError:
        due = None
    if due is None or record_id is None:
        raise _invalid_cursor()
    return due, record_id
