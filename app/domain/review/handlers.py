"""Outbox handlers that raise review flags after a report is stored (so submitting stays
fast): on ``hazard.reported`` and ``tip.submitted`` the report's photos are compared with
those of other recent reports, and its device's recent activity is counted. And on
``review.fraud_confirmed`` the points credited for the report are reversed.

A redelivered event raises no flag twice (one flag per record and kind).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from app.domain.delivery.model import OutboxEvent
from app.domain.review.model import (
    DEVICE_WINDOW,
    PHOTO_DISTANCE_MAX,
    PHOTO_WINDOW,
    RECORD_TYPES,
    RecordRef,
    device_flag,
    photo_flag,
)
from app.domain.review.services import UowFactory, flag_event
from app.domain.shared.clock import Clock
from app.domain.shared.ids import new_id
from app.domain.shared.scope import system_scope

MATCH_LIMIT = 50
# (record_type, record_id, note) -> reverses the report's points (idempotent)
ReversePoints = Callable[[str, uuid.UUID, str], Awaitable[object]]


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


class ReviewHandlers:
    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        reverse_points: ReversePoints,
        *,
        device_reports_per_day: int = 20,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.reverse_points = reverse_points
        self.device_reports_per_day = device_reports_per_day

    async def hazard_reported(self, event: OutboxEvent, key: str) -> None:
        hazard_id = _uuid(event.payload.get("hazard_id")) or event.aggregate_id
        await self.inspect(RecordRef("hazard", hazard_id), event)

    async def tip_submitted(self, event: OutboxEvent, key: str) -> None:
        await self.inspect(RecordRef("tip", event.aggregate_id), event)

    async def inspect(self, record: RecordRef, event: OutboxEvent) -> None:
        station_id = _uuid(event.payload.get("station_id"))
        district_id = _uuid(event.payload.get("district_id"))
        now = self.clock.now()
        async with self.uow_factory(system_scope()) as uow:
            matches = await uow.signals.similar_photos(
                record,
                since=now - PHOTO_WINDOW,
                max_distance=PHOTO_DISTANCE_MAX,
                limit=MATCH_LIMIT,
            )
            activity = await uow.signals.device_activity(record, since=now - DEVICE_WINDOW)
            flags = [
                photo_flag(new_id(), record, station_id, district_id, matches, now),
                device_flag(
                    new_id(),
                    record,
                    station_id,
                    district_id,
                    activity,
                    self.device_reports_per_day,
                    now,
                ),
            ]
            raised = False
            for flag in flags:
                if flag is not None and await uow.flags.add(flag):
                    raised = True
                    uow.audit("review.flag", "review_flag", flag.id, {"kind": flag.kind.value})
                    uow.add_event(flag_event("review.flag_raised", flag, now))
            if raised:
                await uow.commit()

    async def fraud_confirmed(self, event: OutboxEvent, key: str) -> None:
        record_type = str(event.payload.get("record_type", ""))
        record_id = _uuid(event.payload.get("record_id"))
        if record_type not in RECORD_TYPES or record_id is None:
            return
        await self.reverse_points(record_type, record_id, "fraud_confirmed")
