"""Scheduled drills (计划演练 / 拉动测试): station staff plan a drill for a time; the worker
raises it then through the same dispatch path as any incident, marked as a drill end to
end. Unannounced drills are raised at once (``raise_incident`` with ``drill``).

Rules: a drill is scheduled at least a minute and at most a year ahead, by writing staff
of the station its location belongs to; it is raised once (scheduled → raised, with the
incident's id) or cancelled before (scheduled → cancelled); staff of the station (or its
district) read the station's schedule. A schedule outside the caller's scope is not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Protocol

from app.domain.emergency.errors import invalid
from app.domain.emergency.glossary import RaisedBy
from app.domain.emergency.incident import DESCRIPTION_MAX, IncidentRouting, _text
from app.domain.emergency.incident_ports import IncidentUnitOfWork
from app.domain.emergency.incidents import IncidentService, NewIncident
from app.domain.organisation.model import Routing
from app.domain.shared.clock import Clock
from app.domain.shared.errors import Conflict, NotAllowed, NotFound
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Scope, system_scope

MIN_LEAD: Final = timedelta(minutes=1)
MAX_LEAD: Final = timedelta(days=366)


class DrillStatus(StrEnum):
    SCHEDULED = "scheduled"
    RAISED = "raised"
    CANCELLED = "cancelled"


class DrillNotFound(NotFound):
    code = "emergency.drill_not_found"
    message_en = "The scheduled drill was not found."
    message_zh = "未找到该计划演练。"


class DrillNotScheduled(Conflict):
    code = "emergency.drill_not_scheduled"
    message_en = "The drill was already raised or cancelled."
    message_zh = "该演练已发起或已取消。"


@dataclass(slots=True)
class ScheduledDrill:
    id: uuid.UUID
    plan: NewIncident  # drill=True
    routing: IncidentRouting
    scheduled_at: datetime
    created_by: uuid.UUID
    created_at: datetime
    status: DrillStatus = DrillStatus.SCHEDULED
    incident_id: uuid.UUID | None = None
    version: int = 1

    @classmethod
    def plan_new(
        cls,
        plan: NewIncident,
        routing: IncidentRouting,
        at: datetime,
        *,
        by: uuid.UUID,
        now: datetime,
    ) -> ScheduledDrill:
        if at.tzinfo is None or not now + MIN_LEAD <= at <= now + MAX_LEAD:
            raise invalid(
                "drill_time",
                "scheduled_at",
                "Schedule a drill from a minute to a year ahead (with a time zone).",
                "计划演练时间须在1分钟至1年之后（须带时区）。",
            )
        return cls(new_id(), plan, routing, at, by, now)

    def cancel(self) -> None:
        if self.status != DrillStatus.SCHEDULED:
            raise DrillNotScheduled()
        self.status = DrillStatus.CANCELLED

    def raised(self, incident_id: uuid.UUID) -> None:
        if self.status != DrillStatus.SCHEDULED:
            raise DrillNotScheduled()
        self.status, self.incident_id = DrillStatus.RAISED, incident_id


@dataclass(frozen=True, slots=True)
class DrillSlice:
    items: list[ScheduledDrill]
    has_more: bool


class DrillScheduleRepository(Protocol):
    async def insert(self, drill: ScheduledDrill) -> None: ...

    async def get(self, drill_id: uuid.UUID, *, for_update: bool = False) -> ScheduledDrill | None:
        """The schedule if the caller's scope covers its station (system: any)."""
        ...

    async def save(self, drill: ScheduledDrill) -> None:
        """Store status and incident, bumping the version (``StaleVersion`` if it moved)."""
        ...

    async def page(
        self,
        *,
        station_id: uuid.UUID | None,
        status: DrillStatus | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> DrillSlice: ...

    async def due(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Scheduled drills whose time has come (system scope)."""
        ...


class DrillUnitOfWork(IncidentUnitOfWork, Protocol):
    @property
    def drills(self) -> DrillScheduleRepository: ...


DrillUowFactory = Callable[[Scope], DrillUnitOfWork]


class DrillScheduler:
    def __init__(
        self, uow_factory: DrillUowFactory, clock: Clock, incidents: IncidentService
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.incidents = incidents

    async def schedule(self, scope: Scope, plan: NewIncident, at: datetime) -> ScheduledDrill:
        if not scope.is_staff:
            raise NotAllowed("Only station staff plan drills.", "只有派出所工作人员可以计划演练。")
        plan = NewIncident(plan.type, plan.severity, plan.location, plan.description, drill=True)
        routing, _ = await self.incidents.route(scope, plan)
        drill = ScheduledDrill.plan_new(
            plan,
            IncidentRouting(routing.district_id, routing.station_id),
            at,
            by=scope.account_id,
            now=self.clock.now(),
        )
        # The description is checked now, not when the drill is due.
        _text(
            plan.description,
            DESCRIPTION_MAX,
            "description_invalid",
            "description",
            f"请描述演练情况（1至{DESCRIPTION_MAX}字）。",
        )
        async with self.uow_factory(scope) as uow:
            await uow.drills.insert(drill)
            uow.audit(
                "emergency.drill_scheduled",
                "emergency_drill",
                drill.id,
                {"type": plan.type.value, "at": at.isoformat()},
            )
            await uow.commit()
        return drill

    async def cancel(self, scope: Scope, drill_id: uuid.UUID) -> ScheduledDrill:
        async with self.uow_factory(scope) as uow:
            drill = await uow.drills.get(drill_id, for_update=True)
            if drill is None:
                raise DrillNotFound()
            if not scope.writes_at(drill.routing.station_id, drill.routing.district_id):
                raise NotAllowed()
            drill.cancel()
            await uow.drills.save(drill)
            uow.audit("emergency.drill_cancelled", "emergency_drill", drill.id, {})
            await uow.commit()
        return drill

    async def get(self, scope: Scope, drill_id: uuid.UUID) -> ScheduledDrill:
        if not scope.is_staff:
            raise DrillNotFound()
        async with self.uow_factory(scope) as uow:
            drill = await uow.drills.get(drill_id)
        if drill is None:
            raise DrillNotFound()
        return drill

    async def list(
        self,
        scope: Scope,
        *,
        station_id: uuid.UUID | None = None,
        status: DrillStatus | None = None,
        limit: int = 20,
        after: uuid.UUID | None = None,
    ) -> DrillSlice:
        if not scope.is_staff:
            raise NotAllowed()
        async with self.uow_factory(scope) as uow:
            return await uow.drills.page(
                station_id=station_id, status=status, limit=limit, after=after
            )

    async def raise_due(self, *, limit: int = 20) -> int:
        """Raise every drill whose time has come (the worker's ticker), each in its own
        transaction with its schedule marked raised."""
        now = self.clock.now()
        async with self.uow_factory(system_scope("emergency-drills")) as uow:
            due = await uow.drills.due(now, limit)
        for drill_id in due:
            scope = system_scope("emergency-drills")
            async with self.uow_factory(scope) as uow:
                drill = await uow.drills.get(drill_id, for_update=True)
                if drill is None or drill.status != DrillStatus.SCHEDULED:
                    continue
                routing = Routing(drill.routing.district_id, drill.routing.station_id, None, None)
                incident = await self.incidents.raise_in(
                    uow,
                    scope,
                    drill.plan,
                    routing,
                    RaisedBy.OFFICER,
                    drill.created_by,
                    self.clock.now(),
                )
                drill.raised(incident.id)
                await uow.drills.save(drill)
                await uow.commit()
        return len(due)
