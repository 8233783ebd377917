"""/api/v1/emergency/incidents (急、难、险): raise (dispatch starts at once), read with the
timeline, answer an alert (accept, decline, on my way, on scene, stand down), the
officer's stand-down of everyone, resolve, cancel; drill results and a station's
readiness score (/api/v1/emergency/readiness)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import OutputCrs, Page, PageCursor, PageLimit, parse_path_id
from app.api.rest.idempotency import run_idempotent
from app.api.rest.incidents_schemas import (
    INCIDENT_ERRORS,
    RAISE_ERRORS,
    RESPOND_ERRORS,
    STAFF_ERRORS,
    CancelIn,
    DispatchPolicyIn,
    DispatchPolicyOut,
    DrillIn,
    DrillOut,
    DrillReportOut,
    IncidentIn,
    IncidentOut,
    ReadinessOut,
    ResolveIn,
    ResponseIn,
)
from app.domain.emergency.drills import DrillNotFound, DrillScheduler, DrillStatus
from app.domain.emergency.errors import IncidentNotFound
from app.domain.emergency.glossary import IncidentType
from app.domain.emergency.incidents import IncidentService, IncidentView, NewIncident
from app.domain.emergency.readiness import Period
from app.domain.shared.geo import Crs
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["emergency-incidents"])
BASE = "/api/v1/emergency/incidents"


def _service(request: Request) -> IncidentService:
    return services_of(request).get(IncidentService)


def _iid(raw: str) -> uuid.UUID:
    return parse_path_id(raw, IncidentNotFound)


def _out(view: IncidentView, crs: Crs = Crs.WGS84, status: int = 200) -> JSONResponse:
    headers = {"Location": f"{BASE}/{view.incident.id}"} if status == 201 else None
    return JSONResponse(
        IncidentOut.of(view, crs).model_dump(mode="json"), status_code=status, headers=headers
    )


@router.post(
    "/emergency/incidents",
    operation_id="raiseEmergencyIncident",
    summary="Raise an incident (officer, district staff for the command centre, or a "
    "serving volunteer); the station is informed first and the first ring is alerted "
    "before this returns. Drills (staff only) are marked end to end.",
    status_code=201,
    response_model=IncidentOut,
    responses=RAISE_ERRORS,
)
async def raise_incident(
    request: Request, body: IncidentIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    async def handler() -> JSONResponse:
        view = await _service(request).raise_incident(
            scope,
            NewIncident(
                type=body.type,
                severity=body.severity,
                location=body.location.to_point(),
                description=body.description,
                drill=body.drill,
                media_ids=tuple(body.media_ids),
                command_centre=body.command_centre,
            ),
        )
        return _out(view, status=201)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="raiseEmergencyIncident",
        payload=body.model_dump(mode="json"),
        handler=handler,
    )


@router.get(
    "/emergency/incidents",
    operation_id="listEmergencyIncidents",
    summary="Staff: their stations' incidents; a volunteer: those they were alerted to or "
    "raised. Newest first.",
    response_model=Page[IncidentOut],
    responses=INCIDENT_ERRORS,
)
async def list_incidents(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    station_id: uuid.UUID | None = None,
    live: Annotated[bool, Query(description="Only open or dispatching")] = False,
    drill: Annotated[bool | None, Query(description="Only drills (true) or real (false)")] = None,
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 20,
    cursor: PageCursor = None,
) -> Any:
    page = await _service(request).list(
        scope,
        station_id=station_id,
        live_only=live,
        drill=drill,
        limit=limit,
        after=after_id(cursor),
    )
    return Page[IncidentOut].keyset(
        [IncidentOut.of(v, crs) for v in page.items], more=page.has_more
    )


@router.get(
    "/emergency/incidents/{incident_id}",
    operation_id="getEmergencyIncident",
    summary="An incident with its responses and timeline (alert → accept → arrive → resolve)",
    response_model=IncidentOut,
    responses=INCIDENT_ERRORS,
)
async def get_incident(
    request: Request,
    incident_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    return _out(await _service(request).get(scope, _iid(incident_id)), crs)


@router.post(
    "/emergency/incidents/{incident_id}/response",
    operation_id="respondToEmergencyIncident",
    summary="An alerted member answers: accept or decline; after accepting: on_my_way, "
    "on_scene, stand_down. Each step is timestamped.",
    response_model=IncidentOut,
    responses=RESPOND_ERRORS,
)
async def respond(
    request: Request,
    incident_id: str,
    body: ResponseIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    return _out(await _service(request).respond(scope, _iid(incident_id), body.action))


@router.post(
    "/emergency/incidents/{incident_id}/stand-down",
    operation_id="standDownEmergencyIncident",
    summary="Officer: police on scene, stand everyone down (no further alerts)",
    response_model=IncidentOut,
    responses=STAFF_ERRORS,
)
async def stand_down(
    request: Request, incident_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    return _out(await _service(request).stand_down_all(scope, _iid(incident_id)))


@router.post(
    "/emergency/incidents/{incident_id}/resolve",
    operation_id="resolveEmergencyIncident",
    summary="Officer: the incident is over (responses still open are stood down)",
    response_model=IncidentOut,
    responses=STAFF_ERRORS,
)
async def resolve(
    request: Request,
    incident_id: str,
    body: ResolveIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    return _out(await _service(request).resolve(scope, _iid(incident_id), body.note))


@router.post(
    "/emergency/incidents/{incident_id}/cancel",
    operation_id="cancelEmergencyIncident",
    summary="Officer: cancel (false alarm, duplicate) with a reason",
    response_model=IncidentOut,
    responses=STAFF_ERRORS,
)
async def cancel(
    request: Request,
    incident_id: str,
    body: CancelIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    return _out(await _service(request).cancel(scope, _iid(incident_id), body.reason))


@router.get(
    "/emergency/incidents/{incident_id}/drill-results",
    operation_id="getEmergencyDrillResults",
    summary="Staff: a drill's results per alerted unit (time to first accept, to first "
    "arrival, share of members answering) with each unit's score",
    response_model=DrillReportOut,
    responses={**INCIDENT_ERRORS, 409: {"description": "Not a drill"}},
)
async def drill_results(
    request: Request, incident_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    return DrillReportOut.of(await _service(request).drill_report(scope, _iid(incident_id)))


@router.get(
    "/emergency/readiness",
    operation_id="getEmergencyReadiness",
    summary="Staff: a station's readiness score over a period (应急单元响应能力), from drills "
    "only, per unit with the raw times behind it",
    response_model=ReadinessOut,
    responses={
        401: {"description": "Not signed in"},
        403: {"description": "Not staff"},
        404: {"description": "No such station you may see"},
        422: {"description": "Invalid period"},
    },
)
async def readiness(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    station_id: uuid.UUID,
    start: Annotated[datetime, Query(description="Period start (inclusive, RFC 3339)")],
    end: Annotated[datetime, Query(description="Period end (exclusive, RFC 3339)")],
) -> Any:
    period = Period(start, end)
    result = await _service(request).readiness(scope, station_id, period)
    return ReadinessOut.of(result, start, end)


POLICY_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not an admin of the district"},
    404: {"description": "No such district you may see"},
    422: {"description": "Invalid policy (radii, sizes, timeouts or channel delays)"},
}


@router.get(
    "/emergency/dispatch-policies",
    operation_id="listEmergencyDispatchPolicies",
    summary="District staff: the ring policy of every incident type in the district "
    "(radii, ring sizes, timeouts, accepts needed, capabilities, channel escalation)",
    response_model=list[DispatchPolicyOut],
    responses=POLICY_ERRORS,
)
async def list_policies(
    request: Request, district_id: uuid.UUID, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    found = await _service(request).policies(scope, district_id)
    return [DispatchPolicyOut.of(t, p, custom) for t, (p, custom) in found.items()]


@router.put(
    "/emergency/dispatch-policies/{incident_type}",
    operation_id="setEmergencyDispatchPolicy",
    summary="District admin: the district's policy for one incident type (incidents already "
    "raised keep theirs)",
    response_model=DispatchPolicyOut,
    responses=POLICY_ERRORS,
)
async def set_policy(
    request: Request,
    incident_type: IncidentType,
    district_id: uuid.UUID,
    body: DispatchPolicyIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    policy, custom = await _service(request).set_policy(
        scope, district_id, incident_type, body.to_policy()
    )
    return DispatchPolicyOut.of(incident_type, policy, custom)


@router.delete(
    "/emergency/dispatch-policies/{incident_type}",
    operation_id="resetEmergencyDispatchPolicy",
    summary="District admin: back to the built-in default for one incident type",
    response_model=DispatchPolicyOut,
    responses=POLICY_ERRORS,
)
async def reset_policy(
    request: Request,
    incident_type: IncidentType,
    district_id: uuid.UUID,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    policy, custom = await _service(request).set_policy(scope, district_id, incident_type, None)
    return DispatchPolicyOut.of(incident_type, policy, custom)


DRILL_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not writing staff of the station the location belongs to"},
    404: {"description": "No such scheduled drill you may see"},
    409: {"description": "Already raised or cancelled"},
    422: {"description": "Invalid input (time not 1 minute to 1 year ahead, location outside)"},
}


def _did(raw: str) -> uuid.UUID:
    return parse_path_id(raw, DrillNotFound)


def _drills(request: Request) -> DrillScheduler:
    return services_of(request).get(DrillScheduler)


@router.post(
    "/emergency/drills",
    operation_id="scheduleEmergencyDrill",
    summary="Station staff: plan a drill (计划演练); the worker raises it at its time through "
    "the same dispatch path, marked drill. For an unannounced drill now, raise an incident "
    "with drill=true.",
    status_code=201,
    response_model=DrillOut,
    responses=DRILL_ERRORS,
)
async def schedule_drill(
    request: Request, body: DrillIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    async def handler() -> JSONResponse:
        drill = await _drills(request).schedule(
            scope,
            NewIncident(
                body.type, body.severity, body.location.to_point(), body.description, drill=True
            ),
            body.scheduled_at,
        )
        return JSONResponse(
            DrillOut.of(drill).model_dump(mode="json"),
            status_code=201,
            headers={"Location": f"/api/v1/emergency/drills/{drill.id}"},
        )

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="scheduleEmergencyDrill",
        payload=body.model_dump(mode="json"),
        handler=handler,
    )


@router.get(
    "/emergency/drills",
    operation_id="listEmergencyDrills",
    summary="Staff: their stations' planned drills, newest first",
    response_model=Page[DrillOut],
    responses=DRILL_ERRORS,
)
async def list_drills(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    station_id: uuid.UUID | None = None,
    status: DrillStatus | None = None,
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 20,
    cursor: PageCursor = None,
) -> Any:
    found = await _drills(request).list(
        scope, station_id=station_id, status=status, limit=limit, after=after_id(cursor)
    )
    return Page[DrillOut].keyset([DrillOut.of(d, crs) for d in found.items], more=found.has_more)


@router.get(
    "/emergency/drills/{drill_id}",
    operation_id="getEmergencyDrill",
    summary="Staff: a planned drill (with its incident once raised)",
    response_model=DrillOut,
    responses=DRILL_ERRORS,
)
async def get_drill(
    request: Request,
    drill_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    return DrillOut.of(await _drills(request).get(scope, _did(drill_id)), crs)


@router.post(
    "/emergency/drills/{drill_id}/cancel",
    operation_id="cancelEmergencyDrill",
    summary="Station staff: cancel a planned drill before it is raised",
    response_model=DrillOut,
    responses=DRILL_ERRORS,
)
async def cancel_drill(
    request: Request, drill_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    return DrillOut.of(await _drills(request).cancel(scope, _did(drill_id)))
