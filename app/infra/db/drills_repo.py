"""Drills planned ahead (``emergency_drill_schedules``), scoped like incidents: staff of
the station (or district-queue rows of their districts); the worker acts unrestricted."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.emergency.drills import DrillSlice, DrillStatus, ScheduledDrill
from app.domain.emergency.glossary import IncidentType, Severity
from app.domain.emergency.incident import IncidentRouting
from app.domain.emergency.incidents import NewIncident
from app.domain.shared.errors import StaleVersion
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Scope
from app.infra.db.incidents_repo import SqlIncidentUnitOfWork
from app.infra.db.organisation_repo import geography, lon_lat
from app.infra.db.scoping import station_scope
from app.infra.db.tables.emergency_incidents import emergency_drill_schedules

d = emergency_drill_schedules

_COLUMNS = (
    d.c.id,
    d.c.type,
    d.c.severity,
    d.c.description,
    d.c.station_id,
    d.c.district_id,
    d.c.scheduled_at,
    d.c.created_by,
    d.c.created_at,
    d.c.status,
    d.c.incident_id,
    d.c.version,
    *lon_lat(d.c.location),
)


def _drill(row: Any) -> ScheduledDrill:
    return ScheduledDrill(
        id=row.id,
        plan=NewIncident(
            IncidentType(row.type),
            Severity(row.severity),
            GeoPoint(row.lon, row.lat),
            row.description,
            drill=True,
        ),
        routing=IncidentRouting(row.district_id, row.station_id),
        scheduled_at=row.scheduled_at,
        created_by=row.created_by,
        created_at=row.created_at,
        status=DrillStatus(row.status),
        incident_id=row.incident_id,
        version=row.version,
    )


class SqlDrillScheduleRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self._s = session
        self._scope = scope

    def _visible(self) -> sa.ColumnElement[bool]:
        return station_scope(d.c.station_id, d.c.district_id, self._scope)

    async def insert(self, drill: ScheduledDrill) -> None:
        plan = drill.plan
        await self._s.execute(
            sa.insert(d).values(
                id=drill.id,
                type=plan.type.value,
                severity=plan.severity.value,
                location=geography(plan.location),
                description=plan.description.strip(),
                station_id=drill.routing.station_id,
                district_id=drill.routing.district_id,
                scheduled_at=drill.scheduled_at,
                created_by=drill.created_by,
                created_at=drill.created_at,
                status=drill.status.value,
                version=drill.version,
            )
        )

    async def get(self, drill_id: uuid.UUID, *, for_update: bool = False) -> ScheduledDrill | None:
        query = sa.select(*_COLUMNS).where(d.c.id == drill_id, self._visible())
        if for_update:
            query = query.with_for_update(of=d)
        row = (await self._s.execute(query)).first()
        return _drill(row) if row else None

    async def save(self, drill: ScheduledDrill) -> None:
        result = await self._s.execute(
            sa.update(d)
            .where(d.c.id == drill.id, d.c.version == drill.version)
            .values(
                status=drill.status.value,
                incident_id=drill.incident_id,
                version=d.c.version + 1,
                updated_at=sa.func.now(),
            )
            .returning(d.c.version)
        )
        version = result.scalar_one_or_none()
        if version is None:
            raise StaleVersion()
        drill.version = version

    async def page(
        self,
        *,
        station_id: uuid.UUID | None,
        status: DrillStatus | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> DrillSlice:
        query = sa.select(*_COLUMNS).where(self._visible())
        if station_id is not None:
            query = query.where(d.c.station_id == station_id)
        if status is not None:
            query = query.where(d.c.status == status.value)
        if after is not None:
            query = query.where(d.c.id < after)
        rows = (await self._s.execute(query.order_by(d.c.id.desc()).limit(limit + 1))).all()
        return DrillSlice([_drill(r) for r in rows[:limit]], len(rows) > limit)

    async def due(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self._s.execute(
            sa.select(d.c.id)
            .where(d.c.status == DrillStatus.SCHEDULED.value, d.c.scheduled_at <= now)
            .order_by(d.c.scheduled_at)
            .limit(limit)
        )
        return [r.id for r in rows]


class SqlDrillUnitOfWork(SqlIncidentUnitOfWork):
    drills: SqlDrillScheduleRepository

    def _open_repositories(self) -> None:
        super()._open_repositories()
        self.drills = SqlDrillScheduleRepository(self.session, self.scope)
