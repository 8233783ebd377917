"""Delivery use cases: the handler registry, draining due events, the dead letter."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from app.domain.delivery.model import Dead, DeadEvent, OutboxEvent, RetryPolicy, error_summary
from app.domain.delivery.ports import Handler, OutboxStore
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed
from app.domain.shared.scope import Scope

log = structlog.get_logger("shouwang.delivery")


class HandlerRegistry:
    """Handlers per event type. Contexts register at wiring time:
    ``registry.register("volunteer.activated", "notifications.volunteer", handler)``."""

    def __init__(self) -> None:
        self._handlers: dict[str, dict[str, Handler]] = {}

    def register(self, event_type: str, name: str, handler: Handler) -> None:
        by_name = self._handlers.setdefault(event_type, {})
        if name in by_name:
            raise ValueError(f"handler {name!r} already registered for {event_type!r}")
        by_name[name] = handler

    def handlers_for(self, event_type: str) -> list[tuple[str, Handler]]:
        return list(self._handlers.get(event_type, {}).items())


@dataclass
class DrainReport:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.delivered + self.retried + self.dead


class DeliveryService:
    def __init__(
        self,
        store: OutboxStore,
        registry: HandlerRegistry,
        clock: Clock,
        policy: RetryPolicy,
        *,
        batch: int = 50,
        rand: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.policy = policy
        self.batch = batch
        self._rand = rand or random.random

    async def deliver_batch(self, report: DrainReport | None = None) -> DrainReport:
        """Claim one batch of due events and deliver each."""
        report = report or DrainReport()
        now = self.clock.now()
        for event in await self.store.claim(now, self.policy.lease_until(now), self.batch):
            await self._deliver(event, report)
        return report

    async def drain(self, max_batches: int = 1000) -> DrainReport:
        """Deliver until nothing is due (failed events wait for their backoff)."""
        report = DrainReport()
        for _ in range(max_batches):
            before = report.processed
            await self.deliver_batch(report)
            if report.processed == before:
                break
        return report

    async def _deliver(self, event: OutboxEvent, report: DrainReport) -> None:
        done = await self.store.handled(event.id)
        errors: list[str] = []
        for name, handler in self.registry.handlers_for(event.event_type):
            if name in done:
                continue
            try:
                await handler(event, event.key(name))
            except Exception as exc:  # any handler failure is retried, others go on
                log.warning(
                    "event handler failed",
                    event_type=event.event_type,
                    handler=name,
                    seq=event.seq,
                    attempt=event.attempts,
                    error=type(exc).__name__,
                )
                errors.append(error_summary(name, exc))
                continue
            await self.store.record_handled(event.id, name, self.clock.now())
        now = self.clock.now()
        if not errors:
            await self.store.mark_delivered(event.seq, now)
            report.delivered += 1
            return
        error = "; ".join(errors)[:500]
        report.errors.append(error)
        outcome = self.policy.after_failure(event.attempts, now, self._rand)
        if isinstance(outcome, Dead):
            await self.store.mark_dead(event.seq, error)
            report.dead += 1
            log.error("event dead-lettered", event_type=event.event_type, seq=event.seq)
        else:
            await self.store.schedule_retry(event.seq, outcome.at, error)
            report.retried += 1

    # --- the dead letter, for operators ----------------------------------------------------

    async def list_dead(
        self, scope: Scope, *, limit: int = 50, after_seq: int | None = None
    ) -> list[DeadEvent]:
        _require_operator(scope)
        return await self.store.list_dead(limit, after_seq)

    async def requeue_dead(self, scope: Scope, seqs: list[int] | None = None) -> int:
        _require_operator(scope)
        count = await self.store.requeue_dead(seqs, self.clock.now())
        log.info("dead events requeued", count=count)
        return count


def _require_operator(scope: Scope) -> None:
    if not scope.unrestricted:
        raise NotAllowed()
