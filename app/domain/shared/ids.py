"""UUIDv7 identifiers: time-ordered, so B-tree inserts stay local and keysets sort by age."""

from __future__ import annotations

import uuid

import uuid_utils


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def parse_id(value: str) -> uuid.UUID | None:
    """Parse a client-supplied id; ``None`` when it is not a UUID (callers answer 404/422)."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
