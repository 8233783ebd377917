"""Use cases of police appeals: publish, read what the caller may see, withdraw, clues.

Staff see the appeals of their jurisdiction in any status; volunteers see live appeals
whose target area overlaps their station's jurisdiction (or a team's station). Targeting
by a volunteer's last known location comes with issue 5 (location sharing).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.appeals.errors import (
    AppealNotFound,
    target_outside,
)
from app.domain.appeals.model import Appeal, AppealKind, AppealStatus, Target
from app.domain.appeals.ports import AppealSlice, AppealsUnitOfWork
from app.domain.media.model import Attachment
from app.domain.media.ports import MediaVisibility
from app.domain.media.services import attach_media
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed, field_invalid
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.scope import WRITING_STAFF_ROLES, Scope
from app.domain.tips.ports import TipFilter
from app.domain.tips.services import TipService, TipView

UowFactory = Callable[[Scope], AppealsUnitOfWork]
APPEAL_RECORD = "appeal"  # the record type media objects are attached to


@dataclass(frozen=True, slots=True)
class NewAppeal:
    kind: AppealKind
    title: str
    body: str
    expires_at: datetime
    unit_ids: list[uuid.UUID] | None = None
    polygon: dict[str, Any] | None = None  # GeoJSON (Multi)Polygon, WGS-84
    media_ids: tuple[uuid.UUID, ...] = ()
    station_id: uuid.UUID | None = None  # needed only when the caller writes at several


def _event(name: str, appeal: Appeal, at: datetime) -> DomainEvent:
    payload = {"station_id": appeal.station_id, "district_id": appeal.district_id}
    return DomainEvent(name, "appeal", appeal.id, at, payload)


class AppealService:
    def __init__(
        self, uow_factory: UowFactory, clock: Clock, *, tips: TipService | None = None
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.tips = tips

    def _publisher_unit(self, scope: Scope, wanted: uuid.UUID | None) -> uuid.UUID | None:
        """The station the caller publishes for; None for a district admin's district."""
        stations = scope.stations_as(*WRITING_STAFF_ROLES)
        if wanted is not None:
            if wanted not in stations and not scope.unrestricted:
                raise NotAllowed()
            return wanted
        if len(stations) == 1:
            return next(iter(stations))
        if stations:
            raise field_invalid(
                "appeal.station_required",
                "station_id",
                "Name the station this appeal is published for.",
                "请指定发布协查通报的派出所。",
            )
        return None

    async def publish(self, scope: Scope, new: NewAppeal) -> Appeal:
        if not (scope.can_write_org_data or scope.unrestricted):
            raise NotAllowed()
        target = Target.of(new.unit_ids, new.polygon)
        now = self.clock.now()
        station_id = self._publisher_unit(scope, new.station_id)
        async with self.uow_factory(scope) as uow:
            if station_id is not None:
                district_id = await uow.appeals.district_of(station_id)
                if district_id is None:
                    raise NotAllowed()
            else:
                districts = scope.districts_as(*WRITING_STAFF_ROLES)
                if len(districts) != 1:
                    raise NotAllowed()
                district_id = next(iter(districts))
            appeal = Appeal.draft(
                id=new_id(),
                station_id=station_id,
                district_id=district_id,
                kind=new.kind,
                title=new.title,
                body=new.body,
                target=target,
                expires_at=new.expires_at,
                media_ids=new.media_ids,
                created_by=scope.account_id,
                now=now,
            )
            if not await uow.appeals.target_within(target, station_id, district_id):
                raise target_outside()
            appeal.publish(now)
            await uow.appeals.insert(appeal)
            await attach_media(uow, scope, appeal.media_ids, APPEAL_RECORD, appeal.id)
            uow.audit("appeal.publish", "appeal", appeal.id, {"kind": appeal.kind.value})
            uow.add_event(_event("appeal.published", appeal, now))
            await uow.commit()
        return appeal

    async def get(self, scope: Scope, appeal_id: uuid.UUID) -> Appeal:
        async with self.uow_factory(scope) as uow:
            appeal = await uow.appeals.get(appeal_id, now=self.clock.now())
        if appeal is None:
            raise AppealNotFound()
        return appeal

    async def get_many(self, scope: Scope, ids: list[uuid.UUID]) -> dict[uuid.UUID, Appeal]:
        found: dict[uuid.UUID, Appeal] = {}
        async with self.uow_factory(scope) as uow:
            for appeal_id in dict.fromkeys(ids):
                appeal = await uow.appeals.get(appeal_id, now=self.clock.now())
                if appeal is not None:
                    found[appeal_id] = appeal
        return found

    async def list_visible(
        self,
        scope: Scope,
        *,
        status: AppealStatus | None = None,
        limit: int,
        after: uuid.UUID | None,
    ) -> AppealSlice:
        """What the caller may see, newest first. ``status`` filters staff views only
        (volunteers only ever see published appeals)."""
        async with self.uow_factory(scope) as uow:
            return await uow.appeals.page(
                now=self.clock.now(), status=status, limit=limit, after=after
            )

    async def withdraw(
        self, scope: Scope, appeal_id: uuid.UUID, expected_version: int | None
    ) -> Appeal:
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            appeal = await uow.appeals.get(appeal_id, now=now)
            if appeal is None:
                raise AppealNotFound()
            if not self._writes_at(scope, appeal):
                raise NotAllowed()
            appeal.withdraw(now)
            await uow.appeals.save(appeal, expected_version=expected_version)
            appeal.version += 1
            uow.audit("appeal.withdraw", "appeal", appeal.id)
            uow.add_event(_event("appeal.withdrawn", appeal, now))
            await uow.commit()
        return appeal

    async def clues(
        self, scope: Scope, appeal_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
    ) -> tuple[list[TipView], bool]:
        """Tips submitted for the appeal, as the tip queue shows them (staff only)."""
        if not (scope.is_staff or scope.unrestricted) or self.tips is None:
            raise NotAllowed()
        await self.get(scope, appeal_id)
        return await self.tips.queue_views(
            scope, TipFilter(appeal_id=appeal_id), limit=limit, after=after
        )

    async def is_open_to(self, scope: Scope, appeal_id: uuid.UUID) -> bool:
        """The tips context's ``AppealDirectory``: the appeal exists, is published and
        unexpired, and the caller may see it."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            appeal = await uow.appeals.get(appeal_id, now=now)
        return appeal is not None and appeal.is_live(now)

    @staticmethod
    def _writes_at(scope: Scope, appeal: Appeal) -> bool:
        return scope.writes_at(appeal.station_id, appeal.district_id)


class AppealMediaVisibility(MediaVisibility):
    """Registered with the media context for ``"appeal"``: whoever may see the appeal."""

    def __init__(self, uow_factory: UowFactory, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    async def can_see(self, scope: Scope, attachment: Attachment) -> bool:
        if attachment.record_type != APPEAL_RECORD:
            return False
        async with self.uow_factory(scope) as uow:
            appeal = await uow.appeals.get(attachment.record_id, now=self.clock.now())
        return appeal is not None
