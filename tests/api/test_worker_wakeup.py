"""The delivery worker wakes when outbox rows commit (LISTEN outbox_new, fed by the trigger
of migration 0014) instead of waiting for its poll interval, and keeps doing so after its
listening connection is lost."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.bootstrap.delivery import run_delivery
from app.domain.delivery.model import OutboxEvent
from app.domain.delivery.services import DeliveryService, HandlerRegistry
from app.domain.shared.events import DomainEvent
from app.domain.shared.scope import system_scope
from app.infra.db.uow import SqlUnitOfWork
from app.infra.realtime.outbox_wakeup import PgOutboxWakeup
from app.settings import Settings

POLL_S = 5.0  # the fallback; every wake-up below must come far sooner
WAKE_LIMIT_S = 1.0
SETTLE_S = 0.3  # long enough for the worker to finish its pass and wait again


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


class Stopwatch:
    """Handler that notes when each record's event was delivered."""

    def __init__(self) -> None:
        self.delivered: dict[uuid.UUID, float] = {}

    async def __call__(self, event: OutboxEvent, key: str) -> None:
        self.delivered.setdefault(event.aggregate_id, time.monotonic())


async def latency(sessions: async_sessionmaker[AsyncSession], kind: str, watch: Stopwatch) -> float:
    """Seconds from the commit of a new event to its delivery by the running worker."""
    await asyncio.sleep(SETTLE_S)
    record = uuid.uuid4()
    async with SqlUnitOfWork(sessions, system_scope()) as uow:
        uow.add_event(DomainEvent(kind, "test", record, datetime.now(UTC), {}))
        await uow.commit()
    committed = time.monotonic()
    await until(lambda: record in watch.delivered, timeout=POLL_S + 5)
    return watch.delivered[record] - committed


async def test_the_worker_wakes_on_commit_and_after_losing_its_listener(
    app: Any, settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    services = app.state.services
    kind = f"test.wakeup.{uuid.uuid4().hex}"
    watch = Stopwatch()
    services.get(HandlerRegistry).register(kind, "test.stopwatch", watch)
    await services.get(DeliveryService).drain()  # nothing left over from other tests
    slow = settings.model_copy(update={"worker_poll_interval_s": POLL_S})
    wakeup = PgOutboxWakeup(settings.database_url)
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_delivery(services, slow, housekeeping=False, stop=stop, wakeup=wakeup)
    )
    try:
        await until(lambda: wakeup.listening)
        measured = [await latency(session_factory, kind, watch) for _ in range(3)]
        assert max(measured) < WAKE_LIMIT_S, measured

        # The database drops the listening connection: the worker reconnects and is
        # woken by commits again (not merely by its poll interval).
        pid = wakeup.server_pid
        async with session_factory() as s:
            await s.execute(sa.select(sa.func.pg_terminate_backend(pid)))
        await until(lambda: wakeup.listening and wakeup.server_pid != pid)
        measured = [await latency(session_factory, kind, watch) for _ in range(2)]
        assert max(measured) < WAKE_LIMIT_S, measured
    finally:
        stop.set()
        report = await asyncio.wait_for(worker, 10)
        await wakeup.aclose()
    assert report.delivered >= 5
    assert not worker.cancelled()
