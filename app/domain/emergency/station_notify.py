"""The station is always informed first (派出所先知): outbox handlers that tell the staff
of the incident's station (officers, station admins; the district admins when it has no
station) when a real incident is raised and when dispatch ran out of rings without
enough responders. Drills are raised by staff themselves and tell nobody.

Events are thin (ids); accounts are resolved at delivery time. Each account's
notification is keyed by the handler key, so a redelivered event notifies nobody twice.
Officers connected to the realtime feed already got the ``raised`` event within a
second; this reaches the others (inbox, push, WeChat subscribe message)."""

from __future__ import annotations

import uuid
from typing import Protocol

from app.domain.delivery.model import OutboxEvent
from app.domain.notifications.model import Kind, link_to
from app.domain.notifications.services import NotificationService

SCREEN = "emergency-incidents"


class StationStaff(Protocol):
    async def staff(self, station_id: uuid.UUID | None, district_id: uuid.UUID) -> list[uuid.UUID]:
        """Active accounts of the station's officers and admins (no station: the district's
        admins)."""
        ...


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


class StationNotifier:
    def __init__(self, staff: StationStaff, notifications: NotificationService) -> None:
        self.staff = staff
        self.notifications = notifications

    async def _tell(self, event: OutboxEvent, kind: Kind, key: str) -> None:
        if event.payload.get("drill"):
            return
        district = _uuid(event.payload.get("district_id"))
        incident = _uuid(event.payload.get("incident_id")) or event.aggregate_id
        if district is None:
            raise ValueError("emergency event without a district")
        accounts = await self.staff.staff(_uuid(event.payload.get("station_id")), district)
        link = link_to(SCREEN, incident)
        for account in dict.fromkeys(accounts):
            await self.notifications.notify(account, kind, link, key=f"{key}:{account}")

    async def raised(self, event: OutboxEvent, key: str) -> None:
        await self._tell(event, Kind.EMERGENCY_RAISED, key)

    async def exhausted(self, event: OutboxEvent, key: str) -> None:
        await self._tell(event, Kind.EMERGENCY_SHORT, key)
