"""The change log: writers used by the tips, notifications, points and rewards
repositories (inside the changing transaction; hazards write theirs in hazards_repo) and
the reader behind /me/changes.

Why ``xid < pg_snapshot_xmin(pg_current_snapshot())``: ``seq`` is taken when a row is
inserted, not when its transaction commits, so a transaction holding seq n may commit
after one holding n+1. A reader that returned n+1 and advanced its token past it would
never see n. Every transaction older than the snapshot's xmin has finished (committed or
rolled back), so rows below that horizon can no longer be joined by a smaller seq from a
transaction still in flight; rows at or above it wait for a later read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.shared.protection import BlindIndexer
from app.domain.shared.scope import Scope
from app.domain.sync.model import Change, ChangeSlice, Op, RecordType
from app.infra.db.hazards_repo import REPORTER_PURPOSE as HAZARD_REPORTER_PURPOSE
from app.infra.db.tables.sync import change_log as c
from app.infra.db.tables.tips import tip_informants as i

REPORTER_PURPOSE = "tip.reporter"  # the blind index tips_repo stores in tip_informants


async def record_tip_changes(session: AsyncSession, tip_ids: Iterable[uuid.UUID]) -> None:
    """A change of these tips for their named reporters (anonymous tips have none)."""
    ids = list(tip_ids)
    if not ids:
        return
    select = sa.select(
        i.c.reporter_bidx, sa.literal("tip"), i.c.tip_id, sa.literal(Op.UPSERT.value)
    ).where(i.c.tip_id.in_(ids))
    await session.execute(
        sa.insert(c).from_select(["feed", "record_type", "record_id", "op"], select)
    )


async def record_account_changes(
    session: AsyncSession,
    record_type: RecordType,
    account_id: uuid.UUID,
    record_ids: Iterable[uuid.UUID],
) -> None:
    """A change of these records of one account, in that account's feed (its id bytes)."""
    rows = [
        {
            "feed": account_id.bytes,
            "record_type": record_type.value,
            "record_id": record_id,
            "op": Op.UPSERT.value,
        }
        for record_id in dict.fromkeys(record_ids)
    ]
    if rows:
        await session.execute(sa.insert(c), rows)


async def record_notification_changes(
    session: AsyncSession, account_id: uuid.UUID, notification_ids: Iterable[uuid.UUID]
) -> None:
    await record_account_changes(session, RecordType.NOTIFICATION, account_id, notification_ids)


class SqlChangeFeed:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], indexer: BlindIndexer
    ) -> None:
        self._sessions = session_factory
        self._indexer = indexer

    async def read(self, scope: Scope, since: int, limit: int) -> ChangeSlice:
        feeds = [
            scope.account_id.bytes,
            self._indexer.index(str(scope.account_id), purpose=REPORTER_PURPOSE),
            self._indexer.index(str(scope.account_id), purpose=HAZARD_REPORTER_PURPOSE),
        ]
        horizon = sa.func.pg_snapshot_xmin(sa.func.pg_current_snapshot())
        query = (
            sa.select(c.c.seq, c.c.record_type, c.c.record_id, c.c.op)
            .where(c.c.feed.in_(feeds), c.c.seq > since, c.c.xid < horizon)
            .order_by(c.c.seq)
            .limit(limit + 1)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        changes = [
            Change(r.seq, RecordType(r.record_type), r.record_id, Op(r.op)) for r in rows[:limit]
        ]
        return ChangeSlice(changes, has_more=len(rows) > limit)
