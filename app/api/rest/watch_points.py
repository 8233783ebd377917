"""/api/v1/watch-points: 守望点 with geofences and printable QR codes (staff only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import (
    LocationIn,
    LocationOut,
    OutputCrs,
    Page,
    PageCursor,
    PageLimit,
    etag_response,
    expected_version,
    parse_path_id,
    required_version,
)
from app.api.rest.idempotency import run_idempotent
from app.domain.organisation.model import CODE_MAX, NAME_MAX, RADIUS_MAX_M, RADIUS_MIN_M, WatchPoint
from app.domain.organisation.ports import WatchPointFilter
from app.domain.organisation.services import (
    NewWatchPoint,
    WatchPointChanges,
    WatchPointNotFound,
    WatchPointService,
)
from app.domain.shared.errors import FieldError, InvalidInput
from app.domain.shared.geo import Crs, GeoPoint, to_wgs84
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["watch points"])

NEAR_MAX_M = 20_000
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not police staff, or not allowed to change watch points"},
    404: {"description": "No such watch point in your scope"},
    422: {"description": "Invalid input, or the location is outside your jurisdiction"},
}
EDIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"description": "The watch point is already inactive"},
    412: {"description": "If-Match does not match the current version"},
    428: {"description": "If-Match is required"},
}


class WatchPointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(
        default=None, max_length=CODE_MAX, description="Printed code; generated when absent"
    )
    name: str = Field(min_length=1, max_length=NAME_MAX, examples=["花园小区北门守望点"])
    location: LocationIn
    radius_m: int = Field(ge=RADIUS_MIN_M, le=RADIUS_MAX_M, examples=[50])


class WatchPointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    location: LocationIn | None = None
    radius_m: int | None = Field(default=None, ge=RADIUS_MIN_M, le=RADIUS_MAX_M)


class WatchPointOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    location: LocationOut
    radius_m: int
    district_id: uuid.UUID
    station_id: uuid.UUID
    community_id: uuid.UUID | None
    grid_id: uuid.UUID | None
    active: bool
    qr_token: str | None = Field(
        description="Content of the printable QR code (staff only)", default=None
    )
    version: int
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, point: WatchPoint, crs: Crs, scope: Scope) -> WatchPointOut:
        return cls(
            id=point.id,
            code=point.code,
            name=point.name,
            location=LocationOut.of(point.location, crs),
            radius_m=point.radius_m,
            district_id=point.district_id,
            station_id=point.station_id,
            community_id=point.community_id,
            grid_id=point.grid_id,
            active=point.active,
            qr_token=point.qr_token if scope.is_staff else None,
            version=point.version,
            created_at=point.created_at,
            updated_at=point.updated_at,
        )


def _service(request: Request) -> WatchPointService:
    return services_of(request).get(WatchPointService)


def _id(raw: str) -> uuid.UUID:
    return parse_path_id(raw, WatchPointNotFound)


def _one(point: WatchPoint, crs: Crs, scope: Scope, status: int = 200) -> JSONResponse:
    location = f"/api/v1/watch-points/{point.id}" if status == 201 else ""
    out = WatchPointOut.of(point, crs, scope)
    return etag_response(out, point.id, point.version, status=status, location=location)


def _near(raw: str | None, crs: Crs) -> GeoPoint | None:
    if raw is None:
        return None
    parts = raw.split(",")
    try:
        lon, lat = (float(p) for p in parts)
    except ValueError:
        message = "near must be 'lon,lat'."
        raise InvalidInput(
            message,
            "near 参数格式应为“经度,纬度”。",
            code="watch_point.invalid_near",
            fields=[FieldError("near", "format", message)],
        ) from None
    return to_wgs84(lon, lat, crs)


@router.post(
    "/watch-points",
    operation_id="createWatchPoint",
    summary="Create a watch point; it is routed to its station, community and grid",
    status_code=201,
    response_model=WatchPointOut,
    responses={**ERRORS, 409: {"description": "Code taken, or Idempotency-Key in flight"}},
)
async def create_watch_point(
    request: Request,
    body: WatchPointIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    async def handler() -> JSONResponse:
        point = await _service(request).create(
            scope,
            NewWatchPoint(
                name=body.name,
                location=body.location.to_point(),
                radius_m=body.radius_m,
                code=body.code,
            ),
        )
        return _one(point, crs, scope, 201)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="createWatchPoint",
        payload={"body": body.model_dump(mode="json"), "crs": crs.value},
        handler=handler,
    )


@router.get(
    "/watch-points",
    operation_id="listWatchPoints",
    summary="Watch points in your scope, newest first",
    responses=ERRORS,
)
async def list_watch_points(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    station_id: uuid.UUID | None = None,
    grid_id: uuid.UUID | None = None,
    active: bool | None = None,
    near: Annotated[
        str | None, Query(description="'lon,lat' in `crs`: only points within `radius`")
    ] = None,
    radius: Annotated[float, Query(gt=0, le=NEAR_MAX_M, description="Metres around `near`")] = 500,
    crs: Annotated[
        Crs, Query(description="Coordinate system of `near` and of locations in the response")
    ] = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Page[WatchPointOut]:
    where = WatchPointFilter(
        station_id=station_id,
        grid_id=grid_id,
        active=active,
        near=_near(near, crs),
        radius_m=radius,
    )
    page = await _service(request).list_points(scope, where, limit=limit, after=after_id(cursor))
    return Page[WatchPointOut].keyset(
        [WatchPointOut.of(p, crs, scope) for p in page.items], more=page.has_more
    )


@router.get(
    "/watch-points/{watch_point_id}",
    operation_id="getWatchPoint",
    summary="One watch point",
    response_model=WatchPointOut,
    responses=ERRORS,
)
async def get_watch_point(
    request: Request,
    watch_point_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> JSONResponse:
    point = await _service(request).get(scope, _id(watch_point_id))
    return _one(point, crs, scope)


@router.patch(
    "/watch-points/{watch_point_id}",
    operation_id="updateWatchPoint",
    summary="Rename, resize or move a watch point (If-Match required)",
    response_model=WatchPointOut,
    responses=EDIT_ERRORS,
)
async def update_watch_point(
    request: Request,
    watch_point_id: str,
    body: WatchPointPatch,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> JSONResponse:
    point_id = _id(watch_point_id)
    version = required_version(request, point_id)
    changes = WatchPointChanges(
        name=body.name,
        location=body.location.to_point() if body.location else None,
        radius_m=body.radius_m,
    )
    point = await _service(request).update(scope, point_id, version, changes)
    return _one(point, crs, scope)


@router.post(
    "/watch-points/{watch_point_id}/deactivate",
    operation_id="deactivateWatchPoint",
    summary="Stop using a watch point (If-Match optional)",
    response_model=WatchPointOut,
    responses=EDIT_ERRORS,
)
async def deactivate_watch_point(
    request: Request,
    watch_point_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> JSONResponse:
    point_id = _id(watch_point_id)
    version = expected_version(request, point_id, required=False)
    point = await _service(request).deactivate(scope, point_id, version)
    return _one(point, crs, scope)
