"""Routing a point to the units whose jurisdiction covers it (PostGIS, GiST index)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geography
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.organisation.model import Level, Placement, UnitRef
from app.domain.shared.geo import GeoPoint
from app.infra.db import raw
from app.infra.db.engine import autocommit_factory
from app.infra.db.tables.organisation import org_units as u

# A point just outside a district (GPS error, a river bank) still goes to that district's
# queue; farther away it belongs to nobody.
NEAR_DISTRICT_M = 2000.0
# Coarse degree radius for the indexed pre-filter: more than NEAR_DISTRICT_M anywhere
# below 70° latitude.
_NEAR_DEGREES = 0.06

_GEOGRAPHY = Geography(srid=4326)


def _point(point: GeoPoint) -> Any:
    return sa.func.ST_SetSRID(
        sa.func.ST_MakePoint(sa.literal(point.lon, sa.Float), sa.literal(point.lat, sa.Float)),
        4326,
    )


# One statement: the deepest covering unit (ties on shared borders broken by the smaller
# code) joined with its community, station and district. Every routed report runs it, on
# the driver connection (app/infra/db/raw.py): building and keying it through SQLAlchemy
# cost several times what PostgreSQL needs to answer it (bench/RESULTS.md).
def locate_text(lon: str, lat: str) -> str:
    """The locate statement with these placeholders for the point (``$n::float8``)."""
    return f"""
SELECT deepest.id, deepest.level, deepest.code, deepest.name,
       c.id AS community_id, c.code AS community_code, c.name AS community_name,
       s.id AS station_id, s.code AS station_code, s.name AS station_name,
       d.id AS district_id, d.code AS district_code, d.name AS district_name
FROM (SELECT id, level, code, name, parent_id, station_id, district_id
      FROM org_units
      WHERE ST_Covers(boundary, ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326))
      ORDER BY CASE level WHEN 'grid' THEN 3 WHEN 'community' THEN 2
                          WHEN 'station' THEN 1 ELSE 0 END DESC, code
      LIMIT 1) AS deepest
LEFT JOIN org_units c ON c.id = CASE WHEN deepest.level = 'grid' THEN deepest.parent_id
                                     WHEN deepest.level = 'community' THEN deepest.id END
LEFT JOIN org_units s ON s.id = deepest.station_id
LEFT JOIN org_units d ON d.id = coalesce(deepest.district_id,
                                         CASE WHEN deepest.level = 'district' THEN deepest.id END)
"""  # noqa: S608 - constants and $n


_LOCATE = locate_text("$1::float8", "$2::float8")


def locate_sql(point: GeoPoint) -> str:
    """The locate statement with this point written in (for EXPLAIN in tests and bench)."""
    return _LOCATE.replace("$1::float8", repr(float(point.lon))).replace(
        "$2::float8", repr(float(point.lat))
    )


def _ref(row: Any, prefix: str) -> UnitRef | None:
    unit_id: uuid.UUID | None = row[f"{prefix}_id"]
    if unit_id is None:
        return None
    return UnitRef(unit_id, row[f"{prefix}_code"], row[f"{prefix}_name"])


def placement_of(row: Any) -> Placement:
    """The placement a row of the locate statement names (one unit covers the point)."""
    grid = UnitRef(row["id"], row["code"], row["name"]) if row["level"] == "grid" else None
    return Placement.covering(
        _ref(row, "district"), _ref(row, "station"), _ref(row, "community"), grid
    )


class SqlJurisdictionLocator:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        near_district_m: float = NEAR_DISTRICT_M,
    ) -> None:
        # Read-only statements: no transaction round trips around them.
        self._sf = autocommit_factory(session_factory)
        self._single = raw.Autocommit.of(session_factory)
        self._near_m = near_district_m

    async def locate(self, point: GeoPoint) -> Placement:
        row = await self._single.fetchrow(_LOCATE, point.lon, point.lat)
        if row is None:
            async with self._sf() as session:
                return Placement.nowhere(await self._nearby_district(session, point))
        return placement_of(row)

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
