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

import asyncio
import contextlib
import json
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

# Called with each statement's text before it runs (tests count round trips with it, as
# they do with SQLAlchemy's ``before_cursor_execute`` for the other statements).
observers: list[Callable[[str], None]] = []


def _observe(sql: str) -> None:
    for observer in observers:
        observer(sql)


async def _driver(session: AsyncSession) -> asyncpg.Connection:
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


def plain_dsn(database_url: str) -> str:
    """asyncpg's DSN for the SQLAlchemy URL (``postgresql+asyncpg://`` → ``postgresql://``)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


class Compiled:
    """A SQLAlchemy Core statement compiled once for asyncpg (``$n`` placeholders): the
    text, and the bound values in placeholder order, literals filled in."""

    def __init__(self, statement: Any) -> None:
        from sqlalchemy.dialects.postgresql.asyncpg import dialect

        compiled = statement.compile(dialect=dialect())  # type: ignore[no-untyped-call]
        self.sql: str = compiled.string
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._fixed: dict[str, Any] = dict(compiled.params)

    def args(self, **values: Any) -> list[Any]:
        fixed = self._fixed
        return [values[n] if n in values else fixed[n] for n in self._names]


class NativePool:
    """asyncpg connections beside an engine, for single statements in autocommit.

    Checking a connection out of SQLAlchemy's async pool and back costs ~150 µs of CPU
    (greenlet switches, a shielded task for the close, reset and event hooks); asyncpg's
    own pool still cost ~75 µs a statement (a queue, a proxy, a future, a shielded task
    for the release, a reset coroutine, an inactivity timer armed and cancelled), with a
    statement itself ~110 µs (bench/RESULTS.md). What these statements need is less: one
    autocommit statement at a time, no session state to reset. So the connections are a
    stack behind a fair semaphore as wide as the pool: a turn guarantees a connection
    (an idle one, or a new one opened then), and it goes back on the stack afterwards
    unless the statement did not end cleanly.

    Fairness: asyncpg's pool queues waiters in an asyncio.Queue, where a woken waiter can
    lose the connection to a newcomer again and again (the tail of the latency under
    load); the semaphore hands turns out in arrival order.

    Connections open on first use (none at start-up) with the engine's settings and the
    same json/jsonb codecs SQLAlchemy's dialect registers (text in, Python values out)."""

    def __init__(self, url: str, *, size: int, server_settings: dict[str, str]) -> None:
        self._dsn = plain_dsn(url)
        self._settings = server_settings
        self._idle: list[asyncpg.Connection] = []
        self._closed = False
        self._turns = asyncio.Semaphore(size)

    async def _open(self) -> asyncpg.Connection:
        connection: asyncpg.Connection = await asyncpg.connect(
            self._dsn, server_settings=self._settings, statement_cache_size=500
        )
        for name in ("json", "jsonb"):
            await connection.set_type_codec(
                name, encoder=str, decoder=json.loads, schema="pg_catalog", format="text"
            )
        return connection

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for one autocommit statement, in turn."""
        async with self._turns:
            if self._closed:
                raise RuntimeError("the native pool is closed")
            connection = None
            while self._idle and connection is None:
                candidate = self._idle.pop()
                if not candidate.is_closed():
                    connection = candidate
            if connection is None:
                connection = await self._open()
            try:
                yield connection
            except asyncpg.PostgresError:
                # The server refused the statement and ended its implicit transaction:
                # the connection is as good as before.
                self._give_back(connection)
                raise
            except BaseException:
                # Cancelled mid-statement, connection lost, a client-side error: its state
                # is unknown, so it is not used again.
                connection.terminate()
                raise
            self._give_back(connection)

    def _give_back(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed() or connection.is_in_transaction():
            connection.terminate()
        else:
            self._idle.append(connection)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            try:
                await asyncio.wait_for(connection.close(), CLOSE_TIMEOUT_S)
            except (TimeoutError, OSError, asyncpg.InterfaceError):
                connection.terminate()  # a connection stuck must not hang shutdown


CLOSE_TIMEOUT_S = 10.0


# By the engine's pool (shared by its execution-option variants, e.g. the autocommit one).
_NATIVE: weakref.WeakKeyDictionary[Any, NativePool] = weakref.WeakKeyDictionary()


def attach_native_pool(engine: AsyncEngine, pool: NativePool) -> None:
    _NATIVE[engine.sync_engine.pool] = pool


async def close_native_pool(engine: AsyncEngine) -> None:
    pool = _NATIVE.pop(engine.sync_engine.pool, None)
    if pool is not None:
        await pool.close()


class Autocommit:
    """Single statements, each its own transaction, without a session: on the native pool
    of the engine (or, without one, a connection of the engine itself)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def of(cls, session_factory: Any) -> Autocommit:
        """For the engine a session factory is bound to."""
        engine: AsyncEngine = session_factory.kw["bind"]
        return cls(engine)

    async def _run(self, method: str, sql: str, args: tuple[Any, ...]) -> Any:
        _observe(sql)
        native = _NATIVE.get(self._engine.sync_engine.pool)
        if native is not None:
            async with native.connection() as connection:
                return await getattr(connection, method)(sql, *args)
        async with self._engine.connect() as connection:
            fairy = await connection.get_raw_connection()
            return await getattr(fairy.driver_connection, method)(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> Sequence[asyncpg.Record]:
        rows: Sequence[asyncpg.Record] = await self._run("fetch", sql, args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._run("fetchrow", sql, args)
        return row

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._run("fetchval", sql, args)

    async def execute(self, sql: str, *args: Any) -> str:
        status: str = await self._run("execute", sql, args)
        return status


def _autocommit(session: AsyncSession) -> bool:
    bind: Any = session.bind
    options = bind.get_execution_options() if bind is not None else {}
    return bool(options.get("isolation_level") == "AUTOCOMMIT")


async def _run(session: AsyncSession, method: str, sql: str, args: tuple[Any, ...]) -> Any:
    if not session.in_transaction() and _autocommit(session):
        # An autocommit session that has not started: the statement runs on its own.
        return await Autocommit(session.bind)._run(method, sql, args)  # type: ignore[arg-type]
    _observe(sql)
    return await getattr(await _driver(session), method)(sql, *args)


async def fetch(session: AsyncSession, sql: str, *args: Any) -> Sequence[asyncpg.Record]:
    rows: Sequence[asyncpg.Record] = await _run(session, "fetch", sql, args)
    return rows


async def fetchval(session: AsyncSession, sql: str, *args: Any) -> Any:
    return await _run(session, "fetchval", sql, args)


async def execute(session: AsyncSession, sql: str, *args: Any) -> str:
    status: str = await _run(session, "execute", sql, args)
    return status
