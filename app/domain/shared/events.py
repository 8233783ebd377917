"""Domain events: raised by use cases, written to the outbox in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DomainEvent:
    event_type: str  # e.g. "volunteer.status_changed"
    aggregate_type: str  # e.g. "volunteer"
    aggregate_id: uuid.UUID
    occurred_at: datetime
    # Thin payload: ids and codes only, never personal data (it may leave the system).
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditNote:
    """An audit entry a use case asks for (who, role and request come from its scope)."""

    action: str
    record_type: str
    record_id: uuid.UUID
    detail: dict[str, Any] = field(default_factory=dict)
