"""/api/v1/locate: which station, community and grid a point belongs to."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from app.api.container import services_of
from app.api.context import current_scope
from app.api.rest import API_V1
from app.api.rest.org_units import UnitRefOut
from app.domain.organisation.model import Placement
from app.domain.organisation.services import OrgUnitService
from app.domain.shared.geo import Crs, to_wgs84
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["organisation"])


class PlacementOut(BaseModel):
    outside: bool
    district_id: uuid.UUID | None
    station_id: uuid.UUID | None
    community_id: uuid.UUID | None
    grid_id: uuid.UUID | None
    district: UnitRefOut | None
    station: UnitRefOut | None
    community: UnitRefOut | None
    grid: UnitRefOut | None

    @classmethod
    def of(cls, placement: Placement) -> PlacementOut:
        return cls(
            outside=placement.outside,
            district_id=placement.district_id,
            station_id=placement.station_id,
            community_id=placement.community_id,
            grid_id=placement.grid_id,
            district=UnitRefOut.of(placement.district),
            station=UnitRefOut.of(placement.station),
            community=UnitRefOut.of(placement.community),
            grid=UnitRefOut.of(placement.grid),
        )


@router.get(
    "/locate",
    operation_id="locatePoint",
    summary="The station, community and grid covering a point",
    description=(
        "A point outside every station is not an error: `outside` is true and `district`"
        " is the containing or nearby district, if any."
    ),
    responses={
        401: {"description": "Not signed in"},
        422: {"description": "Invalid coordinates"},
    },
)
async def locate(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    lon: Annotated[float, Query(ge=-180, le=180, examples=[119.95])],
    lat: Annotated[float, Query(ge=-90, le=90, examples=[31.70])],
    crs: Annotated[Crs, Query(description="Coordinate system of lon and lat")] = Crs.WGS84,
) -> PlacementOut:
    service = services_of(request).get(OrgUnitService)
    return PlacementOut.of(await service.locate(scope, to_wgs84(lon, lat, crs)))
