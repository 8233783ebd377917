from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.shared.idempotency import BeginOutcome, BeginResult, StoredResponse
from app.infra.db.engine import autocommit_factory
from app.infra.db.tables.platform import idempotency_keys as t


def _param(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(f"p_{name}", type_=t.c[name].type)


# The two statements of every request with an Idempotency-Key, built once with bound
# parameters (so compiled once) instead of per request.
_CLAIM = (
    insert(t)
    .values(
        principal=_param("principal"),
        key=_param("key"),
        operation=_param("operation"),
        request_hash=_param("request_hash"),
        state="in_flight",
        created_at=_param("created_at"),
        locked_until=_param("locked_until"),
        expires_at=_param("expires_at"),
    )
    .on_conflict_do_nothing()
    .returning(t.c.key)
)
_COMPLETE = (
    sa.update(t)
    .where(t.c.principal == _param("principal"), t.c.key == _param("key"))
    .values(
        state="completed",
        response_status=_param("response_status"),
        response_headers=_param("response_headers"),
        response_body=_param("response_body"),
    )
)


class SqlIdempotencyStore:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        ttl: timedelta = timedelta(hours=24),
        lock_timeout: timedelta = timedelta(minutes=2),
    ) -> None:
        self._sf = session_factory
        # The common cases are one statement each (claim a new key, store the response,
        # release): run them without BEGIN/COMMIT round trips.
        self._single = autocommit_factory(session_factory)
        self._ttl = ttl
        self._lock = lock_timeout

    async def begin(
        self, principal: str, key: str, operation: str, request_hash: bytes, now: datetime
    ) -> BeginResult:
        async with self._single() as s:
            inserted = await s.execute(
                _CLAIM,
                {
                    "p_principal": principal,
                    "p_key": key,
                    "p_operation": operation,
                    "p_request_hash": request_hash,
                    "p_created_at": now,
                    "p_locked_until": now + self._lock,
                    "p_expires_at": now + self._ttl,
                },
            )
            if inserted.first() is not None:
                return BeginResult(BeginOutcome.STARTED)
        # The key exists: decide under its row lock (replay, mismatch, in flight, expired).
        async with self._sf() as s, s.begin():
            row = (
                await s.execute(
                    sa.select(t).where(t.c.principal == principal, t.c.key == key).with_for_update()
                )
            ).one()
            if row.expires_at <= now:
                await s.execute(
                    sa.update(t)
                    .where(t.c.principal == principal, t.c.key == key)
                    .values(
                        operation=operation,
                        request_hash=request_hash,
                        state="in_flight",
                        response_status=None,
                        response_headers=None,
                        response_body=None,
                        created_at=now,
                        locked_until=now + self._lock,
                        expires_at=now + self._ttl,
                    )
                )
                return BeginResult(BeginOutcome.STARTED)
            if row.operation != operation or row.request_hash != request_hash:
                return BeginResult(BeginOutcome.MISMATCH)
            if row.state == "completed":
                return BeginResult(
                    BeginOutcome.REPLAY,
                    StoredResponse(
                        status=row.response_status,
                        headers=dict(row.response_headers or {}),
                        body=bytes(row.response_body or b""),
                    ),
                )
            if row.locked_until > now:
                return BeginResult(BeginOutcome.IN_FLIGHT)
            # A previous attempt died mid-flight: take the lock over and run again.
            await s.execute(
                sa.update(t)
                .where(t.c.principal == principal, t.c.key == key)
                .values(locked_until=now + self._lock)
            )
            return BeginResult(BeginOutcome.STARTED)

    async def complete(self, principal: str, key: str, response: StoredResponse) -> None:
        async with self._single() as s:
            await s.execute(
                _COMPLETE,
                {
                    "p_principal": principal,
                    "p_key": key,
                    "p_response_status": response.status,
                    "p_response_headers": response.headers,
                    "p_response_body": response.body,
                },
            )

    async def release(self, principal: str, key: str) -> None:
        async with self._single() as s:
            await s.execute(
                sa.delete(t).where(
                    t.c.principal == principal, t.c.key == key, t.c.state == "in_flight"
                )
            )

    async def purge_expired(self, now: datetime) -> int:
        async with self._sf() as s, s.begin():
            result = await s.execute(sa.delete(t).where(t.c.expires_at <= now))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
