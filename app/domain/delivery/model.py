"""Outbox events as the worker sees them, and the retry policy (backoff, dead letter)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    seq: int
    id: uuid.UUID
    event_type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    payload: dict[str, Any]
    occurred_at: datetime
    attempts: int  # including the attempt under way

    def key(self, handler: str) -> str:
        """The idempotency key of one handler's work on this event: a redelivery of the
        same event to the same handler carries the same key."""
        return f"{self.id}:{handler}"


@dataclass(frozen=True, slots=True)
class DeadEvent:
    seq: int
    id: uuid.UUID
    event_type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    attempts: int
    last_error: str | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Retry:
    at: datetime


@dataclass(frozen=True, slots=True)
class Dead:
    pass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: the n-th failed attempt waits ``base·2^(n-1)`` seconds, capped
    at ``cap``, plus up to ``jitter`` of that (so a burst of failures spreads out). After
    ``max_attempts`` failures the event is dead. ``lease`` is how long a claimed event
    stays invisible to other workers; if the worker dies, it is claimed again after it."""

    max_attempts: int = 8
    base_s: float = 1.0
    cap_s: float = 300.0
    jitter: float = 0.1
    lease_s: float = 120.0

    def delay(self, failed_attempt: int, rand: Callable[[], float] = random.random) -> timedelta:
        raw = min(self.cap_s, self.base_s * 2 ** max(0, failed_attempt - 1))
        return timedelta(seconds=raw * (1 + self.jitter * rand()))

    def after_failure(
        self, failed_attempt: int, now: datetime, rand: Callable[[], float] = random.random
    ) -> Retry | Dead:
        if failed_attempt >= self.max_attempts:
            return Dead()
        return Retry(now + self.delay(failed_attempt, rand))

    def lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lease_s)


def error_summary(handler: str, exc: BaseException) -> str:
    """What is kept of a failure: the handler and the exception class. Exception messages
    may quote data (names, phone numbers) and the outbox is no place for them."""
    return f"{handler}: {type(exc).__name__}"
