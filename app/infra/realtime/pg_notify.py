"""``TipUpdates`` over Postgres LISTEN/NOTIFY: every API process listens on one channel,
so a change published anywhere reaches the subscribers of all processes.

Publishing is one ``pg_notify`` on the pooled engine. Listening uses ONE dedicated
asyncpg connection per process (opened with the first subscriber, closed with the last)
that fans notifications out to per-subscriber queues. Payloads carry ids only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import asyncpg
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.tips.realtime import TipChanged
from app.infra.db.raw import plain_dsn

CHANNEL = "shouwang_tips"
# A subscriber that falls this far behind loses the oldest changes, not the process memory.
QUEUE_SIZE = 256

log = structlog.get_logger("shouwang.realtime")

_Item = TipChanged | None  # None: the feed was lost


def encode(change: TipChanged) -> str:
    return json.dumps(
        {
            "tip": str(change.tip_id),
            "station": str(change.station_id) if change.station_id else None,
            "district": str(change.district_id) if change.district_id else None,
        }
    )


def decode(payload: str) -> TipChanged | None:
    try:
        data = json.loads(payload)
        return TipChanged(
            uuid.UUID(data["tip"]),
            uuid.UUID(data["station"]) if data.get("station") else None,
            uuid.UUID(data["district"]) if data.get("district") else None,
        )
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring malformed tip notification")
        return None


class PgTipUpdates:
    def __init__(self, engine: AsyncEngine, database_url: str) -> None:
        self.engine = engine
        self.dsn = plain_dsn(database_url)
        self._conn: Any = None
        self._queues: set[asyncio.Queue[_Item]] = set()
        self._lock = asyncio.Lock()

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def publish(self, change: TipChanged) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANNEL, "payload": encode(change)},
            )

    async def subscribe(self) -> AsyncGenerator[TipChanged, None]:
        queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=QUEUE_SIZE)
        await self._join(queue)
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            await self._leave(queue)

    # --- the shared listening connection ---------------------------------------------------

    async def _join(self, queue: asyncio.Queue[_Item]) -> None:
        async with self._lock:
            if self._conn is None or self._conn.is_closed():
                conn = await asyncpg.connect(self.dsn)
                conn.add_termination_listener(self._lost)
                await conn.add_listener(CHANNEL, self._received)
                self._conn = conn
            # Only now: a subscriber counted is one whose LISTEN is in place.
            self._queues.add(queue)

    async def _leave(self, queue: asyncio.Queue[_Item]) -> None:
        async with self._lock:
            self._queues.discard(queue)
            if self._queues or self._conn is None:
                return
            conn, self._conn = self._conn, None
            conn.remove_termination_listener(self._lost)
            with contextlib.suppress(Exception):
                await conn.close()

    def _received(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        change = decode(payload)
        if change is not None:
            for queue in list(self._queues):
                _offer(queue, change)

    def _lost(self, conn: object) -> None:
        """The listening connection died: end every subscription (clients resubscribe and
        so open a fresh connection) rather than leave them silently deaf."""
        if conn is not self._conn:  # one we closed ourselves, perhaps already replaced
            return
        log.warning("tip notification listener lost", subscribers=len(self._queues))
        self._conn = None
        for queue in list(self._queues):
            _offer(queue, None)
        self._queues.clear()


def _offer(queue: asyncio.Queue[_Item], item: _Item) -> None:
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(item)
