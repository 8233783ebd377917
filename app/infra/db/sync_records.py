"""The caller's own points entries and rewards by id, for /me/changes (one query each;
the account filter is the scope: a feed only ever names its owner's records)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.points.model import Entry
from app.domain.rewards.model import Reward
from app.domain.shared.scope import Scope
from app.infra.db.points_repo import _ENTRIES, _ENTRY_COLUMNS, _entry
from app.infra.db.rewards_repo import _reward
from app.infra.db.tables.points import points_entries
from app.infra.db.tables.rewards import rewards


class SqlOwnRecords:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    async def points_entries(
        self, scope: Scope, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Entry]:
        if not ids:
            return {}
        query = (
            sa.select(*_ENTRY_COLUMNS)
            .select_from(_ENTRIES)
            .where(
                points_entries.c.id.in_(list(ids)),
                points_entries.c.account_id == scope.account_id,
            )
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return {row.id: _entry(row) for row in rows}

    async def rewards(self, scope: Scope, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Reward]:
        if not ids:
            return {}
        query = sa.select(rewards).where(
            rewards.c.id.in_(list(ids)), rewards.c.account_id == scope.account_id
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return {row.id: _reward(row) for row in rows}
