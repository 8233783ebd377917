"""The points context's ``HazardReporters`` port over the hazards tables: who reported a
verified hazard (its own report and every duplicate merged into it), for the rule that
decides who earns the credit. Read outside any caller's scope: only the outbox worker
asks, and the answer goes straight to the ledger."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.points.model import Report
from app.infra.db.engine import autocommit_factory
from app.infra.db.tables.hazards import hazard_reporters, hazards

_via = hazards.alias("reported_hazard")

_REPORTS = (
    sa.select(
        hazard_reporters.c.account_id,
        _via.c.reported_at,
        # Only a report verified as a real hazard counts as verified (a merged duplicate
        # was verified as a duplicate of the survivor).
        sa.case((_via.c.outcome == "real", _via.c.verified_at), else_=None).label("verified_at"),
    )
    .join(_via, _via.c.id == hazard_reporters.c.via_hazard_id)
    .where(hazard_reporters.c.hazard_id == sa.bindparam("hazard_id", type_=sa.Uuid))
    .order_by(_via.c.reported_at, hazard_reporters.c.account_id)
)
_PLACE = sa.select(hazards.c.station_id, hazards.c.district_id).where(
    hazards.c.id == sa.bindparam("hazard_id", type_=sa.Uuid)
)


class SqlHazardReporters:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sf = autocommit_factory(session_factory)

    async def reporters(self, hazard_id: uuid.UUID) -> list[Report]:
        async with self._sf() as s:
            rows = (await s.execute(_REPORTS, {"hazard_id": hazard_id})).all()
        return [Report(r.account_id, r.reported_at, r.verified_at) for r in rows]

    async def locate(self, hazard_id: uuid.UUID) -> tuple[uuid.UUID | None, uuid.UUID] | None:
        async with self._sf() as s:
            row = (await s.execute(_PLACE, {"hazard_id": hazard_id})).one_or_none()
        return (row.station_id, row.district_id) if row else None
