"""One Postgres LISTEN connection per process and channel, fanned out to per-subscriber
queues: the base of the tips feed (``pg_notify``) and the emergency alert feed
(``pg_emergency``).

The dedicated asyncpg connection opens with the first subscriber and closes with the
last. ``join`` returns only once the connection LISTENs, so a subscriber counted is one
that hears every notification committed from then on. Queues are bounded: a subscriber
that falls behind either loses its oldest items (``lossy``) or, when every item matters,
is told it lost some (``None``, then its subscription ends) and must catch up from the
database. A lost connection ends every subscription with ``None`` in the same way."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from typing import Any, Generic, TypeVar

import asyncpg
import structlog

from app.infra.db.raw import plain_dsn

T = TypeVar("T")
CONNECT_TIMEOUT_S = 5.0

log = structlog.get_logger("shouwang.realtime")


class PgChannelListener(Generic[T]):
    def __init__(
        self,
        database_url: str,
        channel: str,
        decode: Callable[[str], T | None],
        *,
        queue_size: int = 256,
        lossy: bool = True,
    ) -> None:
        self.dsn = plain_dsn(database_url)
        self.channel = channel
        self.decode = decode
        self.queue_size = queue_size
        self.lossy = lossy
        self._conn: Any = None
        self._queues: set[asyncio.Queue[T | None]] = set()
        self._lock = asyncio.Lock()

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    @property
    def server_pid(self) -> int | None:
        """The backend of the listening connection (operators, tests)."""
        conn = self._conn
        return int(conn.get_server_pid()) if conn is not None and not conn.is_closed() else None

    async def stream(self) -> AsyncGenerator[T | None, None]:
        """Items from the moment the LISTEN is in place; a final ``None`` when the
        connection was lost or (not ``lossy``) the subscriber fell behind."""
        queue: asyncio.Queue[T | None] = asyncio.Queue(maxsize=self.queue_size)
        await self.join(queue)
        try:
            while True:
                item = await queue.get()
                yield item
                if item is None:
                    return
        finally:
            await self.leave(queue)

    async def join(self, queue: asyncio.Queue[T | None]) -> None:
        async with self._lock:
            if self._conn is None or self._conn.is_closed():
                conn = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_S)
                try:
                    conn.add_termination_listener(self._lost)
                    await conn.add_listener(self.channel, self._received)
                except BaseException:
                    conn.remove_termination_listener(self._lost)
                    with contextlib.suppress(Exception):
                        await conn.close()
                    raise
                self._conn = conn
            # Only now: a subscriber counted is one whose LISTEN is in place.
            self._queues.add(queue)

    async def leave(self, queue: asyncio.Queue[T | None]) -> None:
        async with self._lock:
            self._queues.discard(queue)
            if self._queues or self._conn is None:
                return
            conn, self._conn = self._conn, None
            conn.remove_termination_listener(self._lost)
            with contextlib.suppress(Exception):
                await conn.close()

    def _received(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        item = self.decode(payload)
        if item is None:
            return
        for queue in list(self._queues):
            self._offer(queue, item)

    def _offer(self, queue: asyncio.Queue[T | None], item: T) -> None:
        if not queue.full():
            queue.put_nowait(item)
        elif self.lossy:
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
            queue.put_nowait(item)
        else:
            # Behind by a whole queue: drop what it holds, tell it to catch up from the
            # database and stop feeding it (its stream ends after the None).
            _end(queue)
            self._queues.discard(queue)

    def _lost(self, conn: object) -> None:
        """The listening connection died: end every subscription (subscribers come back
        and so open a fresh connection) rather than leave them silently deaf."""
        if conn is not self._conn:  # one we closed ourselves, perhaps already replaced
            return
        log.warning("notification listener lost", channel=self.channel, n=len(self._queues))
        self._conn = None
        for queue in list(self._queues):
            _end(queue)
        self._queues.clear()


def _end(queue: asyncio.Queue[Any]) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)
