"""Wiring of notifications: the inbox service and the handlers that turn events into
notifications (volunteer status changes today; tips register theirs the same way)."""

from __future__ import annotations

from app.api.container import Services
from app.bootstrap.channels import channels
from app.bootstrap.delivery import handler_registry
from app.bootstrap.platform import Platform
from app.domain.delivery.model import OutboxEvent
from app.domain.notifications.model import ME_LINK, Kind
from app.domain.notifications.services import NotificationService
from app.domain.shared.scope import Scope
from app.infra.db.notifications_repo import SqlNotificationsUnitOfWork, SqlVolunteerAccounts

# Status changes the volunteer hears about; the steps in between (vetted, training,
# probation) are shown in the app without a notification each.
NOTIFIED_STATUSES = frozenset({"active", "suspended", "rejected", "retired", "expelled"})


def wire(services: Services, platform: Platform) -> None:
    def uow(scope: Scope) -> SqlNotificationsUnitOfWork:
        return SqlNotificationsUnitOfWork(platform.session_factory, scope, platform.clock)

    # The inbox is always written first; WeChat subscribe messages and push follow.
    service = NotificationService(uow, platform.clock, channels=channels(platform))
    services.register(NotificationService, service)
    accounts = SqlVolunteerAccounts(platform.session_factory)

    async def volunteer_status_changed(event: OutboxEvent, key: str) -> None:
        if event.payload.get("to_status") not in NOTIFIED_STATUSES:
            return
        account = await accounts.account_of(event.aggregate_id)
        if account is not None:  # volunteers registered by staff may have no account
            await service.notify(account, Kind.VOLUNTEER_STATUS, ME_LINK, key=key)

    handler_registry(services).register(
        "volunteer.status_changed", "notifications.volunteer_status", volunteer_status_changed
    )
