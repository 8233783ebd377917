"""In-memory fakes of the organisation ports, for unit tests of entities and services.

They apply the same visibility rules as the SQL repositories, in Python."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from types import TracebackType
from typing import Any, Self

from shapely.geometry import Point

from app.domain.organisation.model import (
    Level,
    OrgUnit,
    Placement,
    Slice,
    WatchPoint,
    WatchPointCodeTaken,
)
from app.domain.organisation.ports import UnitFilter, WatchPointFilter
from app.domain.organisation.services import (
    JurisdictionImportService,
    OrgUnitService,
    WatchPointService,
)
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import StaleVersion
from app.domain.shared.events import DomainEvent
from app.domain.shared.geo import GeoPoint, distance_m
from app.domain.shared.scope import Scope


class OrgStore:
    """What the fakes share: the "database"."""

    def __init__(self) -> None:
        self.units: dict[uuid.UUID, OrgUnit] = {}
        self.points: dict[uuid.UUID, WatchPoint] = {}
        self.audits: list[tuple[str, str, uuid.UUID | None, dict[str, Any]]] = []
        self.events: list[DomainEvent] = []
        self.commits = 0

    def unit(self, code: str) -> OrgUnit:
        return next(u for u in self.units.values() if u.code == code)


def sees_unit(scope: Scope, unit: OrgUnit, units: dict[uuid.UUID, OrgUnit]) -> bool:
    if scope.unrestricted:
        return True
    if unit.station_id is not None and unit.station_id in scope.station_ids:
        return True
    if unit.level is Level.DISTRICT and any(
        units[s].district_id == unit.id for s in scope.station_ids if s in units
    ):
        return True
    return unit.district_id in scope.district_ids or unit.id in scope.district_ids


def _copy(unit: OrgUnit, with_boundary: bool) -> OrgUnit:
    return replace(unit, boundary=unit.boundary if with_boundary else None)


class FakeOrgUnits:
    def __init__(self, store: OrgStore, scope: Scope) -> None:
        self.store, self.scope = store, scope

    def _visible(self) -> list[OrgUnit]:
        return [u for u in self.store.units.values() if sees_unit(self.scope, u, self.store.units)]

    async def get(self, unit_id: uuid.UUID, *, with_boundary: bool = False) -> OrgUnit | None:
        found = [u for u in self._visible() if u.id == unit_id]
        return _copy(found[0], with_boundary) if found else None

    async def page(
        self,
        where: UnitFilter,
        *,
        limit: int,
        after: uuid.UUID | None = None,
        with_boundary: bool = False,
    ) -> Slice[OrgUnit]:
        rows = sorted(
            (
                u
                for u in self._visible()
                if (where.level is None or u.level is where.level)
                and (where.parent_id is None or u.parent_id == where.parent_id)
                and (after is None or u.id < after)
            ),
            key=lambda u: u.id,
            reverse=True,
        )
        return Slice([_copy(u, with_boundary) for u in rows[:limit]], len(rows) > limit)

    async def by_ids(
        self, ids: Iterable[uuid.UUID], *, with_boundary: bool = False
    ) -> list[OrgUnit]:
        wanted = set(ids)
        return [_copy(u, with_boundary) for u in self._visible() if u.id in wanted]

    async def by_codes(self, codes: Iterable[str]) -> dict[str, OrgUnit]:
        wanted = set(codes)
        return {u.code: _copy(u, True) for u in self._visible() if u.code in wanted}

    async def stations_of(self, district_ids: Iterable[uuid.UUID]) -> list[OrgUnit]:
        wanted = set(district_ids)
        return [
            _copy(u, True)
            for u in self._visible()
            if u.level is Level.STATION and u.district_id in wanted
        ]

    async def add_all(self, units: list[OrgUnit]) -> None:
        for unit in units:
            assert unit.parent_id is None or unit.parent_id in self.store.units, "parents first"
            assert unit.code not in {u.code for u in self.store.units.values()}, "unique code"
            self.store.units[unit.id] = _copy(unit, True)

    async def update_shape(self, unit: OrgUnit) -> None:
        stored = self.store.units[unit.id]
        if stored.version != unit.version - 1:
            raise StaleVersion()
        self.store.units[unit.id] = _copy(unit, True)


class FakeWatchPoints:
    def __init__(self, store: OrgStore, scope: Scope) -> None:
        self.store, self.scope = store, scope

    def _visible(self) -> list[WatchPoint]:
        return [
            p
            for p in self.store.points.values()
            if self.scope.sees_station(p.station_id, p.district_id)
        ]

    async def get(self, watch_point_id: uuid.UUID) -> WatchPoint | None:
        found = [p for p in self._visible() if p.id == watch_point_id]
        return replace(found[0], changes={}) if found else None

    async def page(
        self, where: WatchPointFilter, *, limit: int, after: uuid.UUID | None = None
    ) -> Slice[WatchPoint]:
        def keep(p: WatchPoint) -> bool:
            return (
                (where.station_id is None or p.station_id == where.station_id)
                and (where.grid_id is None or p.grid_id == where.grid_id)
                and (where.active is None or p.active is where.active)
                and (
                    where.near is None
                    or distance_m(p.location, where.near) <= (where.radius_m or 500)
                )
                and (after is None or p.id < after)
            )

        rows = sorted(filter(keep, self._visible()), key=lambda p: p.id, reverse=True)
        return Slice(rows[:limit], len(rows) > limit)

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> list[WatchPoint]:
        wanted = set(ids)
        return [p for p in self._visible() if p.id in wanted]

    async def code_taken(self, code: str) -> bool:
        return any(p.code == code for p in self.store.points.values())

    async def add(self, point: WatchPoint) -> None:
        if await self.code_taken(point.code):
            raise WatchPointCodeTaken()
        self.store.points[point.id] = replace(point, changes={})

    async def save(self, point: WatchPoint, expected_version: int) -> None:
        stored = self.store.points.get(point.id)
        if stored is None or stored.version != expected_version:
            raise StaleVersion()
        point.version = expected_version + 1
        self.store.points[point.id] = replace(point, changes={})


class FakeUow:
    def __init__(self, store: OrgStore, scope: Scope) -> None:
        self.store, self.scope = store, scope
        self.org_units = FakeOrgUnits(store, scope)
        self.watch_points = FakeWatchPoints(store, scope)
        self._audits: list[tuple[str, str, uuid.UUID | None, dict[str, Any]]] = []
        self._events: list[DomainEvent] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._audits.clear()
        self._events.clear()

    async def commit(self) -> None:
        self.store.audits.extend(self._audits)
        self.store.events.extend(self._events)
        self.store.commits += 1

    async def rollback(self) -> None:
        self._audits.clear()

    def add_event(self, event: DomainEvent) -> None:
        self._events.append(event)

    def audit(
        self,
        action: str,
        record_type: str,
        record_id: uuid.UUID | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._audits.append((action, record_type, record_id, detail or {}))


class FakeLocator:
    """Deepest covering unit, ties broken by the smaller code (as the SQL locator)."""

    def __init__(self, store: OrgStore) -> None:
        self.store = store

    async def locate(self, point: GeoPoint) -> Placement:
        where = Point(point.lon, point.lat)
        hits = sorted(
            (u for u in self.store.units.values() if u.boundary.covers(where)),
            key=lambda u: (-u.level.depth, u.code),
        )
        if not hits:
            return Placement.nowhere()
        deepest = hits[0]
        units = self.store.units
        community = (
            deepest
            if deepest.level is Level.COMMUNITY
            else units[deepest.parent_id]
            if deepest.level is Level.GRID and deepest.parent_id
            else None
        )
        station = units.get(deepest.station_id) if deepest.station_id else None
        district_id = deepest.id if deepest.level is Level.DISTRICT else deepest.district_id
        district = units.get(district_id) if district_id else None
        grid = deepest if deepest.level is Level.GRID else None
        return Placement.covering(
            district.ref if district else None,
            station.ref if station else None,
            community.ref if community else None,
            grid.ref if grid else None,
        )


class OrgFakes:
    """A store with the three services wired to fakes."""

    def __init__(self, clock: FixedClock | None = None) -> None:
        from datetime import UTC, datetime

        self.store = OrgStore()
        self.clock = clock or FixedClock(datetime(2026, 11, 22, 8, 0, tzinfo=UTC))
        self.locator = FakeLocator(self.store)

        def factory(scope: Scope) -> FakeUow:
            return FakeUow(self.store, scope)

        self.units = OrgUnitService(factory, self.locator)
        self.importer = JurisdictionImportService(factory, self.clock)
        self.watch_points = WatchPointService(factory, self.locator, self.clock)
