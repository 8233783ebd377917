"""Ports of the help-requests context."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from app.domain.help.model import HelpEvent, HelpKind, HelpRequest, HelpStatus
from app.domain.media.ports import MediaRepository
from app.domain.shared.clock import Clock
from app.domain.shared.geo import GeoPoint
from app.domain.shared.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class HelpFilter:
    status: HelpStatus | None = None
    kind: HelpKind | None = None


@dataclass(frozen=True, slots=True)
class HelpSlice:
    items: list[HelpRequest]
    has_more: bool


@dataclass(frozen=True, slots=True)
class ServingVolunteer:
    """The caller as a volunteer: their record, and the stations they serve (their own
    station and their current teams' stations), while active or on probation."""

    volunteer_id: uuid.UUID
    station_ids: frozenset[uuid.UUID]


@dataclass(frozen=True, slots=True)
class HelperCard:
    """What a requester learns of the accepted helper: a masked name and the number."""

    volunteer_id: uuid.UUID
    masked_name: str
    volunteer_number: str | None


class HelpRepository(Protocol):
    """Reads see (a) requests routed into the scope (station staff, full data), (b) the
    caller's own requests, (c) OPEN requests of a station the caller serves as a volunteer
    and (d) requests whose accepted offer is the caller's. Anything else is not found.
    Requests come with their offers."""

    async def insert(self, request: HelpRequest) -> bool:
        """Store a new request with its pending events; ``False`` when the id exists."""
        ...

    async def own(self, request_id: uuid.UUID, account_id: uuid.UUID) -> HelpRequest | None:
        """The request with this id if ``account_id`` asked for it (whatever the scope)."""
        ...

    async def get(
        self, request_id: uuid.UUID, *, for_update: bool = False
    ) -> HelpRequest | None: ...

    async def exists(self, request_id: uuid.UUID) -> bool: ...

    async def save(self, request: HelpRequest, *, expected_version: int | None) -> None:
        """Store status changes, changed offers and pending events, bumping the version
        (``StaleVersion`` when the stored version differs)."""
        ...

    async def events(self, request_id: uuid.UUID) -> list[HelpEvent]: ...

    async def page(self, where: HelpFilter, *, limit: int, after: uuid.UUID | None) -> HelpSlice:
        """Requests routed into the scope, newest first (the staff queue)."""
        ...

    async def of_requester(
        self, account_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
    ) -> HelpSlice: ...

    async def nearby(
        self,
        point: GeoPoint,
        radius_m: float,
        station_ids: frozenset[uuid.UUID],
        *,
        limit: int,
        after: uuid.UUID | None,
    ) -> HelpSlice:
        """OPEN requests of ``station_ids`` within ``radius_m`` of ``point``, newest first."""
        ...


class VolunteerRoster(Protocol):
    async def serving(self, account_id: uuid.UUID) -> ServingVolunteer | None: ...

    async def cards(self, volunteer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, HelperCard]: ...


class HelpUnitOfWork(UnitOfWork, Protocol):
    # Plain attributes so the unit also serves as the media context's MediaUnitOfWork.
    media: MediaRepository
    clock: Clock

    @property
    def requests(self) -> HelpRepository: ...

    @property
    def roster(self) -> VolunteerRoster: ...
