"""/api/v1/appeals: police appeals (协查通报 / 寻人) and the clues submitted for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.container import services_of
from app.api.context import current_scope, lang_of
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import (
    OutputCrs,
    Page,
    PageCursor,
    PageLimit,
    etag_response,
    expected_version,
    parse_path_id,
)
from app.api.rest.idempotency import run_idempotent
from app.api.rest.tips_schemas import TipOut
from app.domain.appeals.errors import AppealNotFound
from app.domain.appeals.model import BODY_MAX, TITLE_MAX, Appeal, AppealKind, AppealStatus
from app.domain.appeals.services import AppealService, NewAppeal
from app.domain.organisation.geojson import boundary_to_geojson
from app.domain.shared.geo import Crs
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["appeals"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such appeal you may see"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"description": "Not police staff allowed to publish or withdraw here"},
    409: {"description": "Already withdrawn, or Idempotency-Key in flight"},
    412: {"description": "If-Match does not match the current version"},
    422: {"description": "Invalid input, or the target is outside your jurisdiction"},
}


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_ids: list[uuid.UUID] | None = Field(
        default=None, description="Grids, communities or stations of your jurisdiction"
    )
    polygon: dict[str, Any] | None = Field(
        default=None, description="A GeoJSON Polygon or MultiPolygon in WGS-84"
    )


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: AppealKind = AppealKind.APPEAL
    title: str = Field(min_length=1, max_length=TITLE_MAX, examples=["寻找走失老人"])
    body: str = Field(
        min_length=1, max_length=BODY_MAX, examples=["寻找走失老人：王某某，男，78岁，身穿蓝色外套"]
    )
    target: TargetIn
    expires_at: datetime
    media_ids: list[uuid.UUID] = Field(default_factory=list, max_length=9)
    station_id: uuid.UUID | None = None


class TargetOut(BaseModel):
    unit_ids: list[uuid.UUID]
    polygon: dict[str, Any] | None


class AppealOut(BaseModel):
    id: uuid.UUID
    kind: AppealKind
    title: str
    body: str
    station_id: uuid.UUID | None
    district_id: uuid.UUID
    target: TargetOut
    media_ids: list[uuid.UUID]
    status: AppealStatus
    published_at: datetime | None
    expires_at: datetime
    withdrawn_at: datetime | None
    version: int

    @classmethod
    def of(cls, appeal: Appeal, crs: Crs = Crs.WGS84) -> AppealOut:
        polygon = appeal.target.polygon
        return cls(
            id=appeal.id,
            kind=appeal.kind,
            title=appeal.title,
            body=appeal.body,
            station_id=appeal.station_id,
            district_id=appeal.district_id,
            target=TargetOut(
                unit_ids=list(appeal.target.unit_ids),
                polygon=boundary_to_geojson(polygon, crs) if polygon is not None else None,
            ),
            media_ids=list(appeal.media_ids),
            status=appeal.status,
            published_at=appeal.published_at,
            expires_at=appeal.expires_at,
            withdrawn_at=appeal.withdrawn_at,
            version=appeal.version,
        )


def _service(request: Request) -> AppealService:
    return services_of(request).get(AppealService)


def _id(raw: str) -> uuid.UUID:
    return parse_path_id(raw, AppealNotFound)


def _one(appeal: Appeal, crs: Crs, status: int = 200) -> JSONResponse:
    location = f"/api/v1/appeals/{appeal.id}" if status == 201 else ""
    out = AppealOut.of(appeal, crs)
    return etag_response(out, appeal.id, appeal.version, status=status, location=location)


@router.post(
    "/appeals",
    operation_id="publishAppeal",
    summary="Publish a police appeal to the volunteers of its target area (staff)",
    status_code=201,
    response_model=AppealOut,
    responses=WRITE_ERRORS,
)
async def publish_appeal(
    request: Request,
    body: AppealIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    async def handler() -> JSONResponse:
        appeal = await _service(request).publish(
            scope,
            NewAppeal(
                kind=body.kind,
                title=body.title,
                body=body.body,
                expires_at=body.expires_at,
                unit_ids=body.target.unit_ids,
                polygon=body.target.polygon,
                media_ids=tuple(body.media_ids),
                station_id=body.station_id,
            ),
        )
        return _one(appeal, crs, 201)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="publishAppeal",
        payload={"body": body.model_dump(mode="json"), "crs": crs.value},
        handler=handler,
    )


@router.get(
    "/appeals",
    operation_id="listAppeals",
    summary="Appeals you may see, newest first (staff may filter by status)",
    response_model=Page[AppealOut],
    responses=ERRORS,
)
async def list_appeals(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    status: AppealStatus | None = None,
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    page = await _service(request).list_visible(
        scope, status=status, limit=limit, after=after_id(cursor)
    )
    return Page[AppealOut].keyset([AppealOut.of(a, crs) for a in page.items], more=page.has_more)


@router.get(
    "/appeals/{appeal_id}",
    operation_id="getAppeal",
    summary="One appeal",
    response_model=AppealOut,
    responses=ERRORS,
)
async def get_appeal(
    request: Request,
    appeal_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> JSONResponse:
    return _one(await _service(request).get(scope, _id(appeal_id)), crs)


@router.post(
    "/appeals/{appeal_id}/withdraw",
    operation_id="withdrawAppeal",
    summary="Withdraw an appeal (If-Match optional)",
    response_model=AppealOut,
    responses=WRITE_ERRORS,
)
async def withdraw_appeal(
    request: Request,
    appeal_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> JSONResponse:
    record_id = _id(appeal_id)
    version = expected_version(request, record_id, required=False)
    return _one(await _service(request).withdraw(scope, record_id, version), crs)


@router.get(
    "/appeals/{appeal_id}/clues",
    operation_id="listAppealClues",
    summary="Tips submitted for the appeal, from the tip queue of your jurisdiction (staff)",
    response_model=Page[TipOut],
    responses={**ERRORS, 403: {"description": "Not police staff"}},
)
async def list_appeal_clues(
    request: Request,
    appeal_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    views, more = await _service(request).clues(
        scope, _id(appeal_id), limit=limit, after=after_id(cursor)
    )
    lang = lang_of(request)
    items = [TipOut.of(v, lang, crs, with_history=False) for v in views]
    return Page[TipOut].keyset(items, more=more)
