"""GET /api/v1/emergency/nearby: the units and on-duty members nearest to a point (附近应急
力量), for officers and station or district admins, within their districts. Members come
with their distance and unit only, never their position (PIPL)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from app.api.container import services_of
from app.api.context import current_scope
from app.api.rest import API_V1
from app.api.rest.common import PlainJSONResponse
from app.domain.emergency.glossary import Capability
from app.domain.emergency.nearby import (
    DEFAULT_LIMIT,
    DEFAULT_RADIUS_M,
    MAX_LIMIT,
    MAX_RADIUS_M,
    NearbyService,
)
from app.domain.shared.geo import Crs, to_wgs84
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["emergency-units"])


class NearbyUnitOut(BaseModel):
    unit_id: uuid.UUID
    station_id: uuid.UUID
    distance_m: float
    offers: list[Capability]
    on_duty: int


class NearbyMemberOut(BaseModel):
    volunteer_id: uuid.UUID
    unit_id: uuid.UUID
    distance_m: float
    located: bool = Field(
        description="True: by their last known location; false: at their unit's base"
    )


class RespondersOut(BaseModel):
    units: list[NearbyUnitOut]
    members: list[NearbyMemberOut]


@router.get(
    "/emergency/nearby",
    operation_id="listNearbyEmergencyResponders",
    summary="Officers and station or district admins: the emergency units (by base) and "
    "on-duty members nearest to a point in their districts, holding every capability "
    "asked for; members with distance and unit only, never their position",
    response_model=RespondersOut,
    responses={
        401: {"description": "Not signed in"},
        403: {"description": "Not an officer or admin (code emergency.not_dispatcher)"},
        422: {"description": "Invalid input (radius 1–20000 m, limit 1–200, coordinates)"},
    },
)
async def nearby_responders(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    lon: Annotated[float, Query(ge=-180, le=180, examples=[119.95])],
    lat: Annotated[float, Query(ge=-90, le=90, examples=[31.70])],
    crs: Annotated[Crs, Query(description="Coordinate system of lon/lat")] = Crs.WGS84,
    capability: Annotated[
        list[Capability], Query(description="Required capabilities (all of them)")
    ] = [],  # noqa: B006 - FastAPI copies query defaults
    radius_m: Annotated[int, Query(description=f"1 to {MAX_RADIUS_M} m")] = DEFAULT_RADIUS_M,
    limit: Annotated[int, Query(description=f"1 to {MAX_LIMIT} of each")] = DEFAULT_LIMIT,
) -> Any:
    found = (
        await services_of(request)
        .get(NearbyService)
        .nearest(
            scope,
            to_wgs84(lon, lat, crs),
            capabilities=capability,
            radius_m=radius_m,
            limit=limit,
        )
    )
    # Plain values through orjson: no re-validation of the returned model (which stays
    # the documented shape), a fraction of the cost per answer.
    return PlainJSONResponse(
        {
            "units": [
                {
                    "unit_id": u.unit_id,
                    "station_id": u.station_id,
                    "distance_m": round(u.distance_m, 1),
                    "offers": sorted(u.offers),
                    "on_duty": u.on_duty,
                }
                for u in found.units
            ],
            "members": [
                {
                    "volunteer_id": m.volunteer_id,
                    "unit_id": m.unit_id,
                    "distance_m": round(m.distance_m, 1),
                    "located": m.located,
                }
                for m in found.members
            ],
        }
    )
