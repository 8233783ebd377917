"""Wiring of hazards (隐患): the services, media of hazards, the notifications their
events trigger and the overdue-escalation housekeeping task."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.delivery import handler_registry
from app.bootstrap.identity import blind_indexer
from app.bootstrap.platform import Platform
from app.bootstrap.worker import TASKS
from app.domain.hazards.notify import HazardNotifications
from app.domain.hazards.ports import HazardUnitOfWork
from app.domain.hazards.services import (
    HAZARD_RECORD,
    HazardMediaVisibility,
    HazardService,
    HazardSetupService,
    UowFactory,
)
from app.domain.media.services import MediaVisibilityRegistry
from app.domain.notifications.services import NotificationService
from app.domain.organisation.ports import JurisdictionLocator
from app.domain.points.ports import HazardReporters
from app.domain.shared.clock import Clock
from app.domain.shared.protection import BlindIndexer
from app.domain.shared.scope import Scope, system_scope
from app.infra.db.hazard_reporters import SqlHazardReporters
from app.infra.db.hazards_repo import SqlHazardUnitOfWork, SqlNearbyHazards
from app.infra.db.hazards_submit import SqlReportWriter


def uow_factory(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock, indexer: BlindIndexer
) -> UowFactory:
    def make(scope: Scope) -> HazardUnitOfWork:
        return SqlHazardUnitOfWork(session_factory, scope, clock, indexer)

    return make


def wire(services: Services, platform: Platform) -> None:
    factory = uow_factory(
        platform.session_factory, platform.clock, blind_indexer(platform.settings)
    )
    services.get(MediaVisibilityRegistry).register(HAZARD_RECORD, HazardMediaVisibility(factory))
    locator = services.get_any(JurisdictionLocator)
    sf, indexer = platform.session_factory, blind_indexer(platform.settings)
    services.register(
        HazardService,
        HazardService(
            factory,
            platform.clock,
            locator,
            writer=SqlReportWriter(sf, indexer),
            nearby_reader=SqlNearbyHazards(sf),
        ),
    )
    services.register(HazardSetupService, HazardSetupService(factory))
    # Who earns the points of a verified hazard (merged duplicates included).
    services.register(HazardReporters, SqlHazardReporters(platform.session_factory))

    notify = HazardNotifications(factory, services.get(NotificationService))
    handlers = handler_registry(services)
    handlers.register("hazard.verified", "hazards.notify_reporters_verified", notify.verified)
    handlers.register("hazard.rectified", "hazards.notify_reporters_rectified", notify.to_reporters)
    handlers.register("hazard.closed", "hazards.notify_reporters_closed", notify.to_reporters)
    handlers.register("hazard.assigned", "hazards.notify_department", notify.assigned)
    handlers.register("hazard.escalated", "hazards.notify_staff_overdue", notify.escalated)


async def escalate_overdue_hazards(services: Services) -> int:
    return await services.get(HazardService).escalate_overdue(system_scope("hazard-escalation"))


TASKS["hazard_escalation"] = escalate_overdue_hazards
