"""Wiring of outbox delivery: the handler registry contexts register into, the delivery
service, the worker loop, and the dead-letter operator commands."""

from __future__ import annotations

import asyncio
import signal
import time

import structlog

from app.api.container import Services
from app.bootstrap import wiring
from app.bootstrap.platform import Platform, build_platform, wire_platform
from app.domain.delivery.model import DeadEvent, RetryPolicy
from app.domain.delivery.services import DeliveryService, DrainReport, HandlerRegistry
from app.domain.shared.scope import system_scope
from app.infra.db.outbox_store import SqlOutboxStore
from app.infra.realtime.outbox_wakeup import PgOutboxWakeup
from app.settings import Settings

log = structlog.get_logger("shouwang.worker")


def handler_registry(services: Services) -> HandlerRegistry:
    """The one registry of event handlers; any context's ``wire`` may call this, in any
    order, and ``register`` its handlers on it."""
    try:
        return services.get(HandlerRegistry)
    except LookupError:
        registry = HandlerRegistry()
        services.register(HandlerRegistry, registry)
        return registry


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.delivery_max_attempts,
        base_s=settings.delivery_backoff_base_s,
        cap_s=settings.delivery_backoff_cap_s,
        lease_s=settings.delivery_lease_s,
    )


def wire(services: Services, platform: Platform) -> None:
    services.register(
        DeliveryService,
        DeliveryService(
            SqlOutboxStore(platform.session_factory),
            handler_registry(services),
            platform.clock,
            retry_policy(platform.settings),
            batch=10,  # small batches: a stopping worker finishes its batch first
        ),
    )


async def run_delivery(
    services: Services,
    settings: Settings,
    *,
    once: bool = False,
    housekeeping: bool = True,
    stop: asyncio.Event | None = None,
    wakeup: PgOutboxWakeup | None = None,
) -> DrainReport:
    """Deliver continuously until SIGTERM/SIGINT or ``stop`` (the batch under way is
    finished), with housekeeping every few minutes; ``once`` drains what is due and
    returns. Between passes the worker sleeps until outbox rows commit (LISTEN, see
    ``PgOutboxWakeup``) or the poll interval ends, whichever comes first."""
    from app.bootstrap.worker import run_once as housekeep

    delivery = services.get(DeliveryService)
    if once:
        report = await delivery.drain()
        if housekeeping:
            await housekeep(services)
        return report
    stop = stop or asyncio.Event()
    wake = wakeup or PgOutboxWakeup(settings.database_url)

    def stopping() -> None:
        stop.set()
        wake.poke()

    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stopping)
    stop_watch = asyncio.create_task(_poke_on(stop, wake))
    total = DrainReport()
    next_housekeeping = 0.0
    try:
        while not stop.is_set():
            if housekeeping and time.monotonic() >= next_housekeeping:
                log.info("housekeeping pass done", removed=await housekeep(services))
                next_housekeeping = time.monotonic() + settings.worker_housekeeping_interval_s
            wake.clear()  # before claiming: a commit during the pass wakes the next wait
            try:
                batch = await delivery.deliver_batch()
            except Exception:  # e.g. database restart: log, wait, go on
                log.exception("delivery pass failed")
                batch = DrainReport()
            total.delivered += batch.delivered
            total.retried += batch.retried
            total.dead += batch.dead
            if batch.processed == 0 and not stop.is_set():
                await wake.wait(settings.worker_poll_interval_s)
        log.info("worker stopping", delivered=total.delivered)
        return total
    finally:
        stop_watch.cancel()
        for sig in signals:
            loop.remove_signal_handler(sig)
        if wakeup is None:
            await wake.aclose()


async def _poke_on(stop: asyncio.Event, wake: PgOutboxWakeup) -> None:
    """A ``stop`` set from outside (not by a signal) ends the wait at once too."""
    await stop.wait()
    wake.poke()


def _with_delivery(settings: Settings) -> tuple[Platform, DeliveryService]:
    platform = build_platform(settings)
    services = Services()
    wire_platform(services, platform)
    wiring.wire_contexts(services, platform)
    return platform, services.get(DeliveryService)


async def list_dead_events(settings: Settings, limit: int = 100) -> list[DeadEvent]:
    platform, delivery = _with_delivery(settings)
    try:
        return await delivery.list_dead(system_scope(), limit=limit)
    finally:
        await platform.aclose()


async def requeue_dead_events(settings: Settings, seqs: list[int] | None) -> int:
    platform, delivery = _with_delivery(settings)
    try:
        return await delivery.requeue_dead(system_scope(), seqs)
    finally:
        await platform.aclose()
