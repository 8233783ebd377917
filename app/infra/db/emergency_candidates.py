"""Dispatch candidates (KNN over last known locations and unit bases) in raw SQL.

``nearest_members`` is one statement of two bounded index walks, each materialised with
its own ``LIMIT`` so the plan is an ordered index walk whatever the planner guesses of the
filters after it (with the filters inside, it misjudged them and sorted every on-duty
row in the radius instead):

- located members: the nearest on-duty rows of ``ix_emergency_last_locations_on_duty``
  (``ORDER BY location <-> point``; ``on_duty_until > now`` implies the partial index's
  ``IS NOT NULL``), then, per row, at most one current membership of a unit of the
  district whose claimed capabilities hold every required one, within the radius
  (``ST_DWithin``), not excluded;
- members available by their unit's base (ad-hoc "available now") who have no on-duty
  last location: the nearest bases of the district (``ix_emergency_units_base``); a
  member available in several nearby units counts at the nearest base only.

A walk of ``limit × 4`` rows (at least 32) is usually enough; when the filters left
fewer than ``limit`` answers, the walk neither ran out of rows nor passed the radius, and
it has not gone past the ``limit``-th nearest answer of both parts together, it is walked
again four times as far (the statement reports how far each walk went).

The parts are disjoint (one needs an on-duty location row, the other its absence), so
each volunteer appears once; they are merged by distance here. Distances are geography
(spheroid) metres; the walk orders by ``<->`` (sphere), which can swap near-ties only.

Everything runs as single autocommit statements on the native pool (app/infra/db/raw.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.emergency.glossary import Capability
from app.domain.emergency.incident_ports import NearbyMember, NearbyUnit
from app.domain.shared.geo import GeoPoint
from app.infra.db import raw

_POINT = "ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326)::geography"

# A membership counts while the volunteer is still in the team (left_at IS NULL).
_CURRENT = """EXISTS (SELECT 1 FROM team_memberships t
                 WHERE t.team_id = {m}.unit_id AND t.volunteer_id = {m}.volunteer_id
                   AND t.left_at IS NULL)"""

_AVAILABLE = """({m}.available_until > $7
              AND ({m}.available_from IS NULL OR {m}.available_from <= $7))"""

# $1 lon, $2 lat, $3 district, $4 radius (m), $5 limit, $6 required text[], $7 now,
# $8 excluded volunteer ids, $9 located batch (index rows walked), $10 unit batch.
# The two walks are materialised with their own LIMIT so that the plan is an ordered
# index walk whatever the planner guesses of the filters after it. Each part reads its
# walk in order through a LATERAL nested loop (``OFFSET 0`` keeps the members' subquery
# from being flattened into a join the planner could reorder) and stops at ``LIMIT``:
# no sort above it, so the per-row look-ups end as soon as ``limit`` rows qualified (a
# CTE scan returns its rows in the order they were produced, a nested loop keeps its
# outer order). The last two rows report how far each walk went.
NEAREST_MEMBERS = f"""
WITH near AS MATERIALIZED (
    SELECT volunteer_id, location, location <-> {_POINT} AS d
    FROM emergency_last_locations
    WHERE on_duty_until > $7
    ORDER BY location <-> {_POINT}
    LIMIT $9),
bases AS MATERIALIZED (
    SELECT id, base, base <-> {_POINT} AS d
    FROM emergency_units
    WHERE district_id = $3
    ORDER BY base <-> {_POINT}
    LIMIT $10)
(SELECT l.volunteer_id, m.unit_id, m.capabilities,
        ST_Distance(l.location, {_POINT}) AS distance_m, true AS located, l.d AS walk
 FROM near l
 CROSS JOIN LATERAL (
     SELECT m.unit_id, m.capabilities
     FROM emergency_unit_members m
     JOIN emergency_units u ON u.id = m.unit_id
     WHERE m.volunteer_id = l.volunteer_id AND u.district_id = $3
       AND m.capabilities @> $6::text[]
       AND {_CURRENT.format(m="m")}
     ORDER BY {_AVAILABLE.format(m="m")} DESC NULLS LAST, m.unit_id
     LIMIT 1) m
 WHERE ST_DWithin(l.location, {_POINT}, $4::float8)
   AND l.volunteer_id <> ALL($8::uuid[])
 LIMIT $5)
