"""``AlertListener`` over LISTEN on ``shouwang_emergency``: the trigger of migration 0022
notifies every committed incident event (ids only); every API process holds ONE
listening connection (``PgChannelListener``) that fans the signals out to its
subscribers' bounded queues.

A subscription first yields ``None`` as soon as its LISTEN is in place: everything
committed before may not have been heard, so the subscriber reads the database after
its last ``seq`` right then (no gap between the replay and the live signals). It yields
``None`` again, and ends, when the connection is lost or the subscriber fell a whole
queue behind; the subscriber catches up from the database and subscribes again."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator

import structlog

from app.domain.emergency.incident import IncidentEventKind
from app.domain.emergency.incident_ports import EventSignal
from app.infra.realtime.listener import PgChannelListener

CHANNEL = "shouwang_emergency"
# Signals are tiny; a subscriber this far behind catches up from the database instead.
QUEUE_SIZE = 512

log = structlog.get_logger("shouwang.realtime")


def decode(payload: str) -> EventSignal | None:
    try:
        data = json.loads(payload)
        return EventSignal(
            seq=int(data["seq"]),
            incident_id=uuid.UUID(data["incident"]),
            kind=IncidentEventKind(data["kind"]),
            member_id=uuid.UUID(data["member"]) if data.get("member") else None,
            station_id=uuid.UUID(data["station"]) if data.get("station") else None,
            district_id=uuid.UUID(data["district"]),
            drill=bool(data["drill"]),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring malformed emergency notification")
        return None


class PgAlertListener:
    def __init__(self, database_url: str, *, queue_size: int = QUEUE_SIZE) -> None:
        self._listener = PgChannelListener(
            database_url, CHANNEL, decode, queue_size=queue_size, lossy=False
        )

    @property
    def subscribers(self) -> int:
        return self._listener.subscribers

    @property
    def server_pid(self) -> int | None:
        return self._listener.server_pid

    async def subscribe(self) -> AsyncGenerator[EventSignal | None, None]:
        queue: asyncio.Queue[EventSignal | None] = asyncio.Queue(self._listener.queue_size)
        await self._listener.join(queue)
        try:
            yield None  # LISTEN in place: catch up from the database now
            while (item := await queue.get()) is not None:
                yield item
            yield None
        finally:
            await self._listener.leave(queue)
