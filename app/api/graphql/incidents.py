"""GraphQL door of incidents and dispatch (急、难、险): an incident with its responses and
timeline, incidents in scope, a drill's results and a station's readiness; mutations to
raise, answer, stand everyone down, resolve and cancel. Same service and permission
checks as REST (/api/v1/emergency/incidents)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.emergency import EmergencyLocationInput, EmergencyPoint
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.geo import Crs
from app.api.graphql.incident_enums import registered
from app.api.graphql.relay import first_of
from app.api.pagination import after_id, id_cursor
from app.domain.emergency.drills import DrillScheduler, ScheduledDrill
from app.domain.emergency.glossary import (
    INCIDENT_TYPE_LABELS,
    SEVERITY_LABELS,
    IncidentType,
    RaisedBy,
    Severity,
)
from app.domain.emergency.incident import IncidentEventKind, IncidentStatus
from app.domain.emergency.incidents import (
    IncidentService,
    IncidentView,
    NewIncident,
    ResponseAction,
)
from app.domain.emergency.readiness import DrillResult, Period, UnitReadiness
from app.domain.emergency.responses import RESPONSE_LABELS, Response, ResponseStatus
from app.domain.shared.errors import DomainError
from app.domain.shared.geo import from_wgs84
from app.domain.shared.scope import Scope

assert registered


@strawberry.type
class IncidentResponseStep:
    status: ResponseStatus
    at: datetime
    by_officer: bool


@strawberry.type(description="响应: one alerted member's answer, step by step.")
class IncidentResponse:
    member_id: UUID
    unit_id: UUID | None
    ring: int
    status: ResponseStatus
    status_label: str
    alerted_at: datetime
    steps: list[IncidentResponseStep]

    @classmethod
    def of(cls, r: Response) -> IncidentResponse:
        return cls(
            member_id=r.member_id,
            unit_id=r.unit_id,
            ring=r.ring,
            status=r.status,
            status_label=RESPONSE_LABELS[r.status],
            alerted_at=r.alerted_at,
            steps=[
                IncidentResponseStep(status=s.status, at=s.at, by_officer=s.by_officer)
                for s in r.steps
            ],
        )


@strawberry.type
class IncidentTimelineEntry:
    at: datetime
    kind: IncidentEventKind
    member_id: UUID | None
    ring: int | None
    by_officer: bool


@strawberry.type(name="EmergencyIncident", description="急、难、险 with its dispatch.")
class EmergencyIncidentType:
    id: UUID
    type: IncidentType
    type_label: str
    severity: Severity
    severity_label: str
    drill: bool = strawberry.field(description="演练: never counted as a real incident")
    status: IncidentStatus
    description: str
    raised_by: RaisedBy
    raised_at: datetime
    station_id: UUID | None
    district_id: UUID
    ring: int | None
    accepts: int
    exhausted_at: datetime | None
    stood_down_at: datetime | None
    closed_at: datetime | None
    close_note: str | None
    my_response: IncidentResponse | None
    responses: list[IncidentResponse] = strawberry.field(
        description="Staff: every response; a volunteer: their own only"
    )
    timeline: list[IncidentTimelineEntry]
    view: strawberry.Private[IncidentView]

    @classmethod
    def of(cls, view: IncidentView) -> EmergencyIncidentType:
        i = view.incident
        own = view.viewer_member_id
        mine = view.my_response
        return cls(
            id=i.id,
            type=i.type,
            type_label=INCIDENT_TYPE_LABELS[i.type],
            severity=i.severity,
            severity_label=SEVERITY_LABELS[i.severity],
            drill=i.drill,
            status=i.status,
            description=i.description,
            raised_by=i.raised_by,
            raised_at=i.raised_at,
            station_id=i.routing.station_id,
            district_id=i.routing.district_id,
            ring=i.ring_index,
            accepts=i.accepts,
            exhausted_at=i.exhausted_at,
            stood_down_at=i.stood_down_at,
            closed_at=i.closed_at,
            close_note=i.close_note,
            my_response=IncidentResponse.of(mine) if mine else None,
            responses=[IncidentResponse.of(r) for r in view.responses],
            timeline=[
                IncidentTimelineEntry(
                    at=e.at,
                    kind=e.kind,
                    member_id=e.member_id,
                    ring=e.ring,
                    by_officer=e.by_officer,
                )
                for e in i.timeline()
                if view.staff or e.member_id is None or e.member_id == own
            ],
            view=view,
        )

    @strawberry.field
    def location(self, crs: Crs = Crs.WGS84) -> EmergencyPoint:
        lon, lat = from_wgs84(self.view.incident.location, crs)
        return EmergencyPoint(lon=round(lon, 7), lat=round(lat, 7), crs=crs)


@strawberry.type(name="EmergencyScheduledDrill", description="计划演练: raised at its time.")
class EmergencyScheduledDrillType:
    id: UUID
    type: IncidentType
    severity: Severity
    description: str
    station_id: UUID | None
    district_id: UUID
    scheduled_at: datetime
    status: str = strawberry.field(description="scheduled, raised or cancelled")
    incident_id: UUID | None
    created_by: UUID
    drill: strawberry.Private[ScheduledDrill]

    @classmethod
    def of(cls, d: ScheduledDrill) -> EmergencyScheduledDrillType:
        return cls(
            id=d.id,
            type=d.plan.type,
            severity=d.plan.severity,
            description=d.plan.description,
            station_id=d.routing.station_id,
            district_id=d.routing.district_id,
            scheduled_at=d.scheduled_at,
            status=d.status.value,
            incident_id=d.incident_id,
            created_by=d.created_by,
            drill=d,
        )

    @strawberry.field
    def location(self, crs: Crs = Crs.WGS84) -> EmergencyPoint:
        lon, lat = from_wgs84(self.drill.plan.location, crs)
        return EmergencyPoint(lon=round(lon, 7), lat=round(lat, 7), crs=crs)


@strawberry.type
class EmergencyIncidentPage:
    items: list[EmergencyIncidentType]
    next_cursor: str | None


@strawberry.type
class EmergencyDrillResult:
    unit_id: UUID
    alerted_at: datetime
    alerted_members: int
    responded_members: int
    accepted_members: int
    response_share: float
    first_accept_s: float | None
    first_arrival_s: float | None
    score: float | None

    @classmethod
    def of(cls, r: DrillResult, score: float | None = None) -> EmergencyDrillResult:
        return cls(
            unit_id=r.unit_id,
            alerted_at=r.alerted_at,
            alerted_members=r.alerted_members,
            responded_members=r.responded_members,
            accepted_members=r.accepted_members,
            response_share=round(r.response_share, 3),
            first_accept_s=r.first_accept_s,
            first_arrival_s=r.first_arrival_s,
            score=score,
        )


@strawberry.type
class EmergencyUnitReadiness:
    unit_id: UUID
    score: float | None = strawberry.field(description="None: no drill in the period")
    drills: int
    mean_first_accept_s: float | None
    mean_first_arrival_s: float | None
    response_share: float | None
    results: list[EmergencyDrillResult]

    @classmethod
    def of(cls, u: UnitReadiness) -> EmergencyUnitReadiness:
        return cls(
            unit_id=u.unit_id,
            score=u.score,
            drills=u.drills,
            mean_first_accept_s=u.mean_first_accept_s,
            mean_first_arrival_s=u.mean_first_arrival_s,
            response_share=u.response_share,
            results=[EmergencyDrillResult.of(r) for r in u.results],
        )


@strawberry.type(description="应急单元响应能力 of a station over a period, from drills only.")
class EmergencyReadiness:
    station_id: UUID
    score: float | None
    scored_units: int
    units: list[EmergencyUnitReadiness]


def _service(info: Info) -> IncidentService:
    return info.context.services.get(IncidentService)


@strawberry.type
class IncidentQuery:
    @strawberry.field(
        description="An incident you may see (staff: your stations'; a "
        "volunteer: one you were alerted to or raised)."
    )
    async def emergency_incident(self, info: Info, id: UUID) -> EmergencyIncidentType:
        scope = await info.context.scope()
        return EmergencyIncidentType.of(await _service(info).get(scope, id))

    @strawberry.field(description="Incidents you may see, newest first.")
    async def emergency_incidents(
        self,
        info: Info,
        station_id: UUID | None = None,
        live: bool = False,
        drill: bool | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> EmergencyIncidentPage:
        scope = await info.context.scope()
        page = await _service(info).list(
            scope,
            station_id=station_id,
            live_only=live,
            drill=drill,
            limit=first_of(first),
            after=after_id(after),
        )
        items = page.items
        cursor = id_cursor(items[-1].incident.id) if page.has_more and items else None
        return EmergencyIncidentPage(
            items=[EmergencyIncidentType.of(v) for v in items], next_cursor=cursor
        )

    @strawberry.field(description="Staff: their stations' planned drills, newest first.")
    async def emergency_drills(
        self,
        info: Info,
        station_id: UUID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> list[EmergencyScheduledDrillType]:
        scope = await info.context.scope()
        found = await info.context.services.get(DrillScheduler).list(
            scope, station_id=station_id, limit=first_of(first), after=after_id(after)
        )
        return [EmergencyScheduledDrillType.of(d) for d in found.items]

    @strawberry.field(description="Staff: a drill's results per alerted unit, with scores.")
    async def emergency_drill_results(self, info: Info, id: UUID) -> list[EmergencyDrillResult]:
        scope = await info.context.scope()
        report = await _service(info).drill_report(scope, id)
        return [EmergencyDrillResult.of(r, s) for r, s in report.results]

    @strawberry.field(description="Staff: a station's readiness over [start, end).")
    async def emergency_readiness(
        self, info: Info, station_id: UUID, start: datetime, end: datetime
    ) -> EmergencyReadiness:
        scope = await info.context.scope()
        period = Period(start, end)
        s = await _service(info).readiness(scope, station_id, period)
        return EmergencyReadiness(
            station_id=s.station_id,
            score=s.score,
            scored_units=s.scored_units,
            units=[EmergencyUnitReadiness.of(u) for u in s.units],
        )


@strawberry.input
class RaiseEmergencyIncidentInput:
    type: IncidentType
    location: EmergencyLocationInput
    description: str
    severity: Severity = Severity.HIGH
    drill: bool = False
    media_ids: list[UUID] = strawberry.field(default_factory=list)
    command_centre: bool = False


@strawberry.type
class EmergencyIncidentPayload:
    incident: EmergencyIncidentType


EmergencyIncidentResult = Annotated[
    EmergencyIncidentPayload | MutationProblem, strawberry.union("EmergencyIncidentResult")
]


async def _act(
    info: Info, act: Callable[[IncidentService, Scope], Awaitable[IncidentView]]
) -> EmergencyIncidentResult:
    scope = await info.context.scope()
    try:
        view = await act(_service(info), scope)
    except DomainError as e:
        return problem_of(e, info.context.lang)
    return EmergencyIncidentPayload(incident=EmergencyIncidentType.of(view))


@strawberry.input
class ScheduleEmergencyDrillInput:
    type: IncidentType
    location: EmergencyLocationInput
    description: str
    scheduled_at: datetime
    severity: Severity = Severity.HIGH


@strawberry.type
class EmergencyDrillPayload:
    drill: EmergencyScheduledDrillType


ScheduledDrillResult = Annotated[
    EmergencyDrillPayload | MutationProblem, strawberry.union("ScheduledDrillResult")
]


async def _drill(
    info: Info, act: Callable[[DrillScheduler, Scope], Awaitable[ScheduledDrill]]
) -> ScheduledDrillResult:
    scope = await info.context.scope()
    try:
        drill = await act(info.context.services.get(DrillScheduler), scope)
    except DomainError as e:
        return problem_of(e, info.context.lang)
    return EmergencyDrillPayload(drill=EmergencyScheduledDrillType.of(drill))


@strawberry.type
class IncidentMutation:
    @strawberry.mutation(description="Station staff: plan a drill raised at its time.")
    async def schedule_emergency_drill(
        self, info: Info, input: ScheduleEmergencyDrillInput
    ) -> ScheduledDrillResult:
        plan = NewIncident(
            input.type, input.severity, input.location.to_point(), input.description, drill=True
        )
        return await _drill(info, lambda s, scope: s.schedule(scope, plan, input.scheduled_at))

    @strawberry.mutation(description="Station staff: cancel a planned drill.")
    async def cancel_emergency_drill(self, info: Info, id: UUID) -> ScheduledDrillResult:
        return await _drill(info, lambda s, scope: s.cancel(scope, id))

    @strawberry.mutation(description="Raise an incident; the first ring is alerted at once.")
    async def raise_emergency_incident(
        self, info: Info, input: RaiseEmergencyIncidentInput
    ) -> EmergencyIncidentResult:
        async def act(s: IncidentService, scope: Scope) -> IncidentView:
            return await s.raise_incident(
                scope,
                NewIncident(
                    type=input.type,
                    severity=input.severity,
                    location=input.location.to_point(),
                    description=input.description,
                    drill=input.drill,
                    media_ids=tuple(input.media_ids),
                    command_centre=input.command_centre,
                ),
            )

        return await _act(info, act)

    @strawberry.mutation(description="An alerted member answers (accept, decline, ...).")
    async def respond_to_emergency_incident(
        self, info: Info, id: UUID, action: ResponseAction
    ) -> EmergencyIncidentResult:
        return await _act(info, lambda s, scope: s.respond(scope, id, action.value))

    @strawberry.mutation(description="Officer: police on scene, stand everyone down.")
    async def stand_down_emergency_incident(self, info: Info, id: UUID) -> EmergencyIncidentResult:
        return await _act(info, lambda s, scope: s.stand_down_all(scope, id))

    @strawberry.mutation(description="Officer: the incident is over.")
    async def resolve_emergency_incident(
        self, info: Info, id: UUID, note: str | None = None
    ) -> EmergencyIncidentResult:
        return await _act(info, lambda s, scope: s.resolve(scope, id, note))

    @strawberry.mutation(description="Officer: cancel with a reason (误报、重复).")
    async def cancel_emergency_incident(
        self, info: Info, id: UUID, reason: str
    ) -> EmergencyIncidentResult:
        return await _act(info, lambda s, scope: s.cancel(scope, id, reason))
