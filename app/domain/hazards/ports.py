"""Ports of the hazards context."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from app.domain.hazards.model import (
    Category,
    Department,
    DuplicateRule,
    Hazard,
    HazardEvent,
    HazardStatus,
    TopCategory,
)
from app.domain.help.ports import VolunteerRoster
from app.domain.media.ports import MediaRepository
from app.domain.organisation.model import Placement
from app.domain.review.velocity import Recent, VelocityGuard
from app.domain.shared.clock import Clock
from app.domain.shared.events import AuditNote, DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.idempotency import Receipt, StoredResponse
from app.domain.shared.scope import Scope
from app.domain.shared.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class HazardFilter:
    status: HazardStatus | None = None
    category: TopCategory | None = None
    overdue_on: date | None = None  # only hazards overdue on this (local) day


@dataclass(frozen=True, slots=True)
class HazardSlice:
    items: list[Hazard]
    has_more: bool


@dataclass(frozen=True, slots=True)
class NearbyHazard:
    """What anyone reporting may learn of an open hazard nearby: no reporter, no text."""

    id: uuid.UUID
    category: TopCategory
    status: HazardStatus
    distance_m: int  # rounded to 10 m
    photo_id: uuid.UUID | None


class StatsLevel(StrEnum):
    GRID = "grid"
    COMMUNITY = "community"
    STATION = "station"
    DISTRICT = "district"


@dataclass(frozen=True, slots=True)
class StatsRow:
    """One unit's figures for a period: hazards verified real in the period, how many of
    those were rectified and closed, the median hours from assignment to rectification,
    and how many are overdue now (and escalated to the district)."""

    unit_id: uuid.UUID | None
    unit_name: str | None
    verified_real: int
    rectified_closed: int
    median_hours_to_rectify: float | None
    overdue: int
    escalated_to_district: int

    @property
    def rectification_rate(self) -> float | None:
        return None if not self.verified_real else self.rectified_closed / self.verified_real


class HazardRepository(Protocol):
    """Reads see hazards (a) routed into the scope (staff), (b) the caller reported (or
    follows after a merge), (c) assigned to the caller's department or account, and (d)
    awaiting re-inspection in a station the caller serves as a volunteer."""

    async def insert(self, hazard: Hazard) -> bool:
        """Store a new hazard with its reporters and events; ``False`` when the id exists."""
        ...

    async def own(self, hazard_id: uuid.UUID, account_id: uuid.UUID) -> Hazard | None:
        """The hazard with this id if ``account_id`` is its first reporter."""
        ...

    async def get(self, hazard_id: uuid.UUID, *, for_update: bool = False) -> Hazard | None: ...

    async def exists(self, hazard_id: uuid.UUID) -> bool: ...

    async def save(self, hazard: Hazard, *, expected_version: int | None) -> None:
        """Store changes, new reporters and pending events, bumping the version
        (``StaleVersion`` when the stored version differs)."""
        ...

    async def link(self, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
        """Record the duplicate link both ways."""
        ...

    async def linked(self, hazard_id: uuid.UUID) -> list[uuid.UUID]: ...

    async def events(self, hazard_id: uuid.UUID) -> list[HazardEvent]: ...

    async def page(
        self, where: HazardFilter, *, limit: int, after: uuid.UUID | None
    ) -> HazardSlice:
        """The work queue, newest first: routed into the scope, assigned to the caller's
        department, or awaiting the caller's re-inspection (not merely reported by them)."""
        ...

    async def of_reporter(
        self, account_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
    ) -> HazardSlice: ...

    async def nearby(
        self,
        category: TopCategory,
        point: GeoPoint,
        rule: DuplicateRule,
        since: datetime,
        *,
        limit: int,
        exclude: uuid.UUID | None = None,
    ) -> list[NearbyHazard]:
        """Open hazards of ``category`` reported since ``since`` within the rule's radius,
        nearest first (unscoped: the answer carries nothing personal)."""
        ...

    async def overdue(self, today: date, *, limit: int) -> list[Hazard]:
        """Assigned or rectifying hazards whose escalation is behind the schedule."""
        ...

    async def stats(
        self, level: StatsLevel, start: datetime, end: datetime, today: date
    ) -> list[StatsRow]: ...


