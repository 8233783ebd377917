"""The change feed never advances past a change whose transaction is still in flight,
so a change committed late (with a smaller seq) is still delivered, exactly once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.bootstrap.identity import blind_indexer
from app.domain.shared.scope import Scope
from app.infra.db.sync_repo import SqlChangeFeed, record_notification_changes
from app.infra.db.tables.sync import change_log
from app.settings import Settings


async def settled(feed: SqlChangeFeed, scope: Scope, since: int, want: int) -> Any:
    """Read until ``want`` changes are visible: the feed rightly holds changes back while
    any older write transaction in the database (autovacuum, another test's connection) is
    still open, so wait that out (bounded)."""
    page = await feed.read(scope, since, 100)
    for _ in range(100):
        if len(page.changes) >= want:
            break
        await asyncio.sleep(0.05)
        page = await feed.read(scope, since, 100)
    return page


async def test_late_commit_is_not_skipped(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    me = uuid.uuid4()
    scope = Scope(account_id=me, roles=frozenset())
    feed = SqlChangeFeed(session_factory, blind_indexer(settings))
    first, second = uuid.uuid4(), uuid.uuid4()

    async with session_factory() as t1, session_factory() as t2:
        await record_notification_changes(t1, me, [first])  # seq n, stays open
        seq_n = await t1.scalar(sa.select(change_log.c.seq).where(change_log.c.record_id == first))
        await record_notification_changes(t2, me, [second])  # seq n+1, committed
        await t2.commit()

        early = await feed.read(scope, 0, 100)
        assert early.changes == []  # n+1 is held back while n is in flight
        assert seq_n is not None

        await t1.commit()

    page = await settled(feed, scope, 0, 2)
    assert [c.record_id for c in page.changes] == [first, second]
    assert page.changes[0].seq == seq_n
    assert page.changes[1].seq > seq_n
    again = await feed.read(scope, page.changes[-1].seq, 100)
    assert again.changes == []

    other = await feed.read(Scope(account_id=uuid.uuid4(), roles=frozenset()), 0, 100)
    assert other.changes == []


async def test_rolled_back_change_never_appears(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    me = uuid.uuid4()
    scope = Scope(account_id=me, roles=frozenset())
    feed = SqlChangeFeed(session_factory, blind_indexer(settings))
    async with session_factory() as t1:
        await record_notification_changes(t1, me, [uuid.uuid4()])
        await t1.rollback()
    kept = uuid.uuid4()
    async with session_factory() as t2:
        await record_notification_changes(t2, me, [kept])
        await t2.commit()
    page = await settled(feed, scope, 0, 1)
    assert [c.record_id for c in page.changes] == [kept]
