"""Wiring shared by every context: database, clock, idempotency, health, crypto."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.api.container import Services
from app.domain.shared.clock import Clock, SystemClock
from app.domain.shared.health import HealthProbe
from app.domain.shared.idempotency import IdempotencyStore
from app.infra.db.engine import dispose_engine, make_engine, make_session_factory
from app.infra.db.health import DatabaseHealthProbe
from app.infra.db.idempotency import SqlIdempotencyStore
from app.settings import Settings


@dataclass
class Platform:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    clock: Clock
    # Run first (last registered first) by ``aclose``: listeners and the like.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        closers, self.closers = self.closers, []
        for close in reversed(closers):
            await close()
        await self.http.aclose()
        await dispose_engine(self.engine)


def build_platform(settings: Settings, clock: Clock | None = None) -> Platform:
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        native_pool_size=settings.db_native_pool_size,
    )
    return Platform(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        http=httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)),
        clock=clock or SystemClock(),
    )


def wire_platform(services: Services, platform: Platform) -> None:
    services.register(Platform, platform)
    services.register(Clock, platform.clock)
    services.register(
        IdempotencyStore,
        SqlIdempotencyStore(
            platform.session_factory, ttl=timedelta(hours=platform.settings.idempotency_ttl_hours)
        ),
    )
    services.register(HealthProbe, DatabaseHealthProbe(platform.engine))
