"""The inbox repository (always filtered by the owning account) and its unit of work."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.notifications.model import Kind, Notification
from app.domain.notifications.ports import NotificationRepository
from app.infra.db.sync_repo import record_notification_changes
from app.infra.db.tables.notifications import notifications as t
from app.infra.db.tables.volunteers import volunteers
from app.infra.db.uow import SqlUnitOfWork


def _notification(row: Any) -> Notification:
    return Notification(
        id=row.id,
        account_id=row.account_id,
        kind=Kind(row.kind),
        link=row.link,
        created_at=row.created_at,
        read_at=row.read_at,
    )


class SqlNotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, notification: Notification, key: str) -> bool:
        result = await self.session.execute(
            insert(t)
            .values(
                id=notification.id,
                account_id=notification.account_id,
                kind=notification.kind.value,
                link=notification.link,
                key=key,
                created_at=notification.created_at,
            )
            .on_conflict_do_nothing(index_elements=[t.c.key])
        )
        created = bool(result.rowcount)  # type: ignore[attr-defined]
        if created:
            await record_notification_changes(
                self.session, notification.account_id, [notification.id]
            )
        return created

    async def by_key(self, key: str) -> Notification | None:
        row = (await self.session.execute(sa.select(t).where(t.c.key == key))).first()
        return _notification(row) if row else None

    async def list_for(
        self, account_id: uuid.UUID, limit: int, after: uuid.UUID | None
    ) -> list[Notification]:
        query = sa.select(t).where(t.c.account_id == account_id)
        if after is not None:
            query = query.where(t.c.id < after)
        rows = (await self.session.execute(query.order_by(t.c.id.desc()).limit(limit))).all()
        return [_notification(r) for r in rows]

    async def unread_count(self, account_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            sa.select(sa.func.count())
            .select_from(t)
            .where(t.c.account_id == account_id, t.c.read_at.is_(None))
        )
        return int(count or 0)

    async def get(self, account_id: uuid.UUID, notification_id: uuid.UUID) -> Notification | None:
        row = (
            await self.session.execute(
                sa.select(t).where(t.c.id == notification_id, t.c.account_id == account_id)
            )
        ).first()
        return _notification(row) if row else None

    async def get_many(
        self, account_id: uuid.UUID, notification_ids: list[uuid.UUID]
    ) -> list[Notification]:
        query = sa.select(t).where(t.c.id.in_(notification_ids), t.c.account_id == account_id)
        return [_notification(r) for r in await self.session.execute(query)]

    async def mark_read(self, notification: Notification) -> None:
        result = await self.session.execute(
            sa.update(t)
            .where(t.c.id == notification.id, t.c.read_at.is_(None))
            .values(read_at=notification.read_at)
            .returning(t.c.id)
        )
        changed = list(result.scalars())
        await record_notification_changes(self.session, notification.account_id, changed)

    async def mark_all_read(self, account_id: uuid.UUID, at: datetime) -> int:
        result = await self.session.execute(
            sa.update(t)
            .where(t.c.account_id == account_id, t.c.read_at.is_(None))
            .values(read_at=at)
            .returning(t.c.id)
        )
        changed = list(result.scalars())
        await record_notification_changes(self.session, account_id, changed)
        return len(changed)


class SqlNotificationsUnitOfWork(SqlUnitOfWork):
    notifications: NotificationRepository

    def _open_repositories(self) -> None:
        self.notifications = SqlNotificationRepository(self.session)


class SqlVolunteerAccounts:
    """The account behind a volunteer, for handlers acting on volunteer events (the
    worker acts for the installation, so no jurisdiction filter applies)."""

    def __init__(self, session_factory: Any) -> None:
        self._sessions = session_factory

    async def account_of(self, volunteer_id: uuid.UUID) -> uuid.UUID | None:
        async with self._sessions() as s:
            found = await s.scalar(
                sa.select(volunteers.c.account_id).where(volunteers.c.id == volunteer_id)
            )
        return found if isinstance(found, uuid.UUID) else None
