"""The background worker. Today it does housekeeping (expired idempotency keys, OTP
challenges, refresh tokens); outbox delivery joins it in a later issue."""

from __future__ import annotations

import asyncio
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


async def run_worker(settings: Settings, *, once: bool = False, interval_s: float = 300) -> None:
    from app.api.observability import configure_logging

    configure_logging(settings.log_level, settings.log_json)
    platform = build_platform(settings)
    services = Services()
    wire_platform(services, platform)
    wiring.wire_contexts(services, platform)
    try:
        while True:
            results = await run_once(services)
            log.info("housekeeping pass done", removed=results)
            if once:
                return
            await asyncio.sleep(interval_s)
    finally:
        await platform.aclose()
