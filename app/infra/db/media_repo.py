"""Media repository on any SQLAlchemy session, so other contexts' units of work (tips)
can build one on their own session and attach media inside their transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.media.model import Attachment, MediaKind, MediaObject, MediaStatus
from app.domain.media.ports import MediaRepository
from app.domain.shared.errors import StaleVersion
from app.infra.db.tables.media import media_objects as t
from app.infra.db.uow import SqlUnitOfWork


class SqlMediaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, media: MediaObject) -> None:
        await self.session.execute(sa.insert(t).values(id=media.id, **_values(media)))

    async def get(self, media_id: uuid.UUID, *, for_update: bool = False) -> MediaObject | None:
        query = sa.select(t).where(t.c.id == media_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return _media(row) if row else None

    async def get_many(self, media_ids: Sequence[uuid.UUID]) -> list[MediaObject]:
        if not media_ids:
            return []
        rows = await self.session.execute(
            sa.select(t).where(t.c.id.in_(list(media_ids))).order_by(t.c.id)
        )
        return [_media(r) for r in rows.mappings()]

    async def owned_for_update(
        self, owner_account_id: uuid.UUID, media_ids: Sequence[uuid.UUID]
    ) -> list[MediaObject]:
        rows = await self.session.execute(
            sa.select(t)
            .where(t.c.id.in_(list(media_ids)), t.c.owner_account_id == owner_account_id)
            .order_by(t.c.id)
            .with_for_update()
        )
        return [_media(r) for r in rows.mappings()]

    async def attached_to(self, attachment: Attachment) -> list[MediaObject]:
        rows = await self.session.execute(
            sa.select(t)
            .where(
                t.c.attached_record_type == attachment.record_type,
                t.c.attached_record_id == attachment.record_id,
            )
            .order_by(t.c.id)
        )
        return [_media(r) for r in rows.mappings()]

    async def update(self, media: MediaObject) -> None:
        result = await self.session.execute(
            sa.update(t)
            .where(t.c.id == media.id, t.c.version == media.version)
            .values(**_values(media), version=media.version + 1, updated_at=sa.func.now())
        )
        if getattr(result, "rowcount", 0) != 1:
            raise StaleVersion()
        media.version += 1


class SqlMediaUnitOfWork(SqlUnitOfWork):
    media: MediaRepository

    def _open_repositories(self) -> None:
        self.media = SqlMediaRepository(self.session)


def _values(m: MediaObject) -> dict[str, Any]:
    return {
        "owner_account_id": m.owner_account_id,
        "kind": m.kind.value,
        "content_type": m.content_type,
        "size_bytes": m.size,
        "width": m.width,
        "height": m.height,
        "sha256": m.sha256,
        "phash": m.phash,
        "storage_key": m.storage_key,
        "thumbnail_key": m.thumbnail_key,
        "status": m.status.value,
        "rejection_reason": m.rejection_reason,
        "attached_record_type": m.attached_to.record_type if m.attached_to else None,
        "attached_record_id": m.attached_to.record_id if m.attached_to else None,
    }


def _media(row: Any) -> MediaObject:
    attached = (
        Attachment(row["attached_record_type"], row["attached_record_id"])
        if row["attached_record_type"]
        else None
    )
    return MediaObject(
        id=row["id"],
        owner_account_id=row["owner_account_id"],
        kind=MediaKind(row["kind"]),
        content_type=row["content_type"],
        size=row["size_bytes"],
        storage_key=row["storage_key"],
        status=MediaStatus(row["status"]),
        created_at=row["created_at"],
        width=row["width"],
        height=row["height"],
        sha256=row["sha256"],
        phash=row["phash"],
        thumbnail_key=row["thumbnail_key"],
        rejection_reason=row["rejection_reason"],
        attached_to=attached,
        version=row["version"],
    )
