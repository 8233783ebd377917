"""Real-time tip updates (for the officer console's ``tipUpdated`` subscription).

Changes travel as ids only (tip, station, district) — never a description or anything
about the informant: each subscriber then loads the tip under its OWN scope, so a record
outside that scope is never delivered. Published by an outbox handler on the ``tip.*``
events: after commit, retried by the delivery worker, from whichever process runs it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol

from app.domain.delivery.model import OutboxEvent

TIP_EVENTS = (
    "tip.submitted",
    "tip.assigned",
    "tip.outcome_recorded",
    "tip.disputed",
    "tip.referred",  # announced under the new station: its consoles see it arrive
)


@dataclass(frozen=True, slots=True)
class TipChanged:
    tip_id: uuid.UUID
    station_id: uuid.UUID | None
    district_id: uuid.UUID | None


class TipUpdates(Protocol):
    async def publish(self, change: TipChanged) -> None:
        """Tell every API process (and so every subscriber) that the tip changed."""
        ...

    def subscribe(self) -> AsyncGenerator[TipChanged, None]:
        """Changes published from now on, until the iterator is closed (or the feed is
        lost, when it simply ends and the client subscribes again)."""
        ...


def _uuid(value: object) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


class TipUpdatePublisher:
    """Outbox handler: turns a ``tip.*`` event into a ``TipChanged`` (the event payload
    already carries the routing ids)."""

    def __init__(self, updates: TipUpdates) -> None:
        self.updates = updates

    async def __call__(self, event: OutboxEvent, handler: str) -> None:
        payload = event.payload
        await self.updates.publish(
            TipChanged(
                event.aggregate_id,
                _uuid(payload.get("station_id")),
                _uuid(payload.get("district_id")),
            )
        )
