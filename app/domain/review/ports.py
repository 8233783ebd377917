"""Ports of the review context."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.review.model import DeviceActivity, FlagKind, FlagStatus, RecordRef, ReviewFlag
from app.domain.shared.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class FlagSlice:
    items: list[ReviewFlag]
    has_more: bool


class ReviewFlagRepository(Protocol):
    """Reads see flags routed into the unit's scope (station, or district queue) only."""

    async def add(self, flag: ReviewFlag) -> bool:
        """Store a new flag; False when the record already has a flag of this kind (a
        redelivered event raises nothing twice)."""
        ...

    async def get(self, flag_id: uuid.UUID, *, for_update: bool = False) -> ReviewFlag | None: ...

    async def get_many(self, flag_ids: list[uuid.UUID]) -> list[ReviewFlag]: ...

    async def page(
        self,
        *,
        kind: FlagKind | None,
        status: FlagStatus | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> FlagSlice:
        """Newest first (ids are time-ordered); ``after`` is the last id of the previous
        page."""
        ...

    async def save(self, flag: ReviewFlag) -> None:
        """Store a resolution, bumping the version (StaleVersion on a mismatch)."""
        ...


class FraudSignals(Protocol):
    """What the stored data says about one report (whatever the unit's scope: the worker
    asks on the report's behalf). Anonymous tips are never looked at nor matched."""

    async def similar_photos(
        self, record: RecordRef, *, since: datetime, max_distance: int, limit: int
    ) -> list[RecordRef]:
        """Other hazards and named tips with a photo uploaded after ``since`` and before
        the photo of ``record`` it matches (the copy is suspicious, not the original),
        whose perceptual hash is within ``max_distance`` bits of it."""
        ...

    async def device_activity(self, record: RecordRef, *, since: datetime) -> DeviceActivity | None:
        """Submissions of the device ``record`` was sent from, after ``since``; None when it
        was sent without a device id."""
        ...


class ReviewUnitOfWork(UnitOfWork, Protocol):
    @property
    def flags(self) -> ReviewFlagRepository: ...

    @property
    def signals(self) -> FraudSignals: ...
