"""Ports of the organisation context. ``JurisdictionLocator`` and ``OrgUnitDirectory`` are
meant for other contexts too: every incoming location is routed through the locator."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from app.domain.organisation.model import Level, OrgUnit, Placement, Slice, WatchPoint
from app.domain.shared.geo import GeoPoint
from app.domain.shared.uow import UnitOfWork


class JurisdictionLocator(Protocol):
    async def locate(self, point: GeoPoint) -> Placement:
        """The deepest units whose jurisdiction covers ``point`` (WGS-84).

        A point on a border shared by two units goes to the one with the smaller code, so
        the answer is the same every time. A point outside every station is accepted and
        flagged ``outside`` (with the containing or nearby district, if any).
        """
        ...


class OrgUnitDirectory(Protocol):
    """Unscoped look-ups by code or id for other contexts' services and operator
    commands (e.g. binding an officer to ``--unit HT01``); callers apply their own rules."""

    async def by_code(self, code: str) -> OrgUnit | None: ...

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, OrgUnit]: ...


class WatchPointDirectory(Protocol):
    """Unscoped look-ups of watch points for other contexts (patrol check-ins resolve a
    scanned QR token here, then apply their own rules)."""

    async def by_qr_token(self, token: str) -> WatchPoint | None: ...

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, WatchPoint]: ...


@dataclass(frozen=True, slots=True)
class UnitFilter:
    level: Level | None = None
    parent_id: uuid.UUID | None = None


class OrgUnitRepository(Protocol):
    """Reads filter by the unit of work's scope: a unit outside it is simply not found."""

    async def get(self, unit_id: uuid.UUID, *, with_boundary: bool = False) -> OrgUnit | None: ...

    async def page(
        self,
        where: UnitFilter,
        *,
        limit: int,
        after: uuid.UUID | None = None,
        with_boundary: bool = False,
    ) -> Slice[OrgUnit]:
        """Newest first (id descending); ``after`` is the last id of the previous page."""
        ...

    async def by_ids(
        self, ids: Iterable[uuid.UUID], *, with_boundary: bool = False
    ) -> list[OrgUnit]: ...

    async def by_codes(self, codes: Iterable[str]) -> dict[str, OrgUnit]:
        """Units with these codes, with boundaries (used by the importer)."""
        ...

    async def stations_of(self, district_ids: Iterable[uuid.UUID]) -> list[OrgUnit]:
        """Every station of these districts, with boundaries."""
        ...

    async def add_all(self, units: list[OrgUnit]) -> None:
        """Insert new units; ``units`` lists parents before their children."""
        ...

    async def update_shape(self, unit: OrgUnit) -> None:
        """Store name and boundary; ``unit.version`` is the new version (old one + 1).
        Raises ``StaleVersion`` when the stored version is not ``unit.version - 1``."""
        ...


@dataclass(frozen=True, slots=True)
class WatchPointFilter:
    station_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    active: bool | None = None
    near: GeoPoint | None = None
    radius_m: float | None = None


class WatchPointRepository(Protocol):
    async def get(self, watch_point_id: uuid.UUID) -> WatchPoint | None: ...

    async def page(
        self, where: WatchPointFilter, *, limit: int, after: uuid.UUID | None = None
    ) -> Slice[WatchPoint]: ...

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> list[WatchPoint]: ...

    async def code_taken(self, code: str) -> bool:
        """Whether any watch point (in scope or not) already has this code."""
        ...

    async def add(self, point: WatchPoint) -> None: ...

    async def save(self, point: WatchPoint, expected_version: int) -> None:
        """Store changes; raises ``StaleVersion`` when the stored version differs.
        On success ``point.version`` is ``expected_version + 1``."""
        ...


class OrganisationUnitOfWork(UnitOfWork, Protocol):
    @property
    def org_units(self) -> OrgUnitRepository: ...

    @property
    def watch_points(self) -> WatchPointRepository: ...