class CategoryRepository(Protocol):
    async def add(self, category: Category) -> bool:
        """``False`` when the district already has this code."""
        ...

    async def get(self, category_id: uuid.UUID) -> Category | None: ...

    async def list(self, district_id: uuid.UUID | None) -> list[Category]: ...


class DepartmentRepository(Protocol):
    async def add(self, department: Department) -> None: ...

    async def get(self, department_id: uuid.UUID) -> Department | None: ...

    async def visible(self) -> list[Department]:
        """Departments of the districts the scope works in (its districts and its
        stations' districts) and those the caller is a member of."""
        ...

    async def add_member(self, department_id: uuid.UUID, account_id: uuid.UUID) -> bool:
        """Make the account a member (granting it the ``department`` role); ``False`` when
        it already was one; ``DepartmentNotFound``-worthy ids are checked by the caller."""
        ...

    async def account_exists(self, account_id: uuid.UUID) -> bool: ...

    async def of_account(self, account_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """The departments the account is a member of."""
        ...

    async def members(self, department_id: uuid.UUID) -> list[uuid.UUID]: ...

    async def staff(self, station_id: uuid.UUID | None, district_id: uuid.UUID) -> list[uuid.UUID]:
        """Writing staff accounts of the station (station None: the district admins)."""
        ...


class ReportOutcome(StrEnum):
    STORED = "stored"
    RATE_LIMITED = "rate_limited"  # nothing written; ``recent`` holds the window
    KEY_TAKEN = "key_taken"  # the receipt's key exists: nothing written
    ID_TAKEN = "id_taken"  # a hazard with this id exists: nothing written
    MEDIA_UNFIT = "media_unfit"  # a photo unknown, foreign, not ready or attached: nothing


@dataclass(frozen=True, slots=True)
class ReportResult:
    outcome: ReportOutcome
    recent: Recent | None = None


@dataclass(frozen=True, slots=True)
class ReportWrite:
    """Everything a report without a subcategory writes, for a writer that stores it as
    one atomic statement: the hazard with its reporter, history and feed entry, its photos
    attached (all of them or none), the velocity-log entry under ``velocity``, outbox
    events, audit entries and the Idempotency-Key's receipt with its rendered response."""

    hazard: Hazard
    scope: Scope
    velocity: VelocityGuard | None
    events: list[DomainEvent]
    audits: list[AuditNote]
    receipt: Receipt[Any] | None = None
    response: StoredResponse | None = None


class ReportWriter(Protocol):
    async def write(self, report: ReportWrite) -> ReportResult:
        """All of it or nothing, in one statement."""
        ...


class NearbyReader(Protocol):
    async def placed_nearby(
        self,
        category: TopCategory,
        point: GeoPoint,
        rule: DuplicateRule,
        since: datetime,
        *,
        limit: int,
    ) -> tuple[Placement | None, list[NearbyHazard]]:
        """Where ``point`` belongs, as ``JurisdictionLocator.locate`` answers when a unit
        covers it (None otherwise: ask the locator), and the open hazards near it as
        ``HazardRepository.nearby`` finds them, read together outside any transaction (a
        report's offer of possible duplicates is advice, read just before its write)."""
        ...


class HazardUnitOfWork(UnitOfWork, Protocol):
    # Plain attributes so the unit also serves as the media context's MediaUnitOfWork.
    media: MediaRepository
    clock: Clock

    @property
    def hazards(self) -> HazardRepository: ...

    @property
    def categories(self) -> CategoryRepository: ...

    @property
    def departments(self) -> DepartmentRepository: ...

    @property
    def roster(self) -> VolunteerRoster: ...
