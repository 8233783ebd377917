"""/api/v1/help-requests and /api/v1/me/help-requests: residents ask for help (群众求助),
volunteers nearby offer it, station staff accept an offer and resolve the request."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

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
from app.api.rest.common import expected_version as if_match
from app.api.rest.help_schemas import (
    COMMON_ERRORS,
    CREATE_ERRORS,
    WRITE_ERRORS,
    HelpRequestIn,
    HelpRequestOut,
    OfferIn,
    ResolveIn,
)
from app.api.rest.idempotency import run_idempotent
from app.domain.help.errors import (
    HelpOfferNotFound,
    HelpRequestNotFound,
)
from app.domain.help.model import NEARBY_RADIUS_M, HelpKind, HelpStatus
from app.domain.help.ports import HelpFilter
from app.domain.help.services import HelpService, HelpView, NewHelpRequest
from app.domain.shared.errors import InvalidInput, field_invalid
from app.domain.shared.geo import Crs, GeoPoint, to_wgs84
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["help-requests"])
BASE = "/api/v1/help-requests"


def _service(request: Request) -> HelpService:
    return services_of(request).get(HelpService)


def _hid(raw: str) -> uuid.UUID:
    return parse_path_id(raw, HelpRequestNotFound)


def _one(view: HelpView, crs: Crs = Crs.WGS84, status: int = 200) -> JSONResponse:
    return etag_response(
        HelpRequestOut.of(view, crs),
        view.request.id,
        view.request.version,
        status=status,
        location=f"{BASE}/{view.request.id}" if status == 201 else "",
    )


def _near(raw: str, crs: Crs) -> GeoPoint:
    def invalid() -> InvalidInput:
        return field_invalid(
            "help.near_invalid",
            "near",
            "Pass near as 'lon,lat' (decimal degrees).",
            "near 参数格式应为“经度,纬度”。",
        )

    parts = raw.split(",")
    if len(parts) != 2:
        raise invalid()
    try:
        lon, lat = float(parts[0]), float(parts[1])
    except ValueError:
        raise invalid() from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise invalid()
    return to_wgs84(lon, lat, crs)


@router.post(
    "/help-requests",
    operation_id="requestHelp",
    summary="Ask for help at a place (any signed-in account); a retry with the same id answers 200",
    status_code=201,
    response_model=HelpRequestOut,
    responses={**CREATE_ERRORS, 200: {"description": "A retry: the request already stored"}},
)
async def request_help(
    request: Request, body: HelpRequestIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Any:
    async def handler() -> JSONResponse:
        view = await _service(request).request(
            scope,
            NewHelpRequest(
                kind=body.kind,
                description=body.description,
                location=body.location.to_point(),
                id=body.id,
                media_ids=tuple(body.media_ids),
            ),
        )
        return _one(view, status=201 if view.created else 200)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="requestHelp",
        payload=body.model_dump(mode="json"),
        handler=handler,
    )


@router.get(
    "/me/help-requests",
    operation_id="listMyHelpRequests",
    summary="Your own help requests, newest first",
    response_model=Page[HelpRequestOut],
    responses=COMMON_ERRORS,
)
async def list_my_help_requests(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    views, more = await _service(request).mine(scope, limit=limit, after=after_id(cursor))
    return Page[HelpRequestOut].keyset([HelpRequestOut.of(v, crs) for v in views], more=more)


@router.get(
    "/help-requests",
    operation_id="listHelpRequests",
    summary="Staff: the station queue (filters status, kind). Volunteers: pass near=lon,lat "
    "for open requests nearby in the stations they serve (coarse locations)",
    response_model=Page[HelpRequestOut],
    responses={**COMMON_ERRORS, 403: {"description": "Neither staff nor a serving volunteer"}},
)
async def list_help_requests(
    request: Request,
    scope: Annotated[Scope, Depends(current_scope)],
    status: HelpStatus | None = None,
    kind: HelpKind | None = None,
    near: Annotated[
        str | None,
        Query(description="'lon,lat' in the crs given; lists open requests nearby"),
    ] = None,
    radius_m: Annotated[int, Query(ge=100, le=NEARBY_RADIUS_M)] = NEARBY_RADIUS_M,
    crs: OutputCrs = Crs.WGS84,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    service = _service(request)
    if near is not None:
        views, more = await service.nearby(
            scope, _near(near, crs), radius_m=radius_m, limit=limit, after=after_id(cursor)
        )
    else:
        views, more = await service.queue(
            scope, HelpFilter(status=status, kind=kind), limit=limit, after=after_id(cursor)
        )
    items = [HelpRequestOut.of(v, crs, history=False) for v in views]
    return Page[HelpRequestOut].keyset(items, more=more)


@router.get(
    "/help-requests/{request_id}",
    operation_id="getHelpRequest",
    summary="A help request as you may see it",
    response_model=HelpRequestOut,
    responses=COMMON_ERRORS,
)
async def get_help_request(
    request: Request,
    request_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    return _one(await _service(request).get(scope, _hid(request_id)), crs)


@router.post(
    "/help-requests/{request_id}/offers",
    operation_id="offerHelp",
    summary="As a volunteer serving the request's station, offer help (repeat-safe)",
    response_model=HelpRequestOut,
    responses=WRITE_ERRORS,
)
async def offer_help(
    request: Request,
    request_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    body: OfferIn | None = None,
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    note = body.note if body else None
    return _one(await _service(request).offer(scope, _hid(request_id), note), crs)


@router.delete(
    "/help-requests/{request_id}/offers/mine",
    operation_id="withdrawHelpOffer",
    summary="Withdraw your active offer while the request is open",
    response_model=HelpRequestOut,
    responses=WRITE_ERRORS,
)
async def withdraw_offer(
    request: Request,
    request_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    return _one(await _service(request).withdraw_offer(scope, _hid(request_id)), crs)


@router.post(
    "/help-requests/{request_id}/offers/{offer_id}/accept",
    operation_id="acceptHelpOffer",
    summary="Staff: accept one volunteer's offer (the request is then in progress)",
    response_model=HelpRequestOut,
    responses=WRITE_ERRORS,
)
async def accept_offer(
    request: Request,
    request_id: str,
    offer_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(request_id)
    view = await _service(request).accept(
        scope,
        hid,
        parse_path_id(offer_id, HelpOfferNotFound),
        expected_version=if_match(request, hid, required=False),
    )
    return _one(view, crs)


@router.post(
    "/help-requests/{request_id}/resolve",
    operation_id="resolveHelpRequest",
    summary="Staff: record the outcome (found, not found, withdrawn, referred)",
    response_model=HelpRequestOut,
    responses=WRITE_ERRORS,
)
async def resolve_help_request(
    request: Request,
    request_id: str,
    body: ResolveIn,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(request_id)
    view = await _service(request).resolve(
        scope,
        hid,
        body.outcome,
        body.note,
        expected_version=if_match(request, hid, required=False),
    )
    return _one(view, crs)


@router.post(
    "/help-requests/{request_id}/close",
    operation_id="closeHelpRequest",
    summary="Staff: close a resolved request",
    response_model=HelpRequestOut,
    responses=WRITE_ERRORS,
)
async def close_help_request(
    request: Request,
    request_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(request_id)
    view = await _service(request).close(
        scope, hid, expected_version=if_match(request, hid, required=False)
    )
    return _one(view, crs)


@router.post(
    "/help-requests/{request_id}/cancel",
    operation_id="cancelHelpRequest",
    summary="As the requester, cancel an open request",
    response_model=HelpRequestOut,
    responses=WRITE_ERRORS,
)
async def cancel_help_request(
    request: Request,
    request_id: str,
    scope: Annotated[Scope, Depends(current_scope)],
    crs: OutputCrs = Crs.WGS84,
) -> Any:
    hid = _hid(request_id)
    view = await _service(request).cancel(
        scope, hid, expected_version=if_match(request, hid, required=False)
    )
    return _one(view, crs)
