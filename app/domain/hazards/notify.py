"""Event handlers that tell people a hazard changed: every reporter (the first and those of
merged duplicates) when it is verified real, rectified or closed; the responsible
department's accounts when it is assigned to them; station staff, then district admins,
when it is overdue.

Events are thin (ids, station, category, status); the accounts are resolved here at
delivery time with the system scope (the worker acts outside any request). Texts carry
no detail, only a deep link.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from app.domain.delivery.model import OutboxEvent
from app.domain.hazards.model import Hazard
from app.domain.hazards.ports import HazardUnitOfWork
from app.domain.notifications.model import Kind, link_to
from app.domain.notifications.services import NotificationService
from app.domain.shared.scope import Scope, system_scope

SCREEN = "hazards"


class HazardNotifications:
    def __init__(
        self,
        uow_factory: Callable[[Scope], HazardUnitOfWork],
        notifications: NotificationService,
    ) -> None:
        self.uow_factory = uow_factory
        self.notifications = notifications

    async def _hazard(self, hazard_id: uuid.UUID) -> Hazard | None:
        async with self.uow_factory(system_scope()) as uow:
            return await uow.hazards.get(hazard_id)

    async def _send(
        self, accounts: list[uuid.UUID], kind: Kind, hazard_id: uuid.UUID, key: str
    ) -> None:
        link = link_to(SCREEN, hazard_id)
        for account in dict.fromkeys(accounts):
            await self.notifications.notify(account, kind, link, key=f"{key}:{account}")

    async def to_reporters(self, event: OutboxEvent, key: str) -> None:
        hazard = await self._hazard(event.aggregate_id)
        if hazard is not None:
            await self._send(hazard.reporters, Kind.HAZARD_UPDATE, hazard.id, key)

    async def verified(self, event: OutboxEvent, key: str) -> None:
        # Not a hazard / duplicate: the closing event tells the reporters (once).
        if event.payload.get("outcome") == "real":
            await self.to_reporters(event, key)

    async def assigned(self, event: OutboxEvent, key: str) -> None:
        department = event.payload.get("department_id")
        if not department:
            return
        async with self.uow_factory(system_scope()) as uow:
            accounts = await uow.departments.members(uuid.UUID(str(department)))
        assignee = event.payload.get("assignee_account_id")
        if assignee:
            accounts = [uuid.UUID(str(assignee)), *accounts]
        await self._send(accounts, Kind.HAZARD_ASSIGNED, event.aggregate_id, key)

    async def escalated(self, event: OutboxEvent, key: str) -> None:
        district = event.payload.get("district_id")
        if not district:
            return
        level = int(event.payload.get("level") or 0)
        station = event.payload.get("station_id")
        # Level 1: the station's staff; level 2 (or no station): the district admins.
        station_id = uuid.UUID(str(station)) if station and level < 2 else None
        async with self.uow_factory(system_scope()) as uow:
            accounts = await uow.departments.staff(station_id, uuid.UUID(str(district)))
        await self._send(accounts, Kind.HAZARD_OVERDUE, event.aggregate_id, key)
