"""Wiring of the points ledger (积分): the service, the handlers that credit verified tips
and hazards and reverse them, and the ports through which it learns about reporters.

``HazardReporters`` is registered in ``services`` under the protocol itself. Until the
hazards context registers its own (``services.register(HazardReporters, impl)`` in its
``wire``, before or after this one), ``NoHazardReporters`` answers nothing. The handler
looks the port up when an event arrives, so wiring order does not matter.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.delivery import handler_registry
from app.bootstrap.identity import blind_indexer, field_cipher
from app.bootstrap.platform import Platform
from app.bootstrap.tips import uow_factory as tips_uow_factory
from app.domain.notifications.services import NotificationService
from app.domain.points.handlers import PointsHandlers
from app.domain.points.model import Report
from app.domain.points.ports import (
    HazardReporters,
    NoHazardReporters,
    PointsUnitOfWork,
    SourceRecord,
)
from app.domain.points.services import PointsService, UowFactory
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope, system_scope
from app.domain.tips.ports import TipsUnitOfWork
from app.infra.db.points_repo import SqlPointsUnitOfWork


def uow_factory(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> UowFactory:
    def make(scope: Scope) -> PointsUnitOfWork:
        return SqlPointsUnitOfWork(session_factory, scope, clock)

    return make


class TipReporters:
    """``TipSources`` over the tips context's unit of work, like ``TipNotifications``:
    the system scope (the worker asks on the tip's behalf), the reporter from the sealed
    informant row, nothing for anonymous tips. The account id goes to the ledger only."""

    def __init__(self, uow_factory: Callable[[Scope], TipsUnitOfWork]) -> None:
        self.uow_factory = uow_factory

    async def tip(self, tip_id: uuid.UUID) -> SourceRecord | None:
        async with self.uow_factory(system_scope()) as uow:
            tip = await uow.tips.get(tip_id)
            if tip is None:
                return None
            informant = None if tip.anonymous else await uow.tips.informant(tip_id)
        reports: tuple[Report, ...] = ()
        if informant is not None and informant.account_id is not None:
            reports = (Report(informant.account_id, tip.submitted_at),)
        return SourceRecord(tip.routing.station_id, tip.routing.district_id, reports)


def hazard_reporters(services: Services) -> HazardReporters:
    found: HazardReporters = services.get_any(HazardReporters)
    return found


def wire(services: Services, platform: Platform) -> None:
    factory = uow_factory(platform.session_factory, platform.clock)
    service = PointsService(factory, platform.clock)
    services.register(PointsService, service)
    try:
        services.get_any(HazardReporters)
    except KeyError:  # the hazards context has not provided its own (yet)
        services.register(HazardReporters, NoHazardReporters())
    settings = platform.settings
    tips = tips_uow_factory(
        platform.session_factory, platform.clock, field_cipher(settings), blind_indexer(settings)
    )
    reporters = TipReporters(tips)
    services.register(TipReporters, reporters)
    handlers = PointsHandlers(
        service,
        factory,
        reporters,
        lambda: hazard_reporters(services),
        services.get(NotificationService),
    )
    registry = handler_registry(services)
    registry.register("tip.outcome_recorded", "points.credit_reporter", handlers.tip_outcome)
    registry.register("tip.disputed", "points.reverse_disputed", handlers.tip_disputed)
    registry.register("hazard.verified", "points.credit_hazard", handlers.hazard_verified)
