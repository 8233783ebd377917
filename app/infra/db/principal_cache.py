"""An in-process cache in front of the principal reader, kept honest by Postgres NOTIFY.

Migration 0015 adds triggers that send ``NOTIFY shouwang_principals`` with the account id
when an account, one of its sessions or one of its roles changes (``*`` when org units
change). Postgres delivers them at commit. Each process keeps ONE dedicated asyncpg
connection that LISTENs and evicts what a notification names; the identity services also
evict synchronously after their own commits (``PrincipalChanges``), so a request right
after a sign-out in this process never sees the old principal.

The cache only answers while the listener is connected: a notification sent while
nobody listened is lost, so losing the connection clears everything and every load goes
to the database until a new listener is in place (reconnecting in the background, with
backoff, when a load finds it missing); a fresh listener clears again. The TTL bounds the
damage of a connection that died without telling us. Only usable principals are cached
(live session, active account): a refusal is always read afresh.

A load that started before an invalidation and finished after it may hold the old state:
every invalidation bumps a generation counter and a loaded principal is stored only if
the counter did not move during the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import asyncpg
import structlog

from app.domain.identity.model import AccountStatus
from app.domain.identity.ports import Principal, PrincipalReader
from app.infra.db.raw import plain_dsn

CHANNEL: Final = "shouwang_principals"
EVERYONE: Final = "*"
MAX_ENTRIES: Final = 10_000
RECONNECT_MIN_S: Final = 0.5
RECONNECT_MAX_S: Final = 30.0
CONNECT_TIMEOUT_S: Final = 5.0

log = structlog.get_logger("shouwang.identity")

_Key = tuple[uuid.UUID, uuid.UUID]  # (account id, session id)


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    expires_at: float


def _cacheable(principal: Principal | None) -> bool:
    return (
        principal is not None
        and not principal.session_revoked
        and principal.status == AccountStatus.ACTIVE
    )


class CachingPrincipalReader:
    """``PrincipalReader`` (cached) and ``PrincipalChanges`` (eviction) in one."""

    def __init__(
        self,
        inner: PrincipalReader,
        database_url: str,
        *,
        ttl_seconds: float = 30.0,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self.dsn = plain_dsn(database_url)
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._by_account: dict[uuid.UUID, set[_Key]] = {}
        self._generation = 0
        self._conn: Any = None
        self._connecting: asyncio.Task[None] | None = None
        self._backoff = RECONNECT_MIN_S
        self._retry_at = 0.0
        self._closed = False
        self._reset_callbacks: list[Callable[[], None]] = []

    # --- PrincipalReader ----------------------------------------------------------------

    async def load(self, account_id: uuid.UUID, session_id: uuid.UUID) -> Principal | None:
        if self._ttl <= 0:
            return await self._inner.load(account_id, session_id)
        if not self.listening:
            self._start_listening()
            return await self._inner.load(account_id, session_id)
        key = (account_id, session_id)
        entry = self._entries.get(key)
        if entry is not None:
            if entry.expires_at > self._clock():
                self._entries.move_to_end(key)
                return entry.principal
            self._drop(key)
        generation = self._generation
        principal = await self._inner.load(account_id, session_id)
        if principal is not None and _cacheable(principal) and generation == self._generation:
            self._store(key, principal)
        return principal

    # --- PrincipalChanges ---------------------------------------------------------------

    def changed(self, account_id: uuid.UUID) -> None:
        self._generation += 1
        for key in self._by_account.pop(account_id, set()):
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._by_account.clear()
        for callback in self._reset_callbacks:
            callback()

    # --- TreeWatch (app/infra/db/org_tree_cache.py): the same listener tells the copy of
    # the organisation tree when to forget it (``*``: org_units changed; lost or new
    # listener: anything may have changed) ----------------------------------------------

    def on_reset(self, callback: Callable[[], None]) -> None:
        self._reset_callbacks.append(callback)

    def ensure_listening(self) -> None:
        if self._ttl > 0:
            self._start_listening()

    # --- for operators and tests ----------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self._entries)

    def holds(self, account_id: uuid.UUID, session_id: uuid.UUID) -> bool:
        return (account_id, session_id) in self._entries

    @property
    def generation(self) -> int:
        """Bumped by every invalidation."""
        return self._generation

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    @property
    def server_pid(self) -> int | None:
        """The backend of the listening connection."""
        return int(self._conn.get_server_pid()) if self.listening else None

    async def wait_listening(self, seconds: float) -> bool:
        """Start listening if needed and wait (at most ``seconds``) until it is in place."""
        self._start_listening()
        deadline = time.monotonic() + seconds
        while not self.listening and time.monotonic() < deadline:
            task = self._connecting
            if task is None:
                if time.monotonic() >= self._retry_at:
                    self._start_listening()
                    continue
                await asyncio.sleep(0.02)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), max(deadline - time.monotonic(), 0))
        return self.listening

    # --- the cache ----------------------------------------------------------------------

    def _store(self, key: _Key, principal: Principal) -> None:
        self._entries[key] = _Entry(principal, self._clock() + self._ttl)
        self._entries.move_to_end(key)
        self._by_account.setdefault(key[0], set()).add(key)
        while len(self._entries) > self._max:
            oldest, _ = self._entries.popitem(last=False)
            self._unindex(oldest)

    def _drop(self, key: _Key) -> None:
        if self._entries.pop(key, None) is not None:
            self._unindex(key)

    def _unindex(self, key: _Key) -> None:
        keys = self._by_account.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_account[key[0]]

    # --- the listening connection ---------------------------------------------------------

    def _start_listening(self) -> None:
        """Connect in the background: no request waits for it (they bypass meanwhile)."""
        if (
            self._closed
            or self.listening
            or self._connecting is not None
            or time.monotonic() < self._retry_at
        ):
            return
        self._connecting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        conn = None
        try:
            conn = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_S)
            conn.add_termination_listener(self._lost)
            await conn.add_listener(CHANNEL, self._received)
        except asyncio.CancelledError:  # closing down
            if conn is not None:
                conn.remove_termination_listener(self._lost)
                conn.terminate()
            raise
        except Exception as exc:  # unreachable, restarting, refused: bypass meanwhile
            if conn is not None:
                conn.remove_termination_listener(self._lost)
                with contextlib.suppress(Exception):
                    await conn.close()
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, RECONNECT_MAX_S)
            log.warning("principal listener unavailable, not caching", error=type(exc).__name__)
            return
        finally:
            self._connecting = None
        if self._closed:
            conn.remove_termination_listener(self._lost)
            await conn.close()
            return
        # Whatever changed while nobody listened is unknown: start empty.
        self.clear()
        self._conn = conn
        self._backoff = RECONNECT_MIN_S

    def _received(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == EVERYONE:
            self.clear()
            return
        try:
            account_id = uuid.UUID(payload)
        except ValueError:
            log.warning("malformed principal notification, clearing the cache")
            self.clear()
            return
        self.changed(account_id)

    def _lost(self, conn: object) -> None:
        if conn is not self._conn:  # one we closed ourselves, perhaps already replaced
            return
        log.warning("principal listener lost, not caching until it is back")
        self._conn = None
        self.clear()

    async def aclose(self) -> None:
        self._closed = True
        task, self._connecting = self._connecting, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        conn, self._conn = self._conn, None
        self.clear()
        if conn is not None:
            conn.remove_termination_listener(self._lost)
            with contextlib.suppress(Exception):
                await conn.close()