UNION ALL
(SELECT m.volunteer_id, m.unit_id, m.capabilities,
        ST_Distance(u.base, {_POINT}) AS distance_m, false AS located, u.d AS walk
 FROM bases u
 CROSS JOIN LATERAL (
     SELECT m.volunteer_id, m.unit_id, m.capabilities
     FROM emergency_unit_members m
     WHERE m.unit_id = u.id
       AND {_AVAILABLE.format(m="m")}
       AND m.capabilities @> $6::text[]
       AND m.volunteer_id <> ALL($8::uuid[])
       AND {_CURRENT.format(m="m")}
       AND NOT EXISTS (SELECT 1 FROM emergency_last_locations l
                       WHERE l.volunteer_id = m.volunteer_id AND l.on_duty_until > $7)
       AND NOT EXISTS (
           SELECT 1 FROM emergency_unit_members m2
           JOIN emergency_units u2 ON u2.id = m2.unit_id
           WHERE m2.volunteer_id = m.volunteer_id AND m2.unit_id <> m.unit_id
             AND u2.district_id = $3 AND {_AVAILABLE.format(m="m2")}
             AND m2.capabilities @> $6::text[] AND {_CURRENT.format(m="m2")}
             AND (u2.base <-> {_POINT}, u2.id) < (u.d, u.id))
     OFFSET 0) m
 WHERE ST_DWithin(u.base, {_POINT}, $4::float8)
 LIMIT $5)
UNION ALL
SELECT NULL, NULL, NULL, (SELECT count(*) FROM near), NULL, (SELECT max(d) FROM near)
UNION ALL
SELECT NULL, NULL, NULL, (SELECT count(*) FROM bases), NULL, (SELECT max(d) FROM bases)
"""  # noqa: S608 - built from constants; values are $n parameters

# Walks start at this many index rows per wanted answer and grow fourfold while the
# filters after them (district, capability, membership, exclusions) left too few.
WALK_FACTOR = 4
MIN_WALK = 32
# ``<->`` on geography is the sphere's distance, the radius the spheroid's: a walk that
# passed the radius by this share has seen everything within it.
_SPHERE_SLACK = 1.01


# $1 lon, $2 lat, $3 district, $4 radius (m), $5 limit, $6 required text[], $7 now,
# $8 bases to walk. Like the members' walk: the district's bases nearest first, bounded by
# ``LIMIT $8`` and materialised, then the offers and radius filters (with the radius in the
# walk's WHERE the planner took a bitmap scan of every base within it plus a sort: 36 ms
# at 100,000 units instead of 2). On-duty counts only for the units answered. The last row
# reports how far the walk went (count, farthest).
NEAREST_UNITS = f"""
WITH walk AS MATERIALIZED (
    SELECT id, station_id, offers, base, base <-> {_POINT} AS d
    FROM emergency_units
    WHERE district_id = $3
    ORDER BY base <-> {_POINT}
    LIMIT $8)
(SELECT u.id, u.station_id, u.offers, ST_Distance(u.base, {_POINT}) AS distance_m,
       (SELECT count(*) FROM emergency_unit_members m
        WHERE m.unit_id = u.id AND {_CURRENT.format(m="m")}
          AND ({_AVAILABLE.format(m="m")}
               OR EXISTS (SELECT 1 FROM emergency_last_locations l
                          WHERE l.volunteer_id = m.volunteer_id
                            AND l.on_duty_until > $7))) AS on_duty,
       u.d AS walk
 FROM walk u
 WHERE u.offers @> $6::text[] AND ST_DWithin(u.base, {_POINT}, $4::float8)
 ORDER BY u.d
 LIMIT $5)
