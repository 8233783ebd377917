"""Routing from an in-process copy of the organisation tree, kept honest by NOTIFY.

Every report (tip, hazard, help request) is routed by locating its point; on the database
that is a statement of its own per report, whose round trip cost more than the answer
(bench/RESULTS.md: ~0.1 ms of the server's CPU and ~0.1 ms of PostgreSQL's per tip). The
tree changes rarely (imports, boundary edits), so each process keeps a copy: the units
with their boundaries in an STRtree (shapely, the same GEOS predicates as PostGIS).

The copy is only trusted while the process's NOTIFY listener is connected: migration 0015
makes every change to ``org_units`` announce itself (``*`` on ``shouwang_principals``)
at commit, and the principal cache that listens tells this cache to forget its copy on
that, on losing the listener and on a new one (``TreeWatch``). Without a listener, and
while a copy is being loaded in the background, points are located by the database, as
are the cases where the copy could disagree with it:

- no unit covers the point (the nearest-district search belongs to the database, and a
  unit added since the copy was taken is found there);
- two units of the deepest level cover it (a shared border: the database breaks the tie
  by code in its collation).

A copy loaded while an invalidation happened is thrown away (generation counter).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import shapely
import structlog

from app.domain.organisation.model import Level, Placement, UnitRef
from app.domain.organisation.ports import JurisdictionLocator
from app.domain.shared.geo import GeoPoint
from app.infra.db import raw

log = structlog.get_logger("shouwang.organisation")

_RANK = {Level.GRID.value: 3, Level.COMMUNITY.value: 2, Level.STATION.value: 1}

_LOAD = """
SELECT id, level, code, name, parent_id, station_id, district_id,
       ST_AsBinary(boundary) AS boundary
FROM org_units
"""


class TreeWatch(Protocol):
    """What tells the cache whether its copy can be current (the NOTIFY listener)."""

    @property
    def listening(self) -> bool: ...

    def ensure_listening(self) -> None:
        """Start connecting in the background if not connected."""

    def on_reset(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever what was read before may have changed."""


@dataclass(frozen=True, slots=True)
class _Unit:
    ref: UnitRef
    level: str
    parent_id: uuid.UUID | None
    station_id: uuid.UUID | None
    district_id: uuid.UUID | None


class OrgTree:
    """A copy of ``org_units``: the deepest unit covering a point, as the locate statement
    would answer it (``placement_of``), or None where the database must decide."""

    def __init__(self, rows: Sequence[Any]) -> None:
        self._units = {
            row["id"]: _Unit(
                UnitRef(row["id"], row["code"], row["name"]),
                row["level"],
                row["parent_id"],
                row["station_id"],
                row["district_id"],
            )
            for row in rows
        }
        self._order = [row["id"] for row in rows]
        # Prepared (GEOS indexes their edges): a point is tested against the candidates the
        # tree's boxes give, with ``covers`` on the prepared boundaries, which the tree's
        # own ``covered_by`` predicate (preparing the point) cannot use.
        self._boundaries = shapely.from_wkb([bytes(row["boundary"]) for row in rows])
        shapely.prepare(self._boundaries)
        self._tree = shapely.STRtree(self._boundaries)

    def __len__(self) -> int:
        return len(self._order)

    def locate(self, point: GeoPoint) -> Placement | None:
        at = shapely.points((point.lon, point.lat))
        candidates = self._tree.query(at)
        hits = candidates[shapely.covers(self._boundaries[candidates], at)]
        if len(hits) == 0:
            return None
        units = [self._units[self._order[i]] for i in hits]
        depth = max(_RANK.get(u.level, 0) for u in units)
        deepest = [u for u in units if _RANK.get(u.level, 0) == depth]
        if len(deepest) != 1:
            return None
        return self._placement(deepest[0])

    def _ref(self, unit_id: uuid.UUID | None) -> UnitRef | None:
        unit = self._units.get(unit_id) if unit_id is not None else None
        return unit.ref if unit is not None else None

    def _placement(self, unit: _Unit) -> Placement:
        level = unit.level
        grid = unit.ref if level == Level.GRID.value else None
        community_id = (
            unit.parent_id
            if level == Level.GRID.value
            else unit.ref.id
            if level == Level.COMMUNITY.value
            else None
        )
        district_id = unit.district_id or (unit.ref.id if level == Level.DISTRICT.value else None)
        return Placement.covering(
            self._ref(district_id), self._ref(unit.station_id), self._ref(community_id), grid
        )


class CachedJurisdictionLocator:
    """``JurisdictionLocator`` answering from an ``OrgTree`` while ``TreeWatch`` keeps it
    current, and from ``inner`` (the database) otherwise."""

    def __init__(self, inner: JurisdictionLocator, single: raw.Autocommit) -> None:
        self._inner = inner
        self._single = single
        self._watch: TreeWatch | None = None
        self._tree: OrgTree | None = None
        self._generation = 0
        self._loading: asyncio.Task[None] | None = None

    def follow(self, watch: TreeWatch) -> None:
        """Trust copies while ``watch`` listens (until then, every point goes to ``inner``)."""
        self._watch = watch
        watch.on_reset(self.forget)

    def forget(self) -> None:
        self._generation += 1
        self._tree = None

    @property
    def tree(self) -> OrgTree | None:
        """The copy in use (None: locating on the database)."""
        return self._tree

    async def locate(self, point: GeoPoint) -> Placement:
        placement = self._cached(point)
        if placement is not None:
            return placement
        return await self._inner.locate(point)

    def _cached(self, point: GeoPoint) -> Placement | None:
        watch = self._watch
        if watch is None:
            return None
        if not watch.listening:
            watch.ensure_listening()
            return None
        tree = self._tree
        if tree is None:
            self._start_loading()
            return None
        return tree.locate(point)

    async def load_now(self) -> bool:
        """Load a copy now (tests, warm-up); whether one is in use afterwards."""
        self._start_loading()
        task = self._loading
        if task is not None:
            await asyncio.shield(task)
        return self._tree is not None

    def _start_loading(self) -> None:
        if self._loading is None:
            self._loading = asyncio.get_running_loop().create_task(self._load())

    async def _load(self) -> None:
        try:
            generation = self._generation
            rows = await self._single.fetch(_LOAD)
            tree = await asyncio.to_thread(OrgTree, rows)
            watch = self._watch
            if generation == self._generation and watch is not None and watch.listening:
                self._tree = tree
        except Exception as exc:  # the database will answer meanwhile; next locate retries
            log.warning("organisation tree not loaded", error=type(exc).__name__)
        finally:
            self._loading = None
