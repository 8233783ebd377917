"""Wake the delivery worker as soon as outbox rows commit.

A statement-level trigger on ``outbox`` (migration 0014) sends ``NOTIFY outbox_new`` in
the inserting transaction; Postgres delivers it at commit, when the rows are visible. The
worker keeps ONE dedicated asyncpg connection that LISTENs on the channel; the poll
interval stays as the fallback (retries coming due, a listener being re-established).

A lost connection (database restart, network) is noticed by asyncpg's termination
listener: the worker is woken for a catch-up pass and the next wait reconnects, backing
off while the database stays unreachable. Notifications sent while nobody listened are
not lost work: the rows are in the table and the catch-up pass claims them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import asyncpg
import structlog

from app.infra.db.raw import plain_dsn

CHANNEL = "outbox_new"
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 30.0
CONNECT_TIMEOUT_S = 5.0

log = structlog.get_logger("shouwang.worker")


class PgOutboxWakeup:
    def __init__(self, database_url: str) -> None:
        self.dsn = plain_dsn(database_url)
        self._conn: Any = None
        self._event = asyncio.Event()
        self._backoff = RECONNECT_MIN_S
        self._retry_at = 0.0

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    @property
    def server_pid(self) -> int | None:
        """The backend of the listening connection (for operators and tests)."""
        return int(self._conn.get_server_pid()) if self.listening else None

    def poke(self) -> None:
        """Wake a waiting ``wait`` now (e.g. the worker is asked to stop)."""
        self._event.set()

    def clear(self) -> None:
        """Forget wake-ups so far: call BEFORE claiming a batch, so a commit during the
        pass wakes the following wait instead of being lost."""
        self._event.clear()

    async def wait(self, seconds: float) -> bool:
        """Until rows were committed (True) or ``seconds`` passed (False)."""
        await self._ensure_listening()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
            return True
        return False

    async def _ensure_listening(self) -> None:
        if self.listening or time.monotonic() < self._retry_at:
            return
        conn = None
        try:
            conn = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_S)
            conn.add_termination_listener(self._lost)
            await conn.add_listener(CHANNEL, self._received)
        except Exception as exc:  # unreachable, restarting, refused: poll meanwhile
            if conn is not None:
                conn.remove_termination_listener(self._lost)
                with contextlib.suppress(Exception):
                    await conn.close()
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, RECONNECT_MAX_S)
            log.warning("outbox listener unavailable, polling", error=type(exc).__name__)
            return
        self._conn = conn
        self._backoff = RECONNECT_MIN_S
        # Rows may have committed while nobody listened: look once more.
        self._event.set()

    def _received(self, _conn: object, _pid: int, _channel: str, _payload: str) -> None:
        self._event.set()

    def _lost(self, conn: object) -> None:
        if conn is not self._conn:
            return
        log.warning("outbox listener lost, reconnecting")
        self._conn = None
        self._event.set()  # a catch-up pass; the next wait reconnects

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.remove_termination_listener(self._lost)
            with contextlib.suppress(Exception):
                await conn.close()
