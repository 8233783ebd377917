"""The async engine and session factory.

Connections are checked for liveness only when they come back from being idle
(``IDLE_PING_AFTER_S``), not on every checkout: SQLAlchemy's ``pool_pre_ping`` costs three
round trips (BEGIN, ``;``, ROLLBACK) per checkout, and a request opens one or more units of
work. A connection that was busy a moment ago is alive or is failing right now; a failure
then invalidates it (and every older pooled connection), so the next checkout connects anew.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.infra.db import raw

IDLE_PING_AFTER_S = 5.0
SERVER_SETTINGS = {"jit": "off", "application_name": "shouwang"}
_IDLE_SINCE = "shouwang_idle_since"


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    idle_ping_after_s: float = IDLE_PING_AFTER_S,
    native_pool_size: int = 0,
) -> AsyncEngine:
    """The engine, and with ``native_pool_size`` an asyncpg pool beside it for single
    statements in autocommit (app/infra/db/raw.py), closed by ``dispose_engine``."""
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        # No overflow: past the pool a request waits for a connection. Overflow
        # connections were opened and closed per use under load (a connect, TLS probe and
        # re-prepared statements each time), which cost more than the wait.
        max_overflow=0,
        pool_pre_ping=False,  # see the module docstring: pinged after idling instead
        pool_recycle=1800,
        echo=echo,
        # Statement errors (and echo) would otherwise carry the bound values - names,
        # blind indexes, tokens - into exception texts and from there into the logs.
        hide_parameters=True,
        connect_args={
            # JIT compilation costs more than it saves on short OLTP queries.
            "server_settings": dict(SERVER_SETTINGS),
            # Statements are prepared once per connection and kept (more than the
            # default 100 distinct statements run across the contexts).
            "prepared_statement_cache_size": 500,
        },
    )
    _ping_after_idle(engine, idle_ping_after_s)
    if native_pool_size:
        raw.attach_native_pool(
            engine,
            raw.NativePool(url, size=native_pool_size, server_settings=dict(SERVER_SETTINGS)),
        )
    return engine


def _ping_after_idle(engine: AsyncEngine, after_s: float) -> None:
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < after_s:
            return  # brand new, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError("pooled connection is gone") from error


async def dispose_engine(engine: AsyncEngine) -> None:
    await raw.close_native_pool(engine)
    await engine.dispose()


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def autocommit_factory(
    session_factory: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions on the same pool that run each statement as its own transaction: for
    single-statement reads and writes on hot paths, which then cost one round trip
    instead of three (BEGIN, the statement, COMMIT/ROLLBACK)."""
    engine: AsyncEngine = session_factory.kw["bind"]
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        autoflush=False,
    )
