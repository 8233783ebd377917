"""The native pool (app/infra/db/raw.py) against a real PostgreSQL: turns in arrival order
never hand out more connections than its size, a statement the server refuses leaves its
connection in use, and a connection whose statement did not end cleanly (cancelled, or
closed by the server) is never handed out again."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.infra.db.raw import NativePool, plain_dsn

PID = "SELECT pg_backend_pid()"


async def _pid(pool: NativePool) -> int:
    async with pool.connection() as connection:
        pid: int = await connection.fetchval(PID)
        return pid


async def test_no_more_connections_than_its_size_and_each_reused(database_url: str) -> None:
    pool = NativePool(database_url, size=2, server_settings={"application_name": "pooltest"})
    try:

        async def worker() -> set[int]:
            return {await _pid(pool) for _ in range(10)}

        seen = set().union(*await asyncio.gather(*(worker() for _ in range(20))))
        assert 1 <= len(seen) <= 2
        async with pool.connection() as connection:  # the json codecs of the dialect
            assert await connection.fetchval("SELECT $1::jsonb", '{"名": 1}') == {"名": 1}
    finally:
        await pool.close()


async def test_a_refused_statement_keeps_its_connection(database_url: str) -> None:
    pool = NativePool(database_url, size=1, server_settings={})
    try:
        before = await _pid(pool)
        with pytest.raises(asyncpg.DivisionByZeroError):
            async with pool.connection() as connection:
                await connection.fetchval("SELECT 1 / 0")
        assert await _pid(pool) == before
    finally:
        await pool.close()


async def test_a_cancelled_statement_costs_its_connection_not_the_turn(
    database_url: str,
) -> None:
    pool = NativePool(database_url, size=1, server_settings={})
    try:
        before = await _pid(pool)

        async def sleeper() -> None:
            async with pool.connection() as connection:
                await connection.execute("SELECT pg_sleep(30)")

        task = asyncio.create_task(sleeper())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        after = await asyncio.wait_for(_pid(pool), 10)  # the only turn came back
        assert after != before
    finally:
        await pool.close()


async def test_a_connection_closed_by_the_server_is_replaced(database_url: str) -> None:
    pool = NativePool(database_url, size=1, server_settings={})
    try:
        before = await _pid(pool)
        admin = await asyncpg.connect(plain_dsn(database_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", before)
        finally:
            await admin.close()
        await asyncio.sleep(0.3)  # the client sees the socket close
        assert await _pid(pool) != before
    finally:
        await pool.close()


async def test_closed_pool_refuses_and_closes_its_connections(database_url: str) -> None:
    pool = NativePool(database_url, size=2, server_settings={"application_name": "closetest"})
    pid = await _pid(pool)
    await pool.close()
    with pytest.raises(RuntimeError):
        await _pid(pool)
    admin = await asyncpg.connect(plain_dsn(database_url))
    try:
        for _ in range(50):
            alive = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
            )
            if not alive:
                break
            await asyncio.sleep(0.05)
        assert alive == 0
    finally:
        await admin.close()
