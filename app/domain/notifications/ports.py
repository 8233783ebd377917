"""Ports of notifications: the inbox store, its unit of work, and outbound channels."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.domain.notifications.model import Notification


class NotificationRepository(Protocol):
    async def add(self, notification: Notification, key: str) -> bool:
        """Insert unless a notification with this idempotency key exists; True if new."""
        ...

    async def by_key(self, key: str) -> Notification | None: ...

    async def list_for(
        self, account_id: uuid.UUID, limit: int, after: uuid.UUID | None
    ) -> list[Notification]:
        """Newest first (id DESC), strictly after ``after``."""
        ...

    async def unread_count(self, account_id: uuid.UUID) -> int: ...

    async def get(self, account_id: uuid.UUID, notification_id: uuid.UUID) -> Notification | None:
        """Only the account's own notification; anyone else's is not found."""
        ...

    async def get_many(
        self, account_id: uuid.UUID, notification_ids: list[uuid.UUID]
    ) -> list[Notification]:
        """The account's own among these ids (one query)."""
        ...

    async def mark_read(self, notification: Notification) -> None: ...

    async def mark_all_read(self, account_id: uuid.UUID, at: datetime) -> int: ...


class NotificationsUnitOfWork(Protocol):
    notifications: NotificationRepository

    async def __aenter__(self) -> NotificationsUnitOfWork: ...

    async def __aexit__(self, *exc: Any) -> None: ...

    def audit(
        self,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None: ...

    async def commit(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ChannelResult:
    channel: str
    sent: bool
    detail: str | None = None  # e.g. "not subscribed"; never message content


class NotificationChannel(Protocol):
    """An outbound channel beyond the in-app inbox (WeChat subscribe messages, vendor
    push). ``send`` may be called again with the same ``key`` after a failure or crash; a
    channel must not deliver twice for one key. Raising makes the event retry."""

    name: str

    async def send(self, notification: Notification, key: str) -> ChannelResult: ...
