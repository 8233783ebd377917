"""Pooled connections are pinged only after idling; a connection the server dropped is
replaced instead of failing the next request."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import exc

from app.infra.db.engine import make_engine


async def _backend_pid(engine: sa.ext.asyncio.AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(database_url: str, pid: int) -> None:
    killer = make_engine(database_url, pool_size=1)
    try:
        async with killer.connect() as conn:
            await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await killer.dispose()


async def test_an_idle_connection_killed_by_the_server_is_replaced(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1, idle_ping_after_s=0.0)
    try:
        first = await _backend_pid(engine)
        await _terminate(database_url, first)
        # Checked out again after idling: the ping fails, the pool connects anew.
        second = await _backend_pid(engine)
        assert second != first
    finally:
        await engine.dispose()


async def test_a_busy_connection_is_not_pinged_and_a_failure_reconnects_next_time(
    database_url: str,
) -> None:
    engine = make_engine(database_url, pool_size=1, idle_ping_after_s=3600.0)
    try:
        first = await _backend_pid(engine)
        await _terminate(database_url, first)
        with pytest.raises(exc.DBAPIError) as raised:
            await _backend_pid(engine)  # not pinged: this statement finds it gone
        assert raised.value.connection_invalidated
        assert await _backend_pid(engine) != first  # the invalidated one was discarded
    finally:
        await engine.dispose()
