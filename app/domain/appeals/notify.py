"""Tell volunteers about a new police appeal (协查通报): an in-app notification with no
detail ("新的协查通报" and a deep link), delivered from the ``appeal.published`` event.

The audience is decided at delivery time, with the same rule as reading an appeal: the
serving volunteers whose station, or a current team's station, shares area with the
target. One notification per (event, account): a redelivered event creates none twice.
"""

from __future__ import annotations

from collections.abc import Callable

from app.domain.appeals.ports import AppealsUnitOfWork
from app.domain.delivery.model import OutboxEvent
from app.domain.notifications.model import Kind, link_to
from app.domain.notifications.services import NotificationService
from app.domain.shared.clock import Clock
from app.domain.shared.scope import Scope, system_scope

BATCH = 500  # accounts read per query; the audience of a district may be thousands


class AppealNotifications:
    def __init__(
        self,
        uow_factory: Callable[[Scope], AppealsUnitOfWork],
        notifications: NotificationService,
        clock: Clock,
    ) -> None:
        self.uow_factory = uow_factory
        self.notifications = notifications
        self.clock = clock

    async def published(self, event: OutboxEvent, key: str) -> None:
        link = link_to("appeals", event.aggregate_id)
        after = None
        while True:
            # The system scope: the worker asks on the appeal's behalf, outside any request.
            async with self.uow_factory(system_scope()) as uow:
                accounts = await uow.appeals.audience(
                    event.aggregate_id, now=self.clock.now(), after=after, limit=BATCH
                )
            for account in accounts:
                await self.notifications.notify(
                    account, Kind.APPEAL_PUBLISHED, link, key=f"{key}:{account}"
                )
            if len(accounts) < BATCH:
                return
            after = accounts[-1]
