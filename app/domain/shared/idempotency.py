"""Port for Idempotency-Key storage (IETF draft semantics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class BeginOutcome(StrEnum):
    STARTED = "started"  # first time: execute the request
    REPLAY = "replay"  # completed before with the same body: replay the stored response
    MISMATCH = "mismatch"  # same key, different body: 422
    IN_FLIGHT = "in_flight"  # same key still being processed: 409


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class BeginResult:
    outcome: BeginOutcome
    response: StoredResponse | None = None


class IdempotencyStore(Protocol):
    async def begin(
        self,
        principal: str,
        key: str,
        operation: str,
        request_hash: bytes,
        now: datetime,
    ) -> BeginResult: ...

    async def complete(self, principal: str, key: str, response: StoredResponse) -> None: ...

    async def release(self, principal: str, key: str) -> None:
        """Forget an in-flight key whose request failed, so a retry may run again."""
        ...

    async def purge_expired(self, now: datetime) -> int: ...
