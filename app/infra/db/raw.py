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
import json
import weakref
from collections.abc import Callable, Sequence
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
    """asyncpg's own pool beside an engine, for single statements in autocommit.

    Checking a connection out of SQLAlchemy's async pool and back costs ~150 µs of CPU
    (greenlet switches, a shielded task for the close, reset and event hooks); asyncpg's
    pool costs a tenth of that. Single statements of autocommit sessions (idempotency
    keys, routing, principals, page reads) run here; transactions stay on the engine.
    Connections open on first use (none at start-up) with the engine's settings and the
    same json/jsonb codecs SQLAlchemy's dialect registers (text in, Python values out)."""

    def __init__(self, url: str, *, size: int, server_settings: dict[str, str]) -> None:
        self._dsn = plain_dsn(url)
        self._size = size
        self._settings = server_settings
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        # Turns at the pool, first come first served. asyncpg's pool queues waiters in an
        # asyncio.Queue, which is not fair: a woken waiter can lose the connection to a
        # newcomer and go back to the end of the line, again and again. Under load (more
        # requests than connections, each taking a connection per statement) that made
        # some requests wait many times over (the tail of the latency). A fair semaphore
        # as wide as the pool hands connections out in arrival order; behind it the pool
        # never has to wait.
        self._turns = asyncio.Semaphore(size)

    async def _init(self, connection: asyncpg.Connection) -> None:
        for name in ("json", "jsonb"):
            await connection.set_type_codec(
                name, encoder=str, decoder=json.loads, schema="pg_catalog", format="text"
            )

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._lock:
                if self._closed:
                    raise RuntimeError("the native pool is closed")
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=0,
                        max_size=self._size,
                        init=self._init,
                        reset=_keep_session,
                        server_settings=self._settings,
                        statement_cache_size=500,
                    )
        return self._pool

    def turn(self) -> asyncio.Semaphore:
        """Hold while a connection of the pool is used (see ``_turns``)."""
        return self._turns

    async def close(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT_S)
            except TimeoutError:
                pool.terminate()  # a connection stuck in a statement must not hang shutdown


CLOSE_TIMEOUT_S = 10.0


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """Nothing to reset on release: statements here are single autocommit statements that
    change no session state (no SET, LISTEN, cursors or advisory locks). asyncpg's default
    reset (``RESET ALL; UNLISTEN *; ...``) would cost a round trip per release; an open
    transaction is still rolled back by asyncpg itself."""


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
            async with native.turn(), (await native.pool()).acquire() as connection:
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
