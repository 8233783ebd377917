"""Port for Idempotency-Key storage (IETF draft semantics)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

R = TypeVar("R")


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


@dataclass(frozen=True, slots=True)
class Receipt(Generic[R]):
    """An Idempotency-Key to be stored, completed, by the very statement that makes the
    write it answers (for use cases that write in one statement: no separate claim and
    completion round trips, and no window in which the key is in flight). ``render``
    turns the use case's result into the response to store; the write stores nothing at
    all when the key exists already (the use case then raises ``ReceiptKeyTaken``)."""

    principal: str
    key: str
    operation: str
    request_hash: bytes
    created_at: datetime
    expires_at: datetime
    render: Callable[[R], StoredResponse]


class ReceiptKeyTaken(Exception):
    """The receipt's key exists already: nothing was written; the caller decides as for
    any known key (replay, mismatch, in flight)."""


class IdempotencyStore(Protocol):
    def receipt(
        self,
        principal: str,
        key: str,
        operation: str,
        request_hash: bytes,
        now: datetime,
        render: Callable[[R], StoredResponse],
    ) -> Receipt[R]:
        """A receipt for a write that stores the key itself (kept as long as any key)."""
        ...

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
