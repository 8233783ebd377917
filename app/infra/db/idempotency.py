from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.shared.idempotency import BeginOutcome, BeginResult, Receipt, StoredResponse
from app.infra.db import raw
from app.infra.db.tables.platform import idempotency_keys as t

# The two statements of every request with an Idempotency-Key, on the driver connection
# (app/infra/db/raw.py), each its own transaction.
_CLAIM = """
    INSERT INTO idempotency_keys (principal, key, operation, request_hash, state, created_at,
                                  locked_until, expires_at)
    VALUES ($1, $2, $3, $4, 'in_flight', $5, $6, $7)
    ON CONFLICT DO NOTHING
    RETURNING key
"""
_COMPLETE = """
    UPDATE idempotency_keys
    SET state = 'completed', response_status = $3, response_headers = $4::jsonb,
        response_body = $5
    WHERE principal = $1 AND key = $2
"""

R = TypeVar("R")


# A receipt (``Receipt``) stored by a use case's own statement: the key, completed with its
# response. Its 9 parameters come from ``receipt_args``, numbered from ``first``.
def receipt_key_free(first: int) -> str:
    """A condition: no receipt, or its key is not stored yet (a use case's statement
    writes nothing otherwise)."""
    principal, key = f"${first}::text", f"${first + 1}::text"
    return f"""({key} IS NULL OR NOT EXISTS (
        SELECT 1 FROM idempotency_keys WHERE principal = {principal} AND key = {key}))"""  # noqa: S608


def receipt_cte(first: int, source: str) -> str:
    """The key stored completed, once per row of ``source`` (a CTE with one row when the
    write happened, else none). A key stored meanwhile by a concurrent request makes the
    whole statement fail on the key's primary key (``UniqueViolationError``)."""
    n = [f"${first + i}" for i in range(9)]
    return f"""
    INSERT INTO idempotency_keys (principal, key, operation, request_hash, state, created_at,
                                  locked_until, expires_at, response_status, response_headers,
                                  response_body)
    SELECT {n[0]}::text, {n[1]}::text, {n[2]}::text, {n[3]}::bytea, 'completed',
           {n[4]}::timestamptz, {n[4]}::timestamptz, {n[5]}::timestamptz, {n[6]}::int,
           {n[7]}::jsonb, {n[8]}::bytea
    FROM {source} WHERE {n[1]}::text IS NOT NULL"""  # noqa: S608 - constants and $n


def receipt_taken(exc: asyncpg.UniqueViolationError) -> bool:
    """Whether a statement storing a receipt failed because a concurrent request stored
    the same key since its snapshot (any other unique violation is not ours to handle)."""
    return bool(exc.constraint_name == "pk_idempotency_keys")


def receipt_args(receipt: Receipt[Any] | None, response: StoredResponse | None) -> list[Any]:
    """The 9 parameters of ``receipt_key_free`` and ``receipt_cte`` (NULL without one)."""
    if receipt is None or response is None:
        return [None] * 9
    return [
        receipt.principal,
        receipt.key,
        receipt.operation,
        receipt.request_hash,
        receipt.created_at,
        receipt.expires_at,
        response.status,
        json.dumps(response.headers, ensure_ascii=False),
        response.body,
    ]


class SqlIdempotencyStore:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        ttl: timedelta = timedelta(hours=24),
        lock_timeout: timedelta = timedelta(minutes=2),
    ) -> None:
        self._sf = session_factory
        # The common cases are one statement each (claim a new key, store the response,
        # release): run them on their own, without BEGIN/COMMIT round trips or a session.
        self._single = raw.Autocommit.of(session_factory)
        self._ttl = ttl
        self._lock = lock_timeout

    def receipt(
        self,
        principal: str,
        key: str,
        operation: str,
        request_hash: bytes,
        now: datetime,
        render: Callable[[R], StoredResponse],
    ) -> Receipt[R]:
        return Receipt(principal, key, operation, request_hash, now, now + self._ttl, render)

    async def begin(
        self, principal: str, key: str, operation: str, request_hash: bytes, now: datetime
    ) -> BeginResult:
        claimed = await self._single.fetchval(
            _CLAIM, principal, key, operation, request_hash, now, now + self._lock, now + self._ttl
        )
        if claimed is not None:
            return BeginResult(BeginOutcome.STARTED)
        # The key exists: decide under its row lock (replay, mismatch, in flight, expired).
        async with self._sf() as s, s.begin():
            row = (
                await s.execute(
                    sa.select(t).where(t.c.principal == principal, t.c.key == key).with_for_update()
                )
            ).one_or_none()
            if row is not None:
                return await self._decide(s, row, operation, request_hash, now)
        # Released (a failed request) or purged since the claim missed it: claim again.
        return await self.begin(principal, key, operation, request_hash, now)

    async def _decide(
        self, s: AsyncSession, row: Any, operation: str, request_hash: bytes, now: datetime
    ) -> BeginResult:
        principal, key = row.principal, row.key
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
        headers = json.dumps(response.headers, ensure_ascii=False)
        await self._single.execute(
            _COMPLETE, principal, key, response.status, headers, response.body
        )

    async def release(self, principal: str, key: str) -> None:
        await self._single.execute(
            "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2"
            " AND state = 'in_flight'",
            principal,
            key,
        )

    async def purge_expired(self, now: datetime) -> int:
        async with self._sf() as s, s.begin():
            result = await s.execute(sa.delete(t).where(t.c.expires_at <= now))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
