"""The outbox as a queue: claims with FOR UPDATE SKIP LOCKED, one head event per record,
leases that expire if the worker dies, retries and the dead letter."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.delivery.model import DeadEvent, OutboxEvent
from app.infra.db.tables.delivery import outbox_deliveries
from app.infra.db.tables.platform import outbox

# The head of each record's queue: a pending event with no older pending event of the same
# record. A leased or backing-off head is not due, and still blocks what follows it, so
# events of one record are handled one at a time in seq order; other records go on.
# SKIP LOCKED lets several workers claim side by side without waiting on each other.
_CLAIM = sa.text(
    """
    WITH due AS (
        SELECT o.seq FROM outbox o
        WHERE o.status = 'pending'
          AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= :now)
          AND NOT EXISTS (
              SELECT 1 FROM outbox p
              WHERE p.aggregate_type = o.aggregate_type
                AND p.aggregate_id = o.aggregate_id
                AND p.status = 'pending'
                AND p.seq < o.seq)
        ORDER BY o.seq
        LIMIT :limit
        FOR UPDATE OF o SKIP LOCKED
    )
    UPDATE outbox SET attempts = outbox.attempts + 1, next_attempt_at = :lease_until
    FROM due WHERE outbox.seq = due.seq
    RETURNING outbox.seq, outbox.id, outbox.event_type, outbox.aggregate_type,
              outbox.aggregate_id, outbox.payload, outbox.occurred_at, outbox.attempts
    """
)


class SqlOutboxStore:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxEvent]:
        async with self._sessions() as s, s.begin():
            rows = (
                await s.execute(_CLAIM, {"now": now, "lease_until": lease_until, "limit": limit})
            ).all()
        events = [
            OutboxEvent(
                seq=r.seq,
                id=r.id,
                event_type=r.event_type,
                aggregate_type=r.aggregate_type,
                aggregate_id=r.aggregate_id,
                payload=dict(r.payload),
                occurred_at=r.occurred_at,
                attempts=r.attempts,
            )
            for r in rows
        ]
        return sorted(events, key=lambda e: e.seq)

    async def handled(self, event_id: uuid.UUID) -> set[str]:
        async with self._sessions() as s:
            names = await s.scalars(
                sa.select(outbox_deliveries.c.handler).where(
                    outbox_deliveries.c.event_id == event_id
                )
            )
            return set(names)

    async def record_handled(self, event_id: uuid.UUID, handler: str, at: datetime) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(
                insert(outbox_deliveries)
                .values(event_id=event_id, handler=handler, delivered_at=at)
                .on_conflict_do_nothing()
            )

    async def _update(self, seq: int, **values: Any) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(sa.update(outbox).where(outbox.c.seq == seq).values(**values))

    async def mark_delivered(self, seq: int, at: datetime) -> None:
        await self._update(
            seq, status="delivered", delivered_at=at, next_attempt_at=None, last_error=None
        )

    async def schedule_retry(self, seq: int, at: datetime, error: str) -> None:
        await self._update(seq, next_attempt_at=at, last_error=error)

    async def mark_dead(self, seq: int, error: str) -> None:
        await self._update(seq, status="dead", next_attempt_at=None, last_error=error)

    async def list_dead(self, limit: int, after_seq: int | None) -> list[DeadEvent]:
        query = sa.select(outbox).where(outbox.c.status == "dead").order_by(outbox.c.seq)
        if after_seq is not None:
            query = query.where(outbox.c.seq > after_seq)
        async with self._sessions() as s:
            rows = (await s.execute(query.limit(limit))).all()
        return [
            DeadEvent(
                seq=r.seq,
                id=r.id,
                event_type=r.event_type,
                aggregate_type=r.aggregate_type,
                aggregate_id=r.aggregate_id,
                attempts=r.attempts,
                last_error=r.last_error,
                occurred_at=r.occurred_at,
            )
            for r in rows
        ]

    async def requeue_dead(self, seqs: list[int] | None, now: datetime) -> int:
        query = sa.update(outbox).where(outbox.c.status == "dead")
        if seqs is not None:
            query = query.where(outbox.c.seq.in_(seqs))
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                query.values(status="pending", attempts=0, next_attempt_at=now)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]
