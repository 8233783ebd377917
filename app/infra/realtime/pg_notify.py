"""``TipUpdates`` over Postgres LISTEN/NOTIFY: every API process listens on one channel,
so a change published anywhere reaches the subscribers of all processes.

Publishing is one ``pg_notify`` on the pooled engine. Listening uses ONE dedicated
asyncpg connection per process (``PgChannelListener``: opened with the first subscriber,
closed with the last) that fans notifications out to per-subscriber queues. Payloads
carry ids only."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.tips.realtime import TipChanged
from app.infra.realtime.listener import PgChannelListener

CHANNEL = "shouwang_tips"
# A subscriber that falls this far behind loses the oldest changes, not the process memory.
QUEUE_SIZE = 256

log = structlog.get_logger("shouwang.realtime")


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
        self._listener = PgChannelListener(database_url, CHANNEL, decode, queue_size=QUEUE_SIZE)

    @property
    def subscribers(self) -> int:
        return self._listener.subscribers

    async def publish(self, change: TipChanged) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANNEL, "payload": encode(change)},
            )

    async def subscribe(self) -> AsyncGenerator[TipChanged, None]:
        """Changes until the feed is lost (then it simply ends: the client resubscribes)."""
        feed = self._listener.stream()
        try:
            async for item in feed:
                if item is None:
                    return
                yield item
        finally:
            await feed.aclose()
