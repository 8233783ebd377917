"""The background worker: outbox delivery (app/bootstrap/delivery.py) and housekeeping
(expired idempotency keys, OTP challenges, refresh tokens)."""

from __future__ import annotations

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
    try:
        report = await run_delivery(services, settings, once=once)
        log.info(
            "delivery done", delivered=report.delivered, retried=report.retried, dead=report.dead
        )
    finally:
        await platform.aclose()
