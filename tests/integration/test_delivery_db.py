"""Outbox delivery against PostgreSQL: once-only handling, backoff, the dead letter,
per-record ordering, and redelivery after a worker died mid-delivery."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.delivery.model import OutboxEvent, RetryPolicy
from app.domain.delivery.services import DeliveryService, HandlerRegistry
from app.domain.shared.clock import FixedClock
from app.domain.shared.events import DomainEvent
from app.domain.shared.scope import system_scope
from app.infra.db.outbox_store import SqlOutboxStore
from app.infra.db.tables.platform import outbox
from app.infra.db.uow import SqlUnitOfWork
from app.settings import Settings

Sessions = async_sessionmaker[AsyncSession]
POLICY = RetryPolicy(max_attempts=3, base_s=2, cap_s=60, jitter=0.0, lease_s=30)


class Recorder:
    """An idempotent handler: applies each key once, counts every call; fails the first
    ``failures`` calls for the records in ``fail_for``."""

    def __init__(self, fail_for: set[uuid.UUID] | None = None, failures: int = 10**6) -> None:
        self.calls: Counter[str] = Counter()
        self.tries: Counter[uuid.UUID] = Counter()
        self.applied: list[tuple[uuid.UUID, int]] = []
        self._keys: set[str] = set()
        self.fail_for = fail_for or set()
        self.failures = failures

    async def __call__(self, event: OutboxEvent, key: str) -> None:
        self.calls[key] += 1
        self.tries[event.aggregate_id] += 1
        if event.aggregate_id in self.fail_for and self.tries[event.aggregate_id] <= self.failures:
            raise ConnectionError("王芳 at 湖塘镇 unreachable")
        if key not in self._keys:
            self._keys.add(key)
            self.applied.append((event.aggregate_id, event.seq))


async def emit(sessions: Sessions, event_type: str, record: uuid.UUID, n: int = 1) -> None:
    async with SqlUnitOfWork(sessions, system_scope()) as uow:
        for i in range(n):
            uow.add_event(DomainEvent(event_type, "test", record, datetime.now(UTC), {"i": i}))
        await uow.commit()


async def rows(sessions: Sessions, record: uuid.UUID) -> list[Any]:
    async with sessions() as s:
        query = sa.select(outbox).where(outbox.c.aggregate_id == record).order_by(outbox.c.seq)
        return list((await s.execute(query)).all())


def setup(
    sessions: Sessions, handler: Recorder, event_type: str
) -> tuple[DeliveryService, FixedClock]:
    registry = HandlerRegistry()
    registry.register(event_type, "test.recorder", handler)
    clock = FixedClock(datetime.now(UTC) + timedelta(seconds=1))
    return DeliveryService(SqlOutboxStore(sessions), registry, clock, POLICY), clock


async def test_delivers_once_and_records_the_handler(session_factory: Sessions) -> None:
    kind, record = f"test.{uuid.uuid4().hex}", uuid.uuid4()
    handler = Recorder()
    svc, _ = setup(session_factory, handler, kind)
    await emit(session_factory, kind, record, n=2)
    await svc.drain()
    await svc.drain()
    stored = await rows(session_factory, record)
    assert [r.status for r in stored] == ["delivered", "delivered"]
    assert handler.applied == [(record, stored[0].seq), (record, stored[1].seq)]
    assert set(handler.calls.values()) == {1}


async def test_failure_backs_off_then_succeeds(session_factory: Sessions) -> None:
    kind, record = f"test.{uuid.uuid4().hex}", uuid.uuid4()
    handler = Recorder(fail_for={record}, failures=2)
    svc, clock = setup(session_factory, handler, kind)
    await emit(session_factory, kind, record)
    await svc.drain()
    (row,) = await rows(session_factory, record)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=2)
    assert row.last_error == "test.recorder: ConnectionError"  # no names or places
    await svc.drain()  # not due yet
    assert (await rows(session_factory, record))[0].attempts == 1
    clock.advance(seconds=2)
    await svc.drain()
    (row,) = await rows(session_factory, record)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=4)
    clock.advance(seconds=4)
    await svc.drain()
    (row,) = await rows(session_factory, record)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)
    assert len(handler.applied) == 1


async def test_dead_after_max_attempts_and_requeue(session_factory: Sessions) -> None:
    kind, record = f"test.{uuid.uuid4().hex}", uuid.uuid4()
    handler = Recorder(fail_for={record}, failures=3)
    svc, clock = setup(session_factory, handler, kind)
    await emit(session_factory, kind, record)
    for _ in range(3):
        await svc.drain()
        clock.advance(seconds=60)
    (row,) = await rows(session_factory, record)
    assert (row.status, row.attempts) == ("dead", 3)
    dead = await svc.list_dead(system_scope(), limit=200)
    assert row.seq in {d.seq for d in dead}
    assert await svc.requeue_dead(system_scope(), [row.seq]) == 1
    await svc.drain()
    (row,) = await rows(session_factory, record)
    assert row.status == "delivered"
    assert handler.applied == [(record, row.seq)]


async def test_a_failing_record_blocks_only_itself(session_factory: Sessions) -> None:
    kind, a, b = f"test.{uuid.uuid4().hex}", uuid.uuid4(), uuid.uuid4()
    handler = Recorder(fail_for={a}, failures=1)
    svc, clock = setup(session_factory, handler, kind)
    await emit(session_factory, kind, a, n=2)
    await emit(session_factory, kind, b, n=2)
    await svc.drain()
    a_rows, b_rows = await rows(session_factory, a), await rows(session_factory, b)
    assert [r.status for r in a_rows] == ["pending", "pending"]
    assert a_rows[1].attempts == 0  # never tried while its predecessor fails
    assert [r.status for r in b_rows] == ["delivered", "delivered"]
    clock.advance(seconds=2)
    await svc.drain()
    assert [r.status for r in await rows(session_factory, a)] == ["delivered", "delivered"]
    assert [x for x in handler.applied if x[0] == a] == [(a, a_rows[0].seq), (a, a_rows[1].seq)]


async def test_one_claim_per_record_at_a_time(session_factory: Sessions) -> None:
    kind, record = f"test.{uuid.uuid4().hex}", uuid.uuid4()
    await emit(session_factory, kind, record, n=3)
    store = SqlOutboxStore(session_factory)
    now = datetime.now(UTC) + timedelta(seconds=1)
    first = [
        e
        for e in await store.claim(now, now + timedelta(seconds=30), 500)
        if e.aggregate_id == record
    ]
    second = [
        e
        for e in await store.claim(now, now + timedelta(seconds=30), 500)
        if e.aggregate_id == record
    ]
    assert len(first) == 1
    assert second == []  # the head is leased, the rest wait behind it


async def test_a_worker_dying_mid_delivery_means_redelivery_after_the_lease(
    session_factory: Sessions,
) -> None:
    kind, record = f"test.{uuid.uuid4().hex}", uuid.uuid4()
    handler = Recorder()
    svc, clock = setup(session_factory, handler, kind)
    await emit(session_factory, kind, record)
    # A worker claims the event and does the handler's work, then dies before recording it.
    store = SqlOutboxStore(session_factory)
    claimed = [
        e
        for e in await store.claim(clock.now(), POLICY.lease_until(clock.now()), 500)
        if e.aggregate_id == record
    ]
    await handler(claimed[0], claimed[0].key("test.recorder"))
    await svc.drain()  # still leased: nothing happens
    assert (await rows(session_factory, record))[0].status == "pending"
    clock.advance(seconds=POLICY.lease_s + 1)
    await svc.drain()
    (row,) = await rows(session_factory, record)
    assert (row.status, row.attempts) == ("delivered", 2)
    assert handler.calls[claimed[0].key("test.recorder")] == 2  # redelivered...
    assert len(handler.applied) == 1  # ...but applied once


async def test_the_worker_loop_delivers_and_stops_on_sigterm(
    session_factory: Sessions, app: Any, settings: Settings
) -> None:
    from app.bootstrap.delivery import run_delivery

    kind, record = f"test.{uuid.uuid4().hex}", uuid.uuid4()
    handler = Recorder()
    app.state.services.get(HandlerRegistry).register(kind, "test.recorder", handler)
    await emit(session_factory, kind, record)
    loop = asyncio.get_running_loop()
    worker = asyncio.create_task(run_delivery(app.state.services, settings, housekeeping=False))
    for _ in range(100):
        if handler.applied:
            break
        await asyncio.sleep(0.05)
    assert handler.applied
    assert signal.SIGTERM in loop._signal_handlers  # type: ignore[attr-defined]
    os.kill(os.getpid(), signal.SIGTERM)  # handled by the worker: it finishes and returns
    report = await asyncio.wait_for(worker, 10)
    assert report.delivered >= 1
    assert signal.SIGTERM not in loop._signal_handlers  # type: ignore[attr-defined]
    assert (await rows(session_factory, record))[0].status == "delivered"


async def test_operator_commands_list_and_requeue_dead_events(
    session_factory: Sessions, settings: Settings
) -> None:
    from app.bootstrap.delivery import list_dead_events, requeue_dead_events

    kind, record = f"test.{uuid.uuid4().hex}", uuid.uuid4()
    svc, clock = setup(session_factory, Recorder(fail_for={record}), kind)
    await emit(session_factory, kind, record)
    for _ in range(3):
        await svc.drain()
        clock.advance(seconds=60)
    (row,) = await rows(session_factory, record)
    assert row.status == "dead"
    assert row.seq in {d.seq for d in await list_dead_events(settings, limit=1000)}
    assert await requeue_dead_events(settings, [row.seq]) == 1
    (row,) = await rows(session_factory, record)
    assert row.status == "pending"
