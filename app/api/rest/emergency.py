"""/api/v1/emergency-units (最小应急单元) and the member's own duty and locations
(/api/v1/me/duty, /api/v1/me/locations, /api/v1/me/emergency-units/{id}/capabilities):
units made from emergency-unit teams by station staff, equipment with locations, roster
slots, capability claims backed by certificates, "available now" / off duty, and batched
location reports while on duty."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id, decode_cursor, encode_cursor, id_cursor
from app.api.rest import API_V1
from app.api.rest.common import (
    OutputCrs,
    Page,
    PageCursor,
    PageLimit,
    etag_response,
    parse_path_id,
)
from app.api.rest.common import expected_version as if_match
from app.api.rest.emergency_schemas import (
    COMMON_ERRORS,
    CREATE_ERRORS,
    DUTY_ERRORS,
    LOCATION_ERRORS,
    MEMBER_ERRORS,
    WRITE_ERRORS,
    CapabilitiesIn,
    DutyIn,
    EquipmentIn,
    EquipmentMoveIn,
    LocationReportOut,
    LocationsIn,
    MyDutyOut,
    RosterIn,
    SampleOut,
    UnitIn,
    UnitMemberOut,
    UnitOut,
    UnitPatchIn,
)
from app.api.rest.idempotency import run_idempotent
from app.domain.emergency.errors import EquipmentNotFound, MemberNotFound, UnitNotFound
from app.domain.emergency.model import EmergencyUnit
from app.domain.emergency.services import EmergencyUnitService, NewEquipment, NewUnit
from app.domain.shared.errors import InvalidInput
from app.domain.shared.geo import Crs
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["emergency-units"])
BASE = "/api/v1/emergency-units"


def _service(request: Request) -> EmergencyUnitService:
    return services_of(request).get(EmergencyUnitService)


def _uid(raw: str) -> uuid.UUID:
    return parse_path_id(raw, UnitNotFound)


def _one(unit: EmergencyUnit, crs: Crs = Crs.WGS84, status: int = 200) -> JSONResponse:
    return etag_response(
        UnitOut.of(unit, crs),
        unit.id,
        unit.version,
        status=status,
        location=f"{BASE}/{unit.id}" if status == 201 else "",
    )


@router.post(
    "/emergency-units",
    operation_id="createEmergencyUnit",
    summary="Station staff: make an emergency unit of a team of type emergency_unit with a "
    "leader (the unit's id is the team's), with its base and the capabilities it offers",
    status_code=201,
    response_model=UnitOut,
    responses=CREATE_ERRORS,
)
async def create_unit(
    request: Request, body: UnitIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    async def handler() -> JSONResponse:
        unit = await _service(request).create_unit(
            scope, NewUnit(body.team_id, body.base.to_point(), tuple(body.offers))
        )
        return _one(unit, status=201)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="createEmergencyUnit",
        payload=body.model_dump(mode="json"),
        handler=handler,
    )


@router.get(
    "/emergency-units",
    operation_id="listEmergencyUnits",
    summary="Staff: the units of their jurisdiction; a volunteer: the units they belong to",
    response_model=Page[UnitOut],
    responses=COMMON_ERRORS,
)
async def list_units(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    station_id: uuid.UUID | None = None,
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    units, more = await _service(request).list_units(
        scope, station_id=station_id, limit=limit, after=after_id(cursor)
    )
    return Page[UnitOut].keyset([UnitOut.of(u, crs) for u in units], more=more)


@router.get(
    "/emergency-units/{unit_id}",
    operation_id="getEmergencyUnit",
    summary="An emergency unit with its equipment",
    response_model=UnitOut,
    responses=COMMON_ERRORS,
)
async def get_unit(
    request: Request,
    unit_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    return _one(await _service(request).get_unit(scope, _uid(unit_id)), crs)


@router.patch(
    "/emergency-units/{unit_id}",
    operation_id="updateEmergencyUnit",
    summary="Station staff: move the base or change what the unit offers (If-Match optional)",
    response_model=UnitOut,
    responses=WRITE_ERRORS,
)
async def update_unit(
    request: Request,
    unit_id: str,
    body: UnitPatchIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    uid = _uid(unit_id)
    unit = await _service(request).update_unit(
        scope,
        uid,
        base=body.base.to_point() if body.base else None,
        offers=body.offers,
        expected_version=if_match(request, uid, required=False),
    )
    return _one(unit, crs)


@router.post(
    "/emergency-units/{unit_id}/equipment",
    operation_id="addEmergencyEquipment",
    summary="Staff or the unit's leader: register equipment where it is kept (AED, "
    "extinguisher, first-aid kit, life buoy...); answers the unit",
    status_code=201,
    response_model=UnitOut,
    responses=WRITE_ERRORS,
)
async def add_equipment(
    request: Request,
    unit_id: str,
    body: EquipmentIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    uid = _uid(unit_id)
    unit, _ = await _service(request).add_equipment(
        scope,
        uid,
        NewEquipment(body.kind, body.location.to_point(), body.label, body.service_due),
        expected_version=if_match(request, uid, required=False),
    )
    return _one(unit, crs, status=201)


@router.patch(
    "/emergency-units/{unit_id}/equipment/{item_id}",
    operation_id="moveEmergencyEquipment",
    summary="Staff or the unit's leader: the item is now kept elsewhere; answers the unit",
    response_model=UnitOut,
    responses=WRITE_ERRORS,
)
async def move_equipment(
    request: Request,
    unit_id: str,
    item_id: str,
    body: EquipmentMoveIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    uid = _uid(unit_id)
    unit, _ = await _service(request).move_equipment(
        scope,
        uid,
        parse_path_id(item_id, EquipmentNotFound),
        body.location.to_point(),
        expected_version=if_match(request, uid, required=False),
    )
    return _one(unit, crs)


@router.delete(
    "/emergency-units/{unit_id}/equipment/{item_id}",
    operation_id="removeEmergencyEquipment",
    summary="Staff or the unit's leader: remove an item; answers the unit",
    response_model=UnitOut,
    responses=WRITE_ERRORS,
)
async def remove_equipment(
    request: Request,
    unit_id: str,
    item_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    uid = _uid(unit_id)
    unit = await _service(request).remove_equipment(
        scope,
        uid,
        parse_path_id(item_id, EquipmentNotFound),
        expected_version=if_match(request, uid, required=False),
    )
    return _one(unit, crs)


@router.get(
    "/emergency-units/{unit_id}/members",
    operation_id="listEmergencyUnitMembers",
    summary="Members with duty status; staff of the unit's station also see names, "
    "certified capabilities and last known locations",
    response_model=Page[UnitMemberOut],
    responses=COMMON_ERRORS,
)
async def list_members(
    request: Request,
    unit_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    members, more = await _service(request).members(
        scope, _uid(unit_id), limit=limit, after=after_id(cursor)
    )
    return Page[UnitMemberOut].keyset(
        [UnitMemberOut.of(m, crs) for m in members],
        more=more,
        cursor=lambda m: id_cursor(m.volunteer_id),
    )


@router.put(
    "/emergency-units/{unit_id}/members/{volunteer_id}/roster",
    operation_id="setEmergencyRoster",
    summary="Staff or the unit's leader: a member's weekly on-duty slots (值班表)",
    response_model=UnitMemberOut,
    responses=WRITE_ERRORS,
)
async def set_roster(
    request: Request,
    unit_id: str,
    volunteer_id: str,
    body: RosterIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    member = await _service(request).set_roster(
        scope,
        _uid(unit_id),
        parse_path_id(volunteer_id, MemberNotFound),
        [s.to_slot() for s in body.slots],
    )
    return UnitMemberOut.of(member)


@router.put(
    "/me/emergency-units/{unit_id}/capabilities",
    operation_id="claimEmergencyCapabilities",
    summary="A member: the capabilities you claim in the unit (each needs a certificate "
    "valid today from the training records)",
    response_model=UnitMemberOut,
    responses=MEMBER_ERRORS,
)
async def claim_capabilities(
    request: Request,
    unit_id: str,
    body: CapabilitiesIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    member = await _service(request).claim_capabilities(scope, _uid(unit_id), body.capabilities)
    return UnitMemberOut.of(member)


@router.get(
    "/me/duty",
    operation_id="getMyDuty",
    summary="Your duty in each of your emergency units and your last known location",
    response_model=MyDutyOut,
    responses=DUTY_ERRORS,
)
async def get_my_duty(
    request: Request, scope: Annotated[Scope, Depends(current_scope)], crs: OutputCrs = Crs.WGS84
) -> Any:
    return MyDutyOut.of(await _service(request).my_duty(scope), crs)


@router.post(
    "/me/duty",
    operation_id="setMyDuty",
    summary="我现在可以响应 (available until a time, at most 12 h) or off duty, in one of your "
    "units or all",
    response_model=MyDutyOut,
    responses=DUTY_ERRORS,
)
async def set_my_duty(
    request: Request,
    body: DutyIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    service = _service(request)
    if body.status == "off_duty":
        return MyDutyOut.of(await service.go_off_duty(scope, unit_id=body.unit_id), crs)
    duty = await service.go_available(scope, body.until, unit_id=body.unit_id)
    return MyDutyOut.of(duty, crs)


@router.post(
    "/me/locations",
    operation_id="reportMyLocations",
    summary="While on duty: a batch of your locations (at most one per 30 s is kept); "
    "refused off duty",
    response_model=LocationReportOut,
    responses=LOCATION_ERRORS,
)
async def report_locations(
    request: Request,
    body: LocationsIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    report = await _service(request).report_locations(scope, [s.to_sample() for s in body.samples])
    return LocationReportOut.of(report, crs)


def _before(cursor: str | None) -> datetime | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        at = datetime.fromisoformat(str(values.get("at", "")))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise InvalidInput(
            "The cursor is not valid.", "分页游标无效。", code="pagination.invalid_cursor"
        )
    return at


@router.get(
    "/me/locations",
    operation_id="listMyLocations",
    summary="Your own kept locations (within the retention period), newest first",
    response_model=Page[SampleOut],
    responses=DUTY_ERRORS,
)
async def list_my_locations(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    samples, more = await _service(request).my_locations(scope, limit=limit, before=_before(cursor))
    return Page[SampleOut].keyset(
        [SampleOut.of(s, crs) for s in samples],
        more=more,
        cursor=lambda s: encode_cursor({"at": s.at.isoformat()}),
    )
