from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.shared.idempotency import BeginOutcome, BeginResult, StoredResponse
from app.infra.db.tables.platform import idempotency_keys as t


class SqlIdempotencyStore:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        ttl: timedelta = timedelta(hours=24),
        lock_timeout: timedelta = timedelta(minutes=2),
    ) -> None:
        self._sf = session_factory
        self._ttl = ttl
        self._lock = lock_timeout

    async def begin(
        self, principal: str, key: str, operation: str, request_hash: bytes, now: datetime
    ) -> BeginResult:
        async with self._sf() as s, s.begin():
            inserted = await s.execute(
                insert(t)
                .values(
                    principal=principal,
                    key=key,
                    operation=operation,
                    request_hash=request_hash,
                    state="in_flight",
                    created_at=now,
                    locked_until=now + self._lock,
                    expires_at=now + self._ttl,
                )
                .on_conflict_do_nothing()
                .returning(t.c.key)
            )
            if inserted.first() is not None:
                return BeginResult(BeginOutcome.STARTED)
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
        async with self._sf() as s, s.begin():
            await s.execute(
                sa.update(t)
                .where(t.c.principal == principal, t.c.key == key)
                .values(
                    state="completed",
                    response_status=response.status,
                    response_headers=response.headers,
                    response_body=response.body,
                )
            )

    async def release(self, principal: str, key: str) -> None:
        async with self._sf() as s, s.begin():
            await s.execute(
                sa.delete(t).where(
                    t.c.principal == principal, t.c.key == key, t.c.state == "in_flight"
                )
            )

    async def purge_expired(self, now: datetime) -> int:
        async with self._sf() as s, s.begin():
            result = await s.execute(sa.delete(t).where(t.c.expires_at <= now))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