UNION ALL
SELECT NULL, NULL, NULL, (SELECT count(*) FROM walk), NULL, (SELECT max(d) FROM walk)
"""  # noqa: S608 - built from constants; values are $n parameters  # noqa: S608

_DISTRICTS_OF = """
SELECT DISTINCT district_id FROM org_units
WHERE id = ANY($1::uuid[]) AND district_id IS NOT NULL
"""


def _capabilities(values: Sequence[str]) -> frozenset[Capability]:
    known = {c.value for c in Capability}
    return frozenset(Capability(v) for v in values if v in known)


def member_args(
    point: GeoPoint,
    *,
    district_id: uuid.UUID,
    radius_m: int,
    limit: int,
    required: frozenset[Capability],
    now: datetime,
    exclude: Collection[uuid.UUID] = (),
    walk: tuple[int, int] | None = None,
) -> list[Any]:
    """The arguments of ``NEAREST_MEMBERS`` in placeholder order (also for the bench);
    ``walk``: (located rows, units) to walk, by default the first round's."""
    first = max(limit * WALK_FACTOR, MIN_WALK)
    located, units = walk or (first, first)
    return [
        float(point.lon),
        float(point.lat),
        district_id,
        float(radius_m),
        limit,
        sorted(c.value for c in required),
        now,
        list(exclude),
        located,
        units,
    ]


Fetch = Callable[..., Awaitable[Sequence[Any]]]


def _complete(
    found: int, walked: int, batch: int, farthest: float | None, limit: int, radius_m: int
) -> bool:
    """Whether a walk has seen every candidate that can be among the nearest ``limit``."""
    return (
        found >= limit
        or walked < batch
        or (farthest is not None and farthest > radius_m * _SPHERE_SLACK)
    )


async def find_members(
    fetch: Fetch,
    point: GeoPoint,
    *,
    district_id: uuid.UUID,
    radius_m: int,
    limit: int,
    required: frozenset[Capability],
    now: datetime,
    exclude: Collection[uuid.UUID] = (),
) -> tuple[list[NearbyMember], int]:
    """The nearest members and the number of statements it took (walks grow fourfold
    until each part is complete)."""
    first = max(limit * WALK_FACTOR, MIN_WALK)
    walk = [first, first]
    rounds = 0
    while True:
        rounds += 1
        rows = await fetch(
            NEAREST_MEMBERS,
            *member_args(
                point,
                district_id=district_id,
                radius_m=radius_m,
                limit=limit,
                required=required,
                now=now,
                exclude=exclude,
                walk=(walk[0], walk[1]),
            ),
        )
        found = [r for r in rows if r["volunteer_id"] is not None]
        near_meta, base_meta = rows[-2], rows[-1]
        # The limit-th nearest found so far, over both parts: a part whose walk went past
        # it cannot hold anyone nearer, however few of its own rows passed the filters.
        distances = sorted(float(r["distance_m"]) for r in found)
        kth = distances[limit - 1] if len(distances) >= limit else None
        done = [
            _complete(
                sum(1 for r in found if r["located"] is flag),
                int(meta["distance_m"]),
                walk[i],
                meta["walk"],
                limit,
                radius_m,
            )
            or (
                kth is not None
                and meta["walk"] is not None
                and float(meta["walk"]) >= kth * _SPHERE_SLACK
            )
            for i, (flag, meta) in enumerate(((True, near_meta), (False, base_meta)))
        ]
        if all(done):
            break
        walk = [w if d else w * WALK_FACTOR for w, d in zip(walk, done, strict=True)]
    members = [
        NearbyMember(
            volunteer_id=uuid.UUID(str(r["volunteer_id"])),
            unit_id=uuid.UUID(str(r["unit_id"])),
            distance_m=float(r["distance_m"]),
            capabilities=_capabilities(r["capabilities"]),
            located=bool(r["located"]),
        )
        for r in found
    ]
    members.sort(key=lambda m: (m.distance_m, not m.located, m.volunteer_id))
    return members[:limit], rounds


