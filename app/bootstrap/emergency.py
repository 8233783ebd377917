"""Wiring of emergency units (最小应急单元): the service (reading certificates and member
names through the volunteers services) and the location-retention housekeeping task."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.emergency_alerts import wire_alert_delivery
from app.bootstrap.platform import Platform
from app.bootstrap.worker import TASKS, TICKERS
from app.domain.emergency.drills import DrillScheduler, DrillUnitOfWork
from app.domain.emergency.incident_ports import IncidentUnitOfWork
from app.domain.emergency.incidents import (
    INCIDENT_RECORD,
    IncidentMediaVisibility,
    IncidentService,
)
from app.domain.emergency.incidents import UowFactory as IncidentUowFactory
from app.domain.emergency.nearby import NearbyService
from app.domain.emergency.ports import EmergencyUnitOfWork
from app.domain.emergency.services import EmergencyUnitService, UowFactory
from app.domain.media.services import MediaVisibilityRegistry
from app.domain.organisation.ports import JurisdictionLocator
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope, system_scope
from app.domain.volunteers.team_service import TeamService
from app.domain.volunteers.training_service import TrainingService
from app.infra.db.drills_repo import SqlDrillUnitOfWork
from app.infra.db.emergency_candidates import SqlCandidateFinder
from app.infra.db.emergency_repo import SqlEmergencyUnitOfWork
from app.infra.db.incidents_repo import SqlIncidentUnitOfWork


def uow_factory(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> UowFactory:
    def make(scope: Scope) -> EmergencyUnitOfWork:
        return SqlEmergencyUnitOfWork(session_factory, scope, clock)

    return make


def incident_uow_factory(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock, realtime_grace_s: float
) -> IncidentUowFactory:
    def make(scope: Scope) -> IncidentUnitOfWork:
        return SqlIncidentUnitOfWork(
            session_factory, scope, clock, realtime_grace_s=realtime_grace_s
        )

    return make


def wire(services: Services, platform: Platform) -> None:
    factory = uow_factory(platform.session_factory, platform.clock)
    incidents = incident_uow_factory(
        platform.session_factory, platform.clock, platform.settings.emergency_realtime_grace_s
    )
    services.get(MediaVisibilityRegistry).register(
        INCIDENT_RECORD, IncidentMediaVisibility(incidents)
    )
    incident_service = IncidentService(
        incidents, platform.clock, services.get_any(JurisdictionLocator)
    )
    services.register(IncidentService, incident_service)
    grace = platform.settings.emergency_realtime_grace_s

    def drill_uow(scope: Scope) -> DrillUnitOfWork:
        return SqlDrillUnitOfWork(
            platform.session_factory, scope, platform.clock, realtime_grace_s=grace
        )

    services.register(DrillScheduler, DrillScheduler(drill_uow, platform.clock, incident_service))
    services.register(
        EmergencyUnitService,
        EmergencyUnitService(
            factory,
            platform.clock,
            services.get(TrainingService),
            services.get(TeamService),
            retention_days=platform.settings.emergency_location_retention_days,
        ),
    )
    finder = SqlCandidateFinder(platform.session_factory)
    services.register(NearbyService, NearbyService(finder, finder, platform.clock))
    wire_alert_delivery(services, platform)  # push/SMS to members not connected


async def purge_expired_locations(services: Services) -> int:
    """Forget location history and last known locations past the retention setting."""
    return await services.get(EmergencyUnitService).purge_locations(
        system_scope("emergency-location-retention")
    )


TASKS["emergency_location_retention"] = purge_expired_locations


async def take_due_dispatch(services: Services) -> int:
    """Scheduled drills, ring decisions and channel escalations that are due (the worker,
    every second)."""
    service = services.get(IncidentService)
    drills = await services.get(DrillScheduler).raise_due()
    return drills + await service.dispatch_due() + await service.escalate_due()


TICKERS["emergency_dispatch"] = take_due_dispatch
