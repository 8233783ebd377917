"""Ports of delivery: the outbox as a queue, and the handlers that consume it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from app.domain.delivery.model import DeadEvent, OutboxEvent

# A handler does one thing in reaction to an event. It must be idempotent by the key it
# receives (``event.key(name)``): a crash between its work and the record of that work
# redelivers the event to it.
Handler = Callable[[OutboxEvent, str], Awaitable[None]]


class OutboxStore(Protocol):
    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxEvent]:
        """Due pending events, at most one per record: the oldest pending event of each
        record (later ones wait for it). Claiming counts an attempt and leases the event
        until ``lease_until``; other workers skip it meanwhile."""
        ...

    async def handled(self, event_id: uuid.UUID) -> set[str]: ...

    async def record_handled(self, event_id: uuid.UUID, handler: str, at: datetime) -> None: ...

    async def mark_delivered(self, seq: int, at: datetime) -> None: ...

    async def schedule_retry(self, seq: int, at: datetime, error: str) -> None: ...

    async def mark_dead(self, seq: int, error: str) -> None: ...

    async def list_dead(self, limit: int, after_seq: int | None) -> list[DeadEvent]: ...

    async def requeue_dead(self, seqs: list[int] | None, now: datetime) -> int:
        """Put dead events (all when ``seqs`` is None) back to pending, attempts reset."""
        ...
