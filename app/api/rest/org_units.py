"""/api/v1/org-units: the organisation tree as the caller's scope shows it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import (
    OutputCrs,
    Page,
    PageCursor,
    PageLimit,
    etag_response,
    parse_path_id,
)
from app.domain.organisation.geojson import boundary_to_geojson
from app.domain.organisation.model import Level, OrgUnit, Slice, UnitRef
from app.domain.organisation.services import OrgUnitNotFound, OrgUnitService
from app.domain.shared.geo import Crs
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["organisation"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not police staff"},
    404: {"description": "No such unit in your scope"},
    422: {"description": "Invalid parameters or cursor"},
}

Include = Annotated[
    Literal["boundary"] | None,
    Query(description="`boundary` adds the jurisdiction polygon (GeoJSON MultiPolygon)"),
]


class UnitRefOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str

    @classmethod
    def of(cls, ref: UnitRef | None) -> UnitRefOut | None:
        return cls(id=ref.id, code=ref.code, name=ref.name) if ref else None


class OrgUnitOut(BaseModel):
    id: uuid.UUID
    level: Level
    code: str
    name: str
    parent_id: uuid.UUID | None
    district_id: uuid.UUID | None
    station_id: uuid.UUID | None
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    boundary: dict[str, Any] | None = None

    @classmethod
    def of(cls, unit: OrgUnit, crs: Crs = Crs.WGS84) -> OrgUnitOut:
        return cls(
            id=unit.id,
            level=unit.level,
            code=unit.code,
            name=unit.name,
            parent_id=unit.parent_id,
            district_id=unit.district_id,
            station_id=unit.station_id,
            version=unit.version,
            created_at=unit.created_at,
            updated_at=unit.updated_at,
            boundary=boundary_to_geojson(unit.boundary, crs) if unit.boundary is not None else None,
        )


def _unit_id(raw: str) -> uuid.UUID:
    return parse_path_id(raw, OrgUnitNotFound)


def _service(request: Request) -> OrgUnitService:
    return services_of(request).get(OrgUnitService)


async def _page(page: Slice[OrgUnit], crs: Crs) -> Page[OrgUnitOut]:
    # Boundaries can hold many thousands of vertices: serialise them off the event loop.
    items = await asyncio.to_thread(lambda: [OrgUnitOut.of(u, crs) for u in page.items])
    return Page[OrgUnitOut].keyset(items, more=page.has_more)


@router.get(
    "/org-units",
    operation_id="listOrgUnits",
    summary="Organisation units in your scope, newest first",
    responses=ERRORS,
)
async def list_org_units(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    level: Annotated[Level | None, Query(description="Only units of this level")] = None,
    parent_id: Annotated[uuid.UUID | None, Query(description="Only children of this unit")] = None,
    include: Include = None,
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Page[OrgUnitOut]:
    page = await _service(request).list_units(
        scope,
        level=level,
        parent_id=parent_id,
        limit=limit,
        after=after_id(cursor),
        with_boundary=include == "boundary",
    )
    return await _page(page, crs)


@router.get(
    "/org-units/{unit_id}",
    operation_id="getOrgUnit",
    summary="One organisation unit, optionally with its boundary",
    response_model=OrgUnitOut,
    responses=ERRORS,
)
async def get_org_unit(
    request: Request,
    unit_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    include: Include = None,
    crs: OutputCrs = Crs.WGS84,
) -> JSONResponse:
    unit = await _service(request).get_unit(
        scope, _unit_id(unit_id), with_boundary=include == "boundary"
    )
    out = await asyncio.to_thread(OrgUnitOut.of, unit, crs)
    return etag_response(out, unit.id, unit.version)


@router.get(
    "/org-units/{unit_id}/children",
    operation_id="listOrgUnitChildren",
    summary="The units directly below a unit, as far as your scope shows them",
    responses=ERRORS,
)
async def list_org_unit_children(
    request: Request,
    unit_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    include: Include = None,
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Page[OrgUnitOut]:
    page = await _service(request).children(
        scope,
        _unit_id(unit_id),
        limit=limit,
        after=after_id(cursor),
        with_boundary=include == "boundary",
    )
    return await _page(page, crs)
