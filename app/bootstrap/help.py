"""Wiring of help requests (群众求助): the service, media of requests, and the
notifications their events trigger."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.container import Services
from app.bootstrap.delivery import handler_registry
from app.bootstrap.platform import Platform
from app.domain.help.notify import HelpNotifications
from app.domain.help.ports import HelpUnitOfWork
from app.domain.help.services import HELP_RECORD, HelpMediaVisibility, HelpService, UowFactory
from app.domain.media.services import MediaVisibilityRegistry
from app.domain.notifications.services import NotificationService
from app.domain.organisation.ports import JurisdictionLocator
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope
from app.infra.db.help_repo import SqlHelpUnitOfWork


def uow_factory(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> UowFactory:
    def make(scope: Scope) -> HelpUnitOfWork:
        return SqlHelpUnitOfWork(session_factory, scope, clock)

    return make


def wire(services: Services, platform: Platform) -> None:
    factory = uow_factory(platform.session_factory, platform.clock)
    services.get(MediaVisibilityRegistry).register(HELP_RECORD, HelpMediaVisibility(factory))
    locator = services.get_any(JurisdictionLocator)
    services.register(HelpService, HelpService(factory, platform.clock, locator))

    notify = HelpNotifications(factory, services.get(NotificationService))
    handlers = handler_registry(services)
    handlers.register("help.offered", "help.notify_requester_offered", notify.offered)
    handlers.register("help.resolved", "help.notify_requester_resolved", notify.resolved)
    handlers.register("help.offer_accepted", "help.notify_helper", notify.offer_accepted)
