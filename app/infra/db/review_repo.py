"""Repositories of the review context: flags (scoped like every record), the fraud signals
the worker reads (photo hashes, device activity) and the submission log behind velocity
limits. Device and account ids are stored as blind indexes only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.review.model import (
    DeviceActivity,
    FlagKind,
    FlagStatus,
    RecordRef,
    ReviewFlag,
)
from app.domain.review.ports import FlagSlice, FraudSignals, ReviewFlagRepository
from app.domain.review.velocity import Recent, Submission
from app.domain.shared.clock import Clock
from app.domain.shared.errors import StaleVersion
from app.domain.shared.ids import new_id
from app.domain.shared.protection import BlindIndexer
from app.domain.shared.scope import Scope
from app.domain.shared.uow import UnitOfWork
from app.infra.db.scoping import station_scope
from app.infra.db.tables.review import review_flags, submission_log
from app.infra.db.uow import SqlUnitOfWork

f = review_flags
DEVICE_PURPOSE = "device"
ACCOUNT_PURPOSE = "velocity.account"


def _flag(row: Any) -> ReviewFlag:
    return ReviewFlag(
        id=row.id,
        record=RecordRef(row.record_type, row.record_id),
        kind=FlagKind(row.kind),
        station_id=row.station_id,
        district_id=row.district_id,
        evidence=dict(row.evidence or {}),
        created_at=row.created_at,
        status=FlagStatus(row.status),
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        note=row.note,
        version=row.version,
    )


class SqlReviewFlagRepository(ReviewFlagRepository):
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def _visible(self) -> sa.ColumnElement[bool]:
        return station_scope(f.c.station_id, f.c.district_id, self.scope)

    async def add(self, flag: ReviewFlag) -> bool:
        stmt = (
            pg_insert(f)
            .values(
                id=flag.id,
                record_type=flag.record.record_type,
                record_id=flag.record.record_id,
                kind=flag.kind.value,
                status=flag.status.value,
                station_id=flag.station_id,
                district_id=flag.district_id,
                evidence=flag.evidence,
                created_at=flag.created_at,
            )
            .on_conflict_do_nothing(index_elements=[f.c.record_type, f.c.record_id, f.c.kind])
            .returning(f.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def get(self, flag_id: uuid.UUID, *, for_update: bool = False) -> ReviewFlag | None:
        query = sa.select(f).where(f.c.id == flag_id, self._visible())
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return _flag(row) if row else None

    async def get_many(self, flag_ids: list[uuid.UUID]) -> list[ReviewFlag]:
        if not flag_ids:
            return []
        rows = await self.session.execute(
            sa.select(f).where(f.c.id.in_(flag_ids), self._visible()).order_by(f.c.id.desc())
        )
        return [_flag(r) for r in rows]

    async def page(
        self,
        *,
        kind: FlagKind | None,
        status: FlagStatus | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> FlagSlice:
        query = sa.select(f).where(self._visible())
        if kind is not None:
            query = query.where(f.c.kind == kind.value)
        if status is not None:
            query = query.where(f.c.status == status.value)
        if after is not None:
            query = query.where(f.c.id < after)
        rows = list(await self.session.execute(query.order_by(f.c.id.desc()).limit(limit + 1)))
        return FlagSlice([_flag(r) for r in rows[:limit]], len(rows) > limit)

    async def save(self, flag: ReviewFlag) -> None:
        result = await self.session.execute(
            sa.update(f)
            .where(f.c.id == flag.id, f.c.version == flag.version)
            .values(
                status=flag.status.value,
                resolved_at=flag.resolved_at,
                resolved_by=flag.resolved_by,
                note=flag.note,
                version=flag.version + 1,
                updated_at=sa.func.now(),
            )
        )
        if getattr(result, "rowcount", 0) != 1:
            raise StaleVersion()
        flag.version += 1


# Photos of other reports, uploaded before this one's (the copy is flagged, not the
# original, whichever report the worker inspects first), within the distance of a photo of
# this one. Anonymous tips are neither inspected nor matched: nothing may tie them to
# another report.
_SIMILAR_PHOTOS = sa.text(
    """
    SELECT DISTINCT o.attached_record_type AS record_type, o.attached_record_id AS record_id
    FROM media_objects m
    JOIN media_objects o
      ON o.phash IS NOT NULL
     AND o.attached_record_id IS NOT NULL
     AND o.attached_record_id <> m.attached_record_id
     AND o.attached_record_type IN ('hazard', 'tip')
     AND o.created_at > :since
     AND o.created_at <= m.created_at
     AND hamming64(m.phash, o.phash) <= :distance
    WHERE m.attached_record_type = :type
      AND m.attached_record_id = :id
      AND m.phash IS NOT NULL
      AND NOT EXISTS (
          SELECT 1 FROM tips t
          WHERE t.anonymous
            AND ((m.attached_record_type = 'tip' AND t.id = m.attached_record_id)
              OR (o.attached_record_type = 'tip' AND t.id = o.attached_record_id))
      )
    LIMIT :limit
    """
).bindparams(
    sa.bindparam("id", type_=UUID(as_uuid=True)),
    sa.bindparam("since", type_=sa.DateTime(timezone=True)),
)

_DEVICE_OF = sa.text(
    """
    SELECT device_bidx FROM submission_log
    WHERE record_type = :type AND record_id = :id AND device_bidx IS NOT NULL
    LIMIT 1
    """
).bindparams(sa.bindparam("id", type_=UUID(as_uuid=True)))

_DEVICE_ACTIVITY = sa.text(
    """
    SELECT count(*) AS reports, count(DISTINCT account_bidx) AS accounts
    FROM submission_log WHERE device_bidx = :device AND at > :since
    """
).bindparams(
    sa.bindparam("device", type_=BYTEA),
    sa.bindparam("since", type_=sa.DateTime(timezone=True)),
)


class SqlFraudSignals(FraudSignals):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def similar_photos(
        self, record: RecordRef, *, since: datetime, max_distance: int, limit: int
    ) -> list[RecordRef]:
        params = {
            "type": record.record_type,
            "id": record.record_id,
            "since": since,
            "distance": max_distance,
            "limit": limit,
        }
        rows = await self.session.execute(_SIMILAR_PHOTOS, params)
        found = sorted((r.record_type, str(r.record_id)) for r in rows)
        return [RecordRef(t, uuid.UUID(i)) for t, i in found]

    async def device_activity(self, record: RecordRef, *, since: datetime) -> DeviceActivity | None:
        device = (
            await self.session.execute(
                _DEVICE_OF, {"type": record.record_type, "id": record.record_id}
            )
        ).scalar()
        if device is None:
            return None
        row = (
            await self.session.execute(_DEVICE_ACTIVITY, {"device": device, "since": since})
        ).one()
        return DeviceActivity(int(row.reports), int(row.accounts))


class SqlReviewUnitOfWork(SqlUnitOfWork):
    flags: ReviewFlagRepository
    signals: FraudSignals

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], scope: Scope, clock: Clock
    ) -> None:
        super().__init__(session_factory, scope, clock)

    def _open_repositories(self) -> None:
        self.flags = SqlReviewFlagRepository(self.session, self.scope)
        self.signals = SqlFraudSignals(self.session)


# The new entry and the earlier ones of the account or device in one round trip (the
# SELECT does not see the row its own statement inserts).
_RECORD_SUBMISSION = (
    sa.text(
        """
    WITH logged AS (
        INSERT INTO submission_log (id, record_type, record_id, account_bidx, device_bidx, at)
        VALUES (:id, :type, :record_id, :account, :device, :at)
    )
    SELECT at,
           coalesce(account_bidx = :account, false) AS by_account,
           coalesce(device_bidx = :device, false) AS by_device
    FROM submission_log
    WHERE record_type = :type AND at > :since
      AND (account_bidx = :account OR device_bidx = :device)
    """
    )
    .bindparams(
        sa.bindparam("id", type_=UUID(as_uuid=True)),
        sa.bindparam("record_id", type_=UUID(as_uuid=True)),
        sa.bindparam("account", type_=BYTEA),
        sa.bindparam("device", type_=BYTEA),
        sa.bindparam("at", type_=sa.DateTime(timezone=True)),
        sa.bindparam("since", type_=sa.DateTime(timezone=True)),
    )
    .columns(
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("by_account", sa.Boolean),
        sa.column("by_device", sa.Boolean),
    )
)


class SqlVelocityLog:
    """``VelocityLog`` writing inside the submitting context's own SQL unit of work."""

    def __init__(self, indexer: BlindIndexer) -> None:
        self.indexer = indexer

    def device_key(self, device_id: str) -> bytes:
        return self.indexer.index(device_id, purpose=DEVICE_PURPOSE)

    async def record(self, uow: UnitOfWork, submission: Submission, *, since: datetime) -> Recent:
        if not isinstance(uow, SqlUnitOfWork):
            raise TypeError("the velocity log needs an SQL unit of work")
        account = (
            self.indexer.index(str(submission.account_id), purpose=ACCOUNT_PURPOSE)
            if submission.account_id is not None
            else None
        )
        device = self.device_key(submission.device_id) if submission.device_id else None
        params = {
            "id": new_id(),
            "type": submission.record_type,
            "record_id": submission.record_id,
            "account": account,
            "device": device,
            "at": submission.at,
            "since": since,
        }
        rows = list(await uow.session.execute(_RECORD_SUBMISSION, params))
        return Recent(
            by_account=[r.at for r in rows if r.by_account],
            by_device=[r.at for r in rows if r.by_device],
        )


async def purge_submission_log(
    session_factory: async_sessionmaker[AsyncSession], before: datetime
) -> int:
    """Forget submissions older than ``before``: past the device rule's window they serve
    no purpose."""
    async with session_factory() as session:
        result = await session.execute(
            sa.delete(submission_log).where(submission_log.c.at < before)
        )
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
