"""Wiring of police appeals (协查通报): the service, media of appeals, and the directory
the tips context checks a tip's ``appeal_id`` against."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.delivery import handler_registry
from app.bootstrap.platform import Platform
from app.domain.appeals.notify import AppealNotifications
from app.domain.appeals.ports import AppealsUnitOfWork
from app.domain.appeals.services import (
    APPEAL_RECORD,
    AppealMediaVisibility,
    AppealService,
    UowFactory,
)
from app.domain.media.services import MediaVisibilityRegistry
from app.domain.notifications.services import NotificationService
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope
from app.domain.tips.services import TipService
from app.infra.db.appeals_repo import SqlAppealsUnitOfWork


def uow_factory(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> UowFactory:
    def make(scope: Scope) -> AppealsUnitOfWork:
        return SqlAppealsUnitOfWork(session_factory, scope, clock)

    return make


class AppealDirectoryOf:
    """The tips context's ``AppealDirectory``. Tips are wired before appeals (appeals read
    clues through the tip service), so the appeal service is looked up when first asked."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def is_open_to(self, scope: Scope, appeal_id: uuid.UUID) -> bool:
        return await self.services.get(AppealService).is_open_to(scope, appeal_id)


def wire(services: Services, platform: Platform) -> None:
    factory = uow_factory(platform.session_factory, platform.clock)
    services.get(MediaVisibilityRegistry).register(
        APPEAL_RECORD, AppealMediaVisibility(factory, platform.clock)
    )
    tips = services.get(TipService)
    services.register(AppealService, AppealService(factory, platform.clock, tips=tips))
    notify = AppealNotifications(factory, services.get(NotificationService), platform.clock)
    handler_registry(services).register(
        "appeal.published", "appeals.notify_volunteers", notify.published
    )
