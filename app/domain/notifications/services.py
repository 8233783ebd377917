"""Notification use cases: creating (for event handlers) and the caller's own inbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from app.domain.notifications.model import (
    Kind,
    Notification,
    NotificationNotFound,
    NotificationPage,
    own_account,
)
from app.domain.notifications.ports import (
    ChannelResult,
    NotificationChannel,
    NotificationsUnitOfWork,
)
from app.domain.shared.clock import Clock
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Scope, system_scope

UowFactory = Callable[[Scope], NotificationsUnitOfWork]


class NotificationService:
    """The in-app inbox is always written; further ``channels`` (WeChat, push) get the
    notification after it is stored."""

    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        channels: Sequence[NotificationChannel] = (),
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.channels = list(channels)

    async def notify(
        self, account_id: uuid.UUID, kind: Kind, link: str, *, key: str
    ) -> tuple[Notification, list[ChannelResult]]:
        """Notify ``account_id``; idempotent by ``key`` (an event handler passes the key it
        was given), so a redelivered event never creates a second notification."""
        async with self.uow_factory(system_scope()) as uow:
            candidate = Notification(new_id(), account_id, kind, link, self.clock.now())
            if await uow.notifications.add(candidate, key):
                uow.audit("notification.created", "notification", candidate.id, {"kind": kind})
                await uow.commit()
                stored = candidate
            else:
                found = await uow.notifications.by_key(key)
                assert found is not None  # the key exists: the insert lost to it
                stored = found
        results = [await channel.send(stored, key) for channel in self.channels]
        return stored, results

    async def list(
        self, scope: Scope, *, limit: int = 50, after: uuid.UUID | None = None
    ) -> NotificationPage:
        account = own_account(scope)
        async with self.uow_factory(scope) as uow:
            rows = await uow.notifications.list_for(account, limit + 1, after)
        return NotificationPage(rows[:limit], more=len(rows) > limit)

    async def unread_count(self, scope: Scope) -> int:
        account = own_account(scope)
        async with self.uow_factory(scope) as uow:
            return await uow.notifications.unread_count(account)

    async def get(self, scope: Scope, notification_id: uuid.UUID) -> Notification:
        account = own_account(scope)
        async with self.uow_factory(scope) as uow:
            n = await uow.notifications.get(account, notification_id)
        if n is None:
            raise NotificationNotFound()
        return n

    async def get_many(
        self, scope: Scope, notification_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Notification]:
        """The caller's own notifications among these ids (for sync)."""
        account = own_account(scope)
        if not notification_ids:
            return {}
        async with self.uow_factory(scope) as uow:
            found = await uow.notifications.get_many(account, list(notification_ids))
        return {n.id: n for n in found}

    async def mark_read(self, scope: Scope, notification_id: uuid.UUID) -> Notification:
        account = own_account(scope)
        async with self.uow_factory(scope) as uow:
            n = await uow.notifications.get(account, notification_id)
            if n is None:
                raise NotificationNotFound()
            if n.mark_read(self.clock.now()):
                await uow.notifications.mark_read(n)
                uow.audit("notification.read", "notification", n.id)
                await uow.commit()
            return n

    async def mark_all_read(self, scope: Scope) -> int:
        account = own_account(scope)
        async with self.uow_factory(scope) as uow:
            count = await uow.notifications.mark_all_read(account, self.clock.now())
            if count:
                uow.audit("notification.read_all", "notification", None, {"count": count})
                await uow.commit()
            return count
