"""Wiring of emergency units (最小应急单元): the service (reading certificates and member
names through the volunteers services) and the location-retention housekeeping task."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.platform import Platform
from app.bootstrap.worker import TASKS
from app.domain.emergency.ports import EmergencyUnitOfWork
from app.domain.emergency.services import EmergencyUnitService, UowFactory
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope, system_scope
from app.domain.volunteers.team_service import TeamService
from app.domain.volunteers.training_service import TrainingService
from app.infra.db.emergency_repo import SqlEmergencyUnitOfWork


def uow_factory(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> UowFactory:
    def make(scope: Scope) -> EmergencyUnitOfWork:
        return SqlEmergencyUnitOfWork(session_factory, scope, clock)

    return make


def wire(services: Services, platform: Platform) -> None:
    factory = uow_factory(platform.session_factory, platform.clock)
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


async def purge_expired_locations(services: Services) -> int:
    """Forget location history and last known locations past the retention setting."""
    return await services.get(EmergencyUnitService).purge_locations(
        system_scope("emergency-location-retention")
    )


TASKS["emergency_location_retention"] = purge_expired_locations