def unit_args(
    point: GeoPoint,
    *,
    district_id: uuid.UUID,
    radius_m: int,
    limit: int,
    required: frozenset[Capability],
    now: datetime,
    walk: int | None = None,
) -> list[Any]:
    """The arguments of ``NEAREST_UNITS`` in placeholder order (also for the bench)."""
    return [
        float(point.lon),
        float(point.lat),
        district_id,
        float(radius_m),
        limit,
        sorted(c.value for c in required),
        now,
        walk or max(limit * WALK_FACTOR, MIN_WALK),
    ]


async def find_units(
    fetch: Fetch,
    point: GeoPoint,
    *,
    district_id: uuid.UUID,
    radius_m: int,
    limit: int,
    required: frozenset[Capability],
    now: datetime,
) -> tuple[list[Any], int]:
    """The nearest units' rows and the number of statements it took (the walk grows
    fourfold until it has ``limit`` answers, ran out of bases or passed the radius)."""
    walk = max(limit * WALK_FACTOR, MIN_WALK)
    rounds = 0
    while True:
        rounds += 1
        rows = await fetch(
            NEAREST_UNITS,
            *unit_args(
                point,
                district_id=district_id,
                radius_m=radius_m,
                limit=limit,
                required=required,
                now=now,
                walk=walk,
            ),
        )
        found, meta = list(rows[:-1]), rows[-1]
        if _complete(len(found), int(meta["distance_m"]), walk, meta["walk"], limit, radius_m):
            return found, rounds
        walk *= WALK_FACTOR


class SqlCandidateFinder:
    """``CandidateFinder`` on single autocommit statements (or, built with ``on``, on a
    session's own transaction)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._single: raw.Autocommit | None = raw.Autocommit.of(session_factory)
        self._session: AsyncSession | None = None

    @classmethod
    def on(cls, session: AsyncSession) -> SqlCandidateFinder:
        """A finder whose statements run in ``session`` (inside a unit of work)."""
        finder = cls.__new__(cls)
        finder._single = None
        finder._session = session
        return finder

    async def _fetch(self, sql: str, *args: Any) -> Sequence[Any]:
        if self._single is not None:
            return await self._single.fetch(sql, *args)
        assert self._session is not None
        return await raw.fetch(self._session, sql, *args)

    async def nearest_members(
        self,
        point: GeoPoint,
        *,
        district_id: uuid.UUID,
        radius_m: int,
        limit: int,
        required: frozenset[Capability],
        now: datetime,
        exclude: Collection[uuid.UUID] = (),
    ) -> list[NearbyMember]:
        members, _ = await find_members(
            self._fetch,
            point,
            district_id=district_id,
            radius_m=radius_m,
            limit=limit,
            required=required,
            now=now,
            exclude=exclude,
        )
        return members

    async def nearest_units(
        self,
        point: GeoPoint,
        *,
        district_id: uuid.UUID,
        radius_m: int,
        limit: int,
        required: frozenset[Capability],
        now: datetime,
    ) -> list[NearbyUnit]:
        rows, _ = await find_units(
            self._fetch,
            point,
            district_id=district_id,
            radius_m=radius_m,
            limit=limit,
            required=required,
            now=now,
        )
        return [
            NearbyUnit(
                unit_id=uuid.UUID(str(r["id"])),
                station_id=uuid.UUID(str(r["station_id"])),
                distance_m=float(r["distance_m"]),
                offers=_capabilities(r["offers"]),
                on_duty=int(r["on_duty"]),
            )
            for r in rows
        ]

    async def districts_of(self, station_ids: Collection[uuid.UUID]) -> frozenset[uuid.UUID]:
        """The districts of these stations (``StationDistricts``)."""
        if not station_ids:
            return frozenset()
        rows = await self._fetch(_DISTRICTS_OF, list(station_ids))
        return frozenset(uuid.UUID(str(r["district_id"])) for r in rows)
