"""Hot statements run straight on the asyncpg connection of a session.

SQLAlchemy's execution layers (compiled-cache look-up, parameter and result processing,
result proxies) cost about 120 µs a statement over asyncpg itself; on the busiest paths
(the officer queue, a reporter's page, a submission) that was most of the request.
Statements that run there are written as SQL text with ``$n`` placeholders and run on the
session's own connection, so they stay inside the session's transaction (or in autocommit
for autocommit sessions) and see what it wrote.

Values go to asyncpg as Python values (uuid.UUID, datetime, bytes, lists for arrays);
``json``/``jsonb`` parameters as JSON text (SQLAlchemy's asyncpg dialect registers those
codecs on every connection: text in, Python values out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

# Called with each statement's text before it runs (tests count round trips with it, as
# they do with SQLAlchemy's ``before_cursor_execute`` for the other statements).
observers: list[Callable[[str], None]] = []


def _observe(sql: str) -> None:
    for observer in observers:
        observer(sql)


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``session``, with the session's transaction begun
    (SQLAlchemy's adapter starts it lazily, on its first statement; a statement run
    beside it before that would otherwise run outside the transaction)."""
    connection = await session.connection()
    fairy = await connection.get_raw_connection()
    adapter: Any = fairy.dbapi_connection
    if adapter._transaction is None:
        await adapter._start_transaction()
    raw: asyncpg.Connection = fairy.driver_connection
    return raw


def _autocommit(session: AsyncSession) -> bool:
    bind: Any = session.bind
    options = bind.get_execution_options() if bind is not None else {}
    return bool(options.get("isolation_level") == "AUTOCOMMIT")


async def fetch(session: AsyncSession, sql: str, *args: Any) -> Sequence[asyncpg.Record]:
    _observe(sql)
    if not session.in_transaction() and _autocommit(session):
        # An autocommit session that has not started: a pooled connection of its engine
        # serves the one statement without the session's transaction bookkeeping.
        engine: Any = session.bind
        async with engine.connect() as connection:
            fairy = await connection.get_raw_connection()
            rows: Sequence[asyncpg.Record] = await fairy.driver_connection.fetch(sql, *args)
            return rows
    return await (await driver(session)).fetch(sql, *args)  # type: ignore[no-any-return]


async def fetchrow(session: AsyncSession, sql: str, *args: Any) -> asyncpg.Record | None:
    _observe(sql)
    return await (await driver(session)).fetchrow(sql, *args)


async def execute(session: AsyncSession, sql: str, *args: Any) -> str:
    _observe(sql)
    result: str = await (await driver(session)).execute(sql, *args)
    return result
