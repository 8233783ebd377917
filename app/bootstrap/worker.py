"""The background worker: outbox delivery (app/bootstrap/delivery.py), tickers (work due
within seconds, e.g. emergency ring decisions and escalations) and housekeeping (expired
idempotency keys, OTP challenges, refresh tokens)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from app.api.container import Services
from app.bootstrap import wiring
from app.bootstrap.platform import build_platform, wire_platform
from app.domain.shared.idempotency import IdempotencyStore
from app.settings import Settings

log = structlog.get_logger("shouwang.worker")

# Housekeeping tasks contributed by contexts: each returns how many rows it removed.
Housekeeping = Callable[[Services], Awaitable[int]]
TASKS: dict[str, Housekeeping] = {}
# Tickers contributed by contexts: run every ``worker_tick_interval_s``; each returns how
# many items it handled (a full batch runs again at once).
Ticker = Callable[[Services], Awaitable[int]]
TICKERS: dict[str, Ticker] = {}


async def _purge_idempotency(services: Services) -> int:
    from app.domain.shared.clock import Clock

    store = services.get_any(IdempotencyStore)
    return int(await store.purge_expired(services.get_any(Clock).now()))


TASKS["idempotency_keys"] = _purge_idempotency


async def run_once(services: Services) -> dict[str, int]:
    results: dict[str, int] = {}
    for name, task in TASKS.items():
        try:
            results[name] = await task(services)
        except Exception:  # one failing task must not stop the others
            log.exception("housekeeping task failed", task=name)
            results[name] = -1
    return results


async def tick_once(services: Services) -> int:
    handled = 0
    for name, ticker in TICKERS.items():
        try:
            handled += await ticker(services)
        except Exception:  # e.g. database restart: log and go on
            log.exception("ticker failed", ticker=name)
    return handled


async def run_tickers(services: Services, interval_s: float) -> None:
    """Run the tickers until cancelled; sleep only when a pass found nothing to do."""
    while True:
        if await tick_once(services) == 0:
            await asyncio.sleep(interval_s)
        else:
            await asyncio.sleep(0.05)  # more may be due: go again soon


async def run_worker(settings: Settings, *, once: bool = False) -> None:
    """Deliver outbox events continuously, with housekeeping every few minutes, until
    SIGTERM/SIGINT; ``once`` drains what is due, runs housekeeping once and exits."""
    from app.api.observability import configure_logging
    from app.bootstrap.delivery import run_delivery

    configure_logging(settings.log_level, settings.log_json)
    platform = build_platform(settings)
    services = Services()
    wire_platform(services, platform)
    wiring.wire_contexts(services, platform)
    tickers = (
        None
        if once
        else asyncio.create_task(run_tickers(services, settings.worker_tick_interval_s))
    )
    try:
        if once:
            await tick_once(services)
        report = await run_delivery(services, settings, once=once)
        log.info(
            "delivery done", delivered=report.delivered, retried=report.retried, dead=report.dead
        )
    finally:
        if tickers is not None:
            tickers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tickers
        await platform.aclose()
