"""Repositories of the organisation context and its unit of work.

Visibility of units (SQL twin of the rules in the domain docs): station-bound callers see
their station, its communities and grids, and their district as a parent reference;
district callers see every unit of their district. Watch points follow ``station_scope``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.organisation.model import Level, OrgUnit, Slice, WatchPoint, WatchPointCodeTaken
from app.domain.organisation.ports import UnitFilter, WatchPointFilter
from app.domain.shared.clock import Clock
from app.domain.shared.errors import StaleVersion
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Scope
from app.infra.db.scoping import station_scope
from app.infra.db.tables.organisation import org_units as u
from app.infra.db.tables.organisation import watch_points as w
from app.infra.db.uow import SqlUnitOfWork

_UNIT_COLUMNS = (
    u.c.id,
    u.c.level,
    u.c.code,
    u.c.name,
    u.c.parent_id,
    u.c.district_id,
    u.c.station_id,
    u.c.version,
    u.c.created_at,
    u.c.updated_at,
)


def unit_scope(scope: Scope) -> sa.ColumnElement[bool]:
    if scope.unrestricted:
        return sa.true()
    clauses: list[sa.ColumnElement[bool]] = []
    if scope.station_ids:
        stations = list(scope.station_ids)
        own = u.alias("own_station")
        clauses.append(u.c.station_id.in_(stations))
        # The district above the caller's station, as a parent reference only.
        clauses.append(
            sa.and_(
                u.c.level == Level.DISTRICT.value,
                u.c.id.in_(sa.select(own.c.district_id).where(own.c.id.in_(stations))),
            )
        )
    if scope.district_ids:
        districts = list(scope.district_ids)
        clauses.append(u.c.district_id.in_(districts))
        clauses.append(u.c.id.in_(districts))
    return sa.or_(*clauses) if clauses else sa.false()


def point_wkt(point: GeoPoint) -> str:
    return f"SRID=4326;POINT({point.lon!r} {point.lat!r})"


def geography(point: GeoPoint) -> Any:
    """A WGS-84 point as a PostGIS geography value (for inserts and distance filters)."""
    return sa.func.ST_GeogFromText(point_wkt(point))


def lon_lat(column: Any, prefix: str = "") -> tuple[Any, Any]:
    """The ``{prefix}lon`` and ``{prefix}lat`` columns of a geography point column."""
    geometry = sa.cast(column, Geometry(srid=4326))
    return (
        sa.func.ST_X(geometry, type_=sa.Float).label(f"{prefix}lon"),
        sa.func.ST_Y(geometry, type_=sa.Float).label(f"{prefix}lat"),
    )


def _unit(row: Any, with_boundary: bool) -> OrgUnit:
    boundary = to_shape(row.boundary) if with_boundary and row.boundary is not None else None
    return OrgUnit(
        id=row.id,
        level=Level(row.level),
        code=row.code,
        name=row.name,
        parent_id=row.parent_id,
        district_id=row.district_id,
        station_id=row.station_id,
        version=row.version,
        boundary=boundary,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlOrgUnitRepository:
    def __init__(self, session: AsyncSession, scope: Scope, clock: Clock) -> None:
        self.session = session
        self.scope = scope
        self.clock = clock

    def _select(self, with_boundary: bool) -> sa.Select[Any]:
        columns: list[Any] = list(_UNIT_COLUMNS)
        if with_boundary:
            columns.append(u.c.boundary)
        return sa.select(*columns).where(unit_scope(self.scope))

    async def get(self, unit_id: uuid.UUID, *, with_boundary: bool = False) -> OrgUnit | None:
        row = (
            await self.session.execute(self._select(with_boundary).where(u.c.id == unit_id))
        ).first()
        return _unit(row, with_boundary) if row else None

    async def page(
        self,
        where: UnitFilter,
        *,
        limit: int,
        after: uuid.UUID | None = None,
        with_boundary: bool = False,
    ) -> Slice[OrgUnit]:
        query = self._select(with_boundary)
        if where.level is not None:
            query = query.where(u.c.level == where.level.value)
        if where.parent_id is not None:
            query = query.where(u.c.parent_id == where.parent_id)
        if after is not None:
            query = query.where(u.c.id < after)
        rows = (await self.session.execute(query.order_by(u.c.id.desc()).limit(limit + 1))).all()
        return Slice([_unit(r, with_boundary) for r in rows[:limit]], len(rows) > limit)

    async def by_ids(
        self, ids: Iterable[uuid.UUID], *, with_boundary: bool = False
    ) -> list[OrgUnit]:
        wanted = list(set(ids))
        if not wanted:
            return []
        query = self._select(with_boundary).where(u.c.id.in_(wanted))
        return [_unit(r, with_boundary) for r in (await self.session.execute(query)).all()]

    async def by_codes(self, codes: Iterable[str]) -> dict[str, OrgUnit]:
        wanted = list(set(codes))
        if not wanted:
            return {}
        rows = (await self.session.execute(self._select(True).where(u.c.code.in_(wanted)))).all()
        return {r.code: _unit(r, True) for r in rows}

    async def stations_of(self, district_ids: Iterable[uuid.UUID]) -> list[OrgUnit]:
        wanted = list(set(district_ids))
        if not wanted:
            return []
        query = self._select(True).where(
            u.c.level == Level.STATION.value, u.c.district_id.in_(wanted)
        )
        return [_unit(r, True) for r in (await self.session.execute(query)).all()]

    async def add_all(self, units: list[OrgUnit]) -> None:
        now = self.clock.now()
        for level in Level:  # parents first: each level's rows reference the one above
            rows = [
                {
                    "id": unit.id,
                    "level": unit.level.value,
                    "code": unit.code,
                    "name": unit.name,
                    "parent_id": unit.parent_id,
                    "district_id": unit.district_id,
                    "station_id": unit.station_id,
                    "boundary": from_shape(unit.boundary, srid=4326),
                    "version": unit.version,
                    "created_at": now,
                    "updated_at": now,
                }
                for unit in units
                if unit.level is level
            ]
            if rows:
                await self.session.execute(sa.insert(u), rows)

    async def update_shape(self, unit: OrgUnit) -> None:
        result = await self.session.execute(
            sa.update(u)
            .where(u.c.id == unit.id, u.c.version == unit.version - 1)
            .values(
                name=unit.name,
                boundary=from_shape(unit.boundary, srid=4326),
                version=unit.version,
                updated_at=self.clock.now(),
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleVersion()


def _as_geometry(column: Any) -> Any:
    return sa.cast(column, Geometry(srid=4326))


_POINT_COLUMNS = (
    w.c.id,
    w.c.code,
    w.c.name,
    sa.func.ST_X(_as_geometry(w.c.location), type_=sa.Float).label("lon"),
    sa.func.ST_Y(_as_geometry(w.c.location), type_=sa.Float).label("lat"),
    w.c.radius_m,
    w.c.district_id,
    w.c.station_id,
    w.c.community_id,
    w.c.grid_id,
    w.c.qr_token,
    w.c.active,
    w.c.created_by,
    w.c.version,
    w.c.created_at,
    w.c.updated_at,
)


def _point(row: Any) -> WatchPoint:
    return WatchPoint(
        id=row.id,
        code=row.code,
        name=row.name,
        location=GeoPoint(row.lon, row.lat),
        radius_m=row.radius_m,
        district_id=row.district_id,
        station_id=row.station_id,
        community_id=row.community_id,
        grid_id=row.grid_id,
        qr_token=row.qr_token,
        active=row.active,
        version=row.version,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlWatchPointRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def _select(self) -> sa.Select[Any]:
        return sa.select(*_POINT_COLUMNS).where(
            station_scope(w.c.station_id, w.c.district_id, self.scope)
        )

    async def get(self, watch_point_id: uuid.UUID) -> WatchPoint | None:
        row = (await self.session.execute(self._select().where(w.c.id == watch_point_id))).first()
        return _point(row) if row else None

    async def page(
        self, where: WatchPointFilter, *, limit: int, after: uuid.UUID | None = None
    ) -> Slice[WatchPoint]:
        query = self._select()
        if where.station_id is not None:
            query = query.where(w.c.station_id == where.station_id)
        if where.grid_id is not None:
            query = query.where(w.c.grid_id == where.grid_id)
        if where.active is not None:
            query = query.where(w.c.active.is_(where.active))
        if where.near is not None:
            radius = where.radius_m if where.radius_m is not None else 500.0
            query = query.where(sa.func.ST_DWithin(w.c.location, geography(where.near), radius))
        if after is not None:
            query = query.where(w.c.id < after)
        rows = (await self.session.execute(query.order_by(w.c.id.desc()).limit(limit + 1))).all()
        return Slice([_point(r) for r in rows[:limit]], len(rows) > limit)

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> list[WatchPoint]:
        wanted = list(set(ids))
        if not wanted:
            return []
        rows = (await self.session.execute(self._select().where(w.c.id.in_(wanted)))).all()
        return [_point(r) for r in rows]

    async def code_taken(self, code: str) -> bool:
        # Deliberately unscoped: codes are unique across the installation.
        found = await self.session.execute(sa.select(w.c.id).where(w.c.code == code).limit(1))
        return found.first() is not None

    async def add(self, point: WatchPoint) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    sa.insert(w).values(
                        id=point.id,
                        code=point.code,
                        name=point.name,
                        location=geography(point.location),
                        radius_m=point.radius_m,
                        district_id=point.district_id,
                        station_id=point.station_id,
                        community_id=point.community_id,
                        grid_id=point.grid_id,
                        qr_token=point.qr_token,
                        active=point.active,
                        created_by=point.created_by,
                        version=point.version,
                        created_at=point.created_at,
                        updated_at=point.updated_at,
                    )
                )
        except IntegrityError as exc:
            if "uq_watch_points_code" in str(exc.orig):
                raise WatchPointCodeTaken() from None
            raise

    async def save(self, point: WatchPoint, expected_version: int) -> None:
        result = await self.session.execute(
            sa.update(w)
            .where(
                w.c.id == point.id,
                w.c.version == expected_version,
                station_scope(w.c.station_id, w.c.district_id, self.scope),
            )
            .values(
                name=point.name,
                location=geography(point.location),
                radius_m=point.radius_m,
                district_id=point.district_id,
                station_id=point.station_id,
                community_id=point.community_id,
                grid_id=point.grid_id,
                active=point.active,
                version=expected_version + 1,
                updated_at=point.updated_at,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleVersion()
        point.version = expected_version + 1


class SqlOrgUnitDirectory:
    """Unscoped look-ups for other contexts and operator commands (``OrgUnitDirectory``)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sf = session_factory

    async def by_code(self, code: str) -> OrgUnit | None:
        async with self._sf() as session:
            row = (await session.execute(sa.select(*_UNIT_COLUMNS).where(u.c.code == code))).first()
        return _unit(row, False) if row else None

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, OrgUnit]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        async with self._sf() as session:
            rows = (
                await session.execute(sa.select(*_UNIT_COLUMNS).where(u.c.id.in_(wanted)))
            ).all()
        return {r.id: _unit(r, False) for r in rows}


class SqlWatchPointDirectory:
    """Unscoped look-ups of watch points for other contexts (``WatchPointDirectory``)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sf = session_factory

    async def by_qr_token(self, token: str) -> WatchPoint | None:
        async with self._sf() as session:
            query = sa.select(*_POINT_COLUMNS).where(w.c.qr_token == token)
            row = (await session.execute(query)).first()
        return _point(row) if row else None

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, WatchPoint]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        async with self._sf() as session:
            query = sa.select(*_POINT_COLUMNS).where(w.c.id.in_(wanted))
            rows = (await session.execute(query)).all()
        return {r.id: _point(r) for r in rows}


class SqlOrganisationUnitOfWork(SqlUnitOfWork):
    org_units: SqlOrgUnitRepository
    watch_points: SqlWatchPointRepository

    def _open_repositories(self) -> None:
        self.org_units = SqlOrgUnitRepository(self.session, self.scope, self.clock)
        self.watch_points = SqlWatchPointRepository(self.session, self.scope)
