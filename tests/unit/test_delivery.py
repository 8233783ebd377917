"""Delivery without a database: backoff schedule, per-record ordering of the claim, retries,
the dead letter and per-handler idempotency (an in-memory outbox mirrors the SQL claim)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.delivery.model import Dead, DeadEvent, OutboxEvent, Retry, RetryPolicy
from app.domain.delivery.services import DeliveryService, HandlerRegistry
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import NotAllowed
from app.domain.shared.scope import Role, Scope, system_scope

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@dataclass
class Row:
    event: OutboxEvent
    status: str = "pending"
    next_at: datetime | None = None
    error: str | None = None


class FakeOutbox:
    """The same rules as SqlOutboxStore: the oldest pending event of each record only."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.done: set[tuple[uuid.UUID, str]] = set()

    def add(self, event_type: str, record: uuid.UUID) -> OutboxEvent:
        e = OutboxEvent(len(self.rows) + 1, uuid.uuid4(), event_type, "r", record, {}, T0, 0)
        self.rows.append(Row(e))
        return e

    def row(self, e: OutboxEvent) -> Row:
        return next(r for r in self.rows if r.event.id == e.id)

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxEvent]:
        heads: dict[uuid.UUID, Row] = {}
        for r in self.rows:
            if r.status == "pending":
                heads.setdefault(r.event.aggregate_id, r)
        out = []
        for r in heads.values():
            if r.next_at is None or r.next_at <= now:
                r.event = replace(r.event, attempts=r.event.attempts + 1)
                r.next_at = lease_until
                out.append(r.event)
        return out[:limit]

    async def handled(self, event_id: uuid.UUID) -> set[str]:
        return {h for e, h in self.done if e == event_id}

    async def record_handled(self, event_id: uuid.UUID, handler: str, at: datetime) -> None:
        self.done.add((event_id, handler))

    def _by_seq(self, seq: int) -> Row:
        return next(r for r in self.rows if r.event.seq == seq)

    async def mark_delivered(self, seq: int, at: datetime) -> None:
        self._by_seq(seq).status = "delivered"

    async def schedule_retry(self, seq: int, at: datetime, error: str) -> None:
        row = self._by_seq(seq)
        row.next_at, row.error = at, error

    async def mark_dead(self, seq: int, error: str) -> None:
        row = self._by_seq(seq)
        row.status, row.error = "dead", error

    async def list_dead(self, limit: int, after_seq: int | None) -> list[DeadEvent]:
        return [
            DeadEvent(
                r.event.seq,
                r.event.id,
                r.event.event_type,
                "r",
                r.event.aggregate_id,
                r.event.attempts,
                r.error,
                T0,
            )
            for r in self.rows
            if r.status == "dead"
        ][:limit]

    async def requeue_dead(self, seqs: list[int] | None, now: datetime) -> int:
        rows = [
            r for r in self.rows if r.status == "dead" and (seqs is None or r.event.seq in seqs)
        ]
        for r in rows:
            r.status, r.next_at, r.event = "pending", now, replace(r.event, attempts=0)
        return len(rows)


