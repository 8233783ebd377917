"""Ports of the appeals context."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.appeals.model import Appeal, AppealStatus, Target
from app.domain.media.ports import MediaRepository
from app.domain.shared.clock import Clock
from app.domain.shared.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class AppealSlice:
    items: list[Appeal]
    has_more: bool


class AppealRepository(Protocol):
    """Reads see (a) appeals routed into the unit's scope (station staff, any status) and
    (b) published, unexpired appeals whose target area overlaps the jurisdiction of the
    caller's station as a volunteer (active or on probation), or of any of their teams'
    stations. Anything else is simply not found."""

    async def insert(self, appeal: Appeal) -> None:
        """Store a new appeal; its target area is the polygon or the union of the target
        units' boundaries."""
        ...

    async def get(self, appeal_id: uuid.UUID, *, now: datetime) -> Appeal | None: ...

    async def page(
        self,
        *,
        now: datetime,
        status: AppealStatus | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> AppealSlice: ...

    async def save(self, appeal: Appeal, *, expected_version: int | None) -> None:
        """Store a status change, bumping the version (StaleVersion on a mismatch)."""
        ...

    async def audience(
        self, appeal_id: uuid.UUID, *, now: datetime, after: uuid.UUID | None, limit: int
    ) -> list[uuid.UUID]:
        """The accounts of the volunteers who can see the appeal (as ``get`` decides for
        a volunteer), ascending, after ``after``; none once it is withdrawn or expired.
        Whatever the unit's scope: the delivery worker asks on the appeal's behalf."""
        ...

    async def district_of(self, station_id: uuid.UUID) -> uuid.UUID | None:
        """The district of a station unit; None when it is no station."""
        ...

    async def target_within(
        self, target: Target, station_id: uuid.UUID | None, district_id: uuid.UUID
    ) -> bool:
        """Units: all are grids/communities/stations of the station (or district).
        Polygon: it overlaps the station's (or district's) jurisdiction."""
        ...


class AppealsUnitOfWork(UnitOfWork, Protocol):
    # Plain attributes so the unit also serves as the media context's MediaUnitOfWork.
    media: MediaRepository
    clock: Clock

    @property
    def appeals(self) -> AppealRepository: ...
