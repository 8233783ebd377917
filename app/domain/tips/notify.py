"""Event handlers that tell people a tip changed: the named reporter when an outcome is
recorded, the handling officer when the reporter disputes it.

Events carry no informant (they are thin and may be relayed); the reporter's account is
resolved here, from the sealed ``tip_informants`` row, at delivery time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from app.domain.delivery.model import OutboxEvent
from app.domain.notifications.model import Kind, link_to
from app.domain.notifications.services import NotificationService
from app.domain.shared.scope import Scope, system_scope
from app.domain.tips.ports import TipsUnitOfWork


class TipNotifications:
    def __init__(
        self,
        uow_factory: Callable[[Scope], TipsUnitOfWork],
        notifications: NotificationService,
    ) -> None:
        self.uow_factory = uow_factory
        self.notifications = notifications

    async def _reporter_of(self, tip_id: uuid.UUID) -> uuid.UUID | None:
        """The named reporter's account, or None for anonymous tips. The system scope is
        needed because nobody is asking: the worker delivers outside any request, and the
        reporter is not station staff, so no caller's scope would find the tip. The
        account id goes straight to the notification and nowhere else (not audited as a
        reveal: no person learns who the informant is)."""
        async with self.uow_factory(system_scope()) as uow:
            tip = await uow.tips.get(tip_id)
            if tip is None or tip.anonymous:
                return None
            informant = await uow.tips.informant(tip_id)
        return informant.account_id if informant else None

    async def outcome_recorded(self, event: OutboxEvent, key: str) -> None:
        account = await self._reporter_of(event.aggregate_id)
        if account is not None:
            link = link_to("tips", event.aggregate_id)
            await self.notifications.notify(account, Kind.TIP_UPDATE, link, key=key)

    async def disputed(self, event: OutboxEvent, key: str) -> None:
        assignee = event.payload.get("assignee_id")
        if not assignee:  # not yet assigned: the station's queue shows it anyway
            return
        link = link_to("tips", event.aggregate_id)
        await self.notifications.notify(uuid.UUID(str(assignee)), Kind.TIP_DISPUTED, link, key=key)
