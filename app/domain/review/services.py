"""Use cases of the review queue: staff list the flags of their jurisdiction and resolve
them; confirming fraud raises ``review.fraud_confirmed`` (payload: flag_id, record_type,
record_id, station_id, district_id), on which the points of the report are reversed (and
with them its unpaid rewards cancelled) by the worker.

Who may do what: staff (officer, station admin, district admin, auditor) of the flag's
station see it; officers and admins of that station resolve it. Anyone else: not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.domain.review.errors import FlagNotFound
from app.domain.review.model import Decision, FlagKind, FlagStatus, ReviewFlag
from app.domain.review.ports import FlagSlice, ReviewUnitOfWork
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed
from app.domain.shared.events import DomainEvent
from app.domain.shared.scope import Scope

UowFactory = Callable[[Scope], ReviewUnitOfWork]


def flag_event(name: str, flag: ReviewFlag, at: datetime, **extra: Any) -> DomainEvent:
    body = {
        "flag_id": flag.id,
        "kind": flag.kind.value,
        "record_type": flag.record.record_type,
        "record_id": flag.record.record_id,
        "station_id": flag.station_id,
        "district_id": flag.district_id,
        "status": flag.status.value,
        **extra,
    }
    return DomainEvent(name, "review_flag", flag.id, at, body)


def _writes_at(scope: Scope, flag: ReviewFlag) -> bool:
    return scope.writes_at(flag.station_id, flag.district_id)


class ReviewService:
    def __init__(self, uow_factory: UowFactory, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    @staticmethod
    def _staff(scope: Scope) -> None:
        if not (scope.is_staff or scope.unrestricted):
            raise NotAllowed()

    async def queue(
        self,
        scope: Scope,
        *,
        kind: FlagKind | None = None,
        status: FlagStatus | None = None,
        limit: int,
        after: uuid.UUID | None = None,
    ) -> FlagSlice:
        self._staff(scope)
        async with self.uow_factory(scope) as uow:
            return await uow.flags.page(kind=kind, status=status, limit=limit, after=after)

    async def get(self, scope: Scope, flag_id: uuid.UUID) -> ReviewFlag:
        if not (scope.is_staff or scope.unrestricted):
            raise FlagNotFound()
        async with self.uow_factory(scope) as uow:
            flag = await uow.flags.get(flag_id)
        if flag is None:
            raise FlagNotFound()
        return flag

    async def get_many(self, scope: Scope, ids: list[uuid.UUID]) -> dict[uuid.UUID, ReviewFlag]:
        if not (scope.is_staff or scope.unrestricted) or not ids:
            return {}
        async with self.uow_factory(scope) as uow:
            return {f.id: f for f in await uow.flags.get_many(list(dict.fromkeys(ids)))}

    async def resolve(
        self, scope: Scope, flag_id: uuid.UUID, decision: Decision, note: str | None
    ) -> ReviewFlag:
        if not (scope.is_staff or scope.unrestricted):
            raise FlagNotFound()
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            flag = await uow.flags.get(flag_id, for_update=True)
            if flag is None:
                raise FlagNotFound()
            if not _writes_at(scope, flag):
                raise NotAllowed()
            flag.resolve(decision, scope.account_id, note, now)
            await uow.flags.save(flag)
            uow.audit(
                "review.resolve",
                "review_flag",
                flag.id,
                {"decision": decision.value, "kind": flag.kind.value},
            )
            uow.add_event(flag_event("review.flag_resolved", flag, now))
            if decision == Decision.CONFIRMED_FRAUD:
                uow.add_event(flag_event("review.fraud_confirmed", flag, now))
            await uow.commit()
        return flag
