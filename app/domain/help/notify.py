"""Event handlers that tell people a help request changed: the requester when someone
offers help and when it is resolved, the helper when their offer is accepted.

Events are thin (ids, station, status); the accounts are resolved here at delivery time
with the system scope (the worker acts outside any request). Texts carry no detail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from app.domain.delivery.model import OutboxEvent
from app.domain.help.model import HelpRequest
from app.domain.help.ports import HelpUnitOfWork
from app.domain.notifications.model import Kind, link_to
from app.domain.notifications.services import NotificationService
from app.domain.shared.scope import Scope, system_scope

SCREEN = "help-requests"


class HelpNotifications:
    def __init__(
        self,
        uow_factory: Callable[[Scope], HelpUnitOfWork],
        notifications: NotificationService,
    ) -> None:
        self.uow_factory = uow_factory
        self.notifications = notifications

    async def _request(self, request_id: uuid.UUID) -> HelpRequest | None:
        async with self.uow_factory(system_scope()) as uow:
            return await uow.requests.get(request_id)

    async def _to_requester(self, event: OutboxEvent, kind: Kind, key: str) -> None:
        request = await self._request(event.aggregate_id)
        if request is not None:
            link = link_to(SCREEN, request.id)
            await self.notifications.notify(request.requester_id, kind, link, key=key)

    async def offered(self, event: OutboxEvent, key: str) -> None:
        await self._to_requester(event, Kind.HELP_OFFERED, key)

    async def resolved(self, event: OutboxEvent, key: str) -> None:
        await self._to_requester(event, Kind.HELP_UPDATE, key)

    async def offer_accepted(self, event: OutboxEvent, key: str) -> None:
        request = await self._request(event.aggregate_id)
        offer_id = str(event.payload.get("offer_id", ""))
        offer = (
            next((o for o in request.offers if str(o.id) == offer_id), None) if request else None
        )
        if offer is not None:
            link = link_to(SCREEN, event.aggregate_id)
            await self.notifications.notify(
                offer.account_id, Kind.HELP_OFFER_ACCEPTED, link, key=key
            )
