"""Routing a point to the units whose jurisdiction covers it (PostGIS, GiST index)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geography
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.organisation.model import Level, Placement, UnitRef
from app.domain.shared.geo import GeoPoint
from app.infra.db.engine import autocommit_factory
from app.infra.db.tables.organisation import org_units as u

# A point just outside a district (GPS error, a river bank) still goes to that district's
# queue; farther away it belongs to nobody.
NEAR_DISTRICT_M = 2000.0
# Coarse degree radius for the indexed pre-filter: more than NEAR_DISTRICT_M anywhere
# below 70° latitude.
_NEAR_DEGREES = 0.06

_GEOGRAPHY = Geography(srid=4326)

_DEPTH = sa.case(
    (u.c.level == Level.GRID.value, 3),
    (u.c.level == Level.COMMUNITY.value, 2),
    (u.c.level == Level.STATION.value, 1),
    else_=0,
)


def _point(point: GeoPoint) -> Any:
    return sa.func.ST_SetSRID(
        sa.func.ST_MakePoint(sa.literal(point.lon, sa.Float), sa.literal(point.lat, sa.Float)),
        4326,
    )


def _locate_statement(point: Any) -> sa.Select[Any]:
    """One statement: the deepest covering unit (ties on shared borders broken by the
    smaller code) joined with its community, station and district."""
    deepest = (
        sa.select(
            u.c.id, u.c.level, u.c.code, u.c.name, u.c.parent_id, u.c.station_id, u.c.district_id
        )
        .where(sa.func.ST_Covers(u.c.boundary, point))
        .order_by(_DEPTH.desc(), u.c.code)
        .limit(1)
        .subquery("deepest")
    )
    community_id = sa.case(
        (deepest.c.level == Level.GRID.value, deepest.c.parent_id),
        (deepest.c.level == Level.COMMUNITY.value, deepest.c.id),
    )
    district_id = sa.func.coalesce(
        deepest.c.district_id,
        sa.case((deepest.c.level == Level.DISTRICT.value, deepest.c.id)),
    )
    community, station, district = u.alias("c"), u.alias("s"), u.alias("d")
    return (
        sa.select(
            deepest.c.id,
            deepest.c.level,
            deepest.c.code,
            deepest.c.name,
            community.c.id.label("community_id"),
            community.c.code.label("community_code"),
            community.c.name.label("community_name"),
            station.c.id.label("station_id"),
            station.c.code.label("station_code"),
            station.c.name.label("station_name"),
            district.c.id.label("district_id"),
            district.c.code.label("district_code"),
            district.c.name.label("district_name"),
        )
        .select_from(deepest)
        .outerjoin(community, community.c.id == community_id)
        .outerjoin(station, station.c.id == deepest.c.station_id)
        .outerjoin(district, district.c.id == district_id)
    )


# Built once: every routed report runs it, and building and keying this statement costs
# several times what PostgreSQL needs to answer it (bench/RESULTS.md).
_LOCATE = _locate_statement(
    sa.func.ST_SetSRID(
        sa.func.ST_MakePoint(
            sa.bindparam("lon", type_=sa.Float), sa.bindparam("lat", type_=sa.Float)
        ),
        4326,
    )
)


def locate_query(point: GeoPoint) -> sa.Select[Any]:
    """The locate statement with this point bound (for EXPLAIN and tests)."""
    return _LOCATE.params(lon=point.lon, lat=point.lat)


def _ref(row: Any, prefix: str) -> UnitRef | None:
    unit_id: uuid.UUID | None = getattr(row, f"{prefix}_id")
    if unit_id is None:
        return None
    return UnitRef(unit_id, getattr(row, f"{prefix}_code"), getattr(row, f"{prefix}_name"))


class SqlJurisdictionLocator:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        near_district_m: float = NEAR_DISTRICT_M,
    ) -> None:
        # Read-only statements: no transaction round trips around them.
        self._sf = autocommit_factory(session_factory)
        self._near_m = near_district_m

    async def locate(self, point: GeoPoint) -> Placement:
        async with self._sf() as session:
            params = {"lon": point.lon, "lat": point.lat}
            row = (await session.execute(_LOCATE, params)).first()
            if row is None:
                return Placement.nowhere(await self._nearby_district(session, point))
        grid = UnitRef(row.id, row.code, row.name) if row.level == Level.GRID.value else None
        station = _ref(row, "station")
        community = _ref(row, "community")
        district = _ref(row, "district")
        return Placement(
            district_id=district.id if district else None,
            station_id=station.id if station else None,
            community_id=community.id if community else None,
            grid_id=grid.id if grid else None,
            outside=station is None,
            district=district,
            station=station,
            community=community,
            grid=grid,
        )

    async def _nearby_district(self, session: AsyncSession, point: GeoPoint) -> UnitRef | None:
        geom = _point(point)
        distance = sa.func.ST_Distance(sa.cast(u.c.boundary, _GEOGRAPHY), sa.cast(geom, _GEOGRAPHY))
        query = (
            sa.select(u.c.id, u.c.code, u.c.name)
            .where(
                u.c.level == Level.DISTRICT.value,
                sa.func.ST_DWithin(u.c.boundary, geom, _NEAR_DEGREES),
                distance <= self._near_m,
            )
            .order_by(distance, u.c.code)
            .limit(1)
        )
        row = (await session.execute(query)).first()
        return UnitRef(row.id, row.code, row.name) if row else None