class Flaky:
    """A handler failing its first ``failures`` calls; records the keys it applied."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.applied: list[str] = []
        self.calls = 0

    async def __call__(self, event: OutboxEvent, key: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("张伟 13912345678 could not be reached")
        self.applied.append(key)


def service(
    store: FakeOutbox, registry: HandlerRegistry, clock: FixedClock, max_attempts: int = 4
) -> DeliveryService:
    policy = RetryPolicy(max_attempts=max_attempts, base_s=1, cap_s=8, jitter=0.1, lease_s=60)
    return DeliveryService(store, registry, clock, policy, rand=lambda: 0.0)


def test_backoff_doubles_up_to_the_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(max_attempts=10, base_s=1, cap_s=10, jitter=0.1)
    assert [policy.delay(n, lambda: 0.0).total_seconds() for n in range(1, 7)] == [
        1,
        2,
        4,
        8,
        10,
        10,
    ]
    assert policy.delay(3, lambda: 1.0) == timedelta(seconds=4.4)
    assert policy.after_failure(9, T0, lambda: 0.0) == Retry(T0 + timedelta(seconds=10))
    assert policy.after_failure(10, T0) == Dead()


def test_a_handler_name_is_registered_once_per_event_type() -> None:
    registry = HandlerRegistry()
    registry.register("x.happened", "a", Flaky())
    registry.register("y.happened", "a", Flaky())
    with pytest.raises(ValueError, match="already registered"):
        registry.register("x.happened", "a", Flaky())


async def test_delivers_each_record_in_order_and_a_failure_blocks_only_its_record() -> None:
    store, registry, clock = FakeOutbox(), HandlerRegistry(), FixedClock(T0)
    seen: list[tuple[uuid.UUID, int]] = []
    a, b = uuid.uuid4(), uuid.uuid4()

    async def record(event: OutboxEvent, key: str) -> None:
        if event.event_type == "bad" and event.attempts < 3:
            raise RuntimeError("boom")
        seen.append((event.aggregate_id, event.seq))

    registry.register("ok", "rec", record)
    registry.register("bad", "rec", record)
    a1, a2, b1, b2 = store.add("bad", a), store.add("ok", a), store.add("ok", b), store.add("ok", b)
    svc = service(store, registry, clock)

    report = await svc.drain()
    assert (report.delivered, report.retried) == (2, 1)
    assert seen == [(b, b1.seq), (b, b2.seq)]  # A is held back behind its failing head
    assert store.row(a2).status == "pending"
    assert store.row(a1).next_at == T0 + timedelta(seconds=1)

    clock.advance(seconds=1)
    await svc.drain()  # second attempt fails too: waits 2 s
    assert store.row(a1).next_at == T0 + timedelta(seconds=3)
    clock.advance(seconds=2)
    await svc.drain()
    assert seen[2:] == [(a, a1.seq), (a, a2.seq)]
    assert store.row(a1).status == store.row(a2).status == "delivered"


async def test_redelivery_skips_handlers_that_already_succeeded() -> None:
    store, registry, clock = FakeOutbox(), HandlerRegistry(), FixedClock(T0)
    good, flaky = Flaky(), Flaky(failures=1)
    registry.register("e", "good", good)
    registry.register("e", "flaky", flaky)
    e = store.add("e", uuid.uuid4())
    svc = service(store, registry, clock)
    await svc.drain()
    clock.advance(seconds=5)
    await svc.drain()
    assert good.applied == [f"{e.id}:good"]
    assert flaky.applied == [f"{e.id}:flaky"]
    assert store.row(e).status == "delivered"


async def test_dead_letter_after_max_attempts_without_message_text_then_requeue() -> None:
    store, registry, clock = FakeOutbox(), HandlerRegistry(), FixedClock(T0)
    handler = Flaky(failures=4)
    registry.register("e", "h", handler)
    e = store.add("e", uuid.uuid4())
    svc = service(store, registry, clock, max_attempts=4)
    for _ in range(4):
        await svc.drain()
        clock.advance(seconds=60)
    row = store.row(e)
    assert (row.status, row.event.attempts) == ("dead", 4)
    assert row.error == "h: RuntimeError"  # no names or phone numbers from the message
    dead = await svc.list_dead(system_scope())
    assert [d.id for d in dead] == [e.id]
    with pytest.raises(NotAllowed):
        await svc.requeue_dead(Scope(uuid.uuid4(), frozenset({Role.DISTRICT_ADMIN})))
    assert await svc.requeue_dead(system_scope()) == 1
    await svc.drain()
    assert store.row(e).status == "delivered"
    assert handler.applied == [f"{e.id}:h"]


async def test_events_without_handlers_are_simply_delivered() -> None:
    store, clock = FakeOutbox(), FixedClock(T0)
    e = store.add("nobody.listens", uuid.uuid4())
    report = await service(store, HandlerRegistry(), clock).drain()
    assert report.delivered == 1
    assert store.row(e).status == "delivered"
