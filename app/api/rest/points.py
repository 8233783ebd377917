"""/api/v1/points and /api/v1/me/points: the points ledger (积分), rules, catalogue and
redemptions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import Page, PageCursor, PageLimit, parse_path_id
from app.api.rest.idempotency import run_idempotent
from app.api.rest.points_schemas import (
    EntryOut,
    ItemIn,
    ItemOut,
    MyPointsOut,
    RedeemIn,
    RedemptionOut,
    ReverseIn,
    RuleIn,
    RuleOut,
)
from app.domain.points.errors import EntryNotFound, RedemptionNotFound
from app.domain.points.model import RuleCode
from app.domain.points.services import PointsService
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["points"])
Caller = Annotated[Scope, Depends(current_scope)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such record you may see"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"description": "Not staff allowed to do this here"},
    409: {"description": "Reversed already, balance or stock insufficient, wrong status"},
    422: {"description": "Invalid input"},
}


def _service(request: Request) -> PointsService:
    return services_of(request).get(PointsService)


def _json(model: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), status_code=status)


@router.get(
    "/me/points",
    operation_id="getMyPoints",
    summary="Your points balance and history, newest first",
    response_model=MyPointsOut,
    responses=ERRORS,
)
async def my_points(
    request: Request, scope: Caller, limit: PageLimit = 50, cursor: PageCursor = None
) -> Any:
    service = _service(request)
    balance = await service.balance(scope)
    page = await service.my_entries(scope, limit=limit, after=after_id(cursor))
    listed = Page[EntryOut].keyset([EntryOut.of(e) for e in page.items], more=page.has_more)
    return MyPointsOut(balance=balance.balance, items=listed.items, next_cursor=listed.next_cursor)


@router.get(
    "/points/entries",
    operation_id="listPointsEntries",
    summary="Entries of the accounts in your jurisdiction (staff), newest first",
    response_model=Page[EntryOut],
    responses={**ERRORS, 403: {"description": "Not police staff"}},
)
async def list_entries(
    request: Request,
    scope: Caller,
    account_id: uuid.UUID | None = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    page = await _service(request).entries(
        scope, account_id=account_id, limit=limit, after=after_id(cursor)
    )
    return Page[EntryOut].keyset([EntryOut.of(e) for e in page.items], more=page.has_more)


@router.get(
    "/points/entries/{entry_id}",
    operation_id="getPointsEntry",
    summary="One ledger entry",
    response_model=EntryOut,
    responses=ERRORS,
)
async def get_entry(request: Request, entry_id: str, scope: Caller) -> Any:
    entry_uuid = parse_path_id(entry_id, EntryNotFound)
    return EntryOut.of(await _service(request).get_entry(scope, entry_uuid))


@router.post(
    "/points/entries/{entry_id}/reverse",
    operation_id="reversePointsEntry",
    summary="Reverse a credit (staff): a new entry that negates it; once only",
    status_code=201,
    response_model=EntryOut,
    responses=WRITE_ERRORS,
)
async def reverse_entry(request: Request, entry_id: str, body: ReverseIn, scope: Caller) -> Any:
    entry_uuid = parse_path_id(entry_id, EntryNotFound)
    reversal = await _service(request).reverse_entry(scope, entry_uuid, body.reason)
    return _json(EntryOut.of(reversal), 201)


@router.get(
    "/points/rules",
    operation_id="listPointRules",
    summary="The district's point rules in force (staff)",
    response_model=list[RuleOut],
    responses={**ERRORS, 403: {"description": "Not police staff of the district"}},
)
async def list_rules(request: Request, scope: Caller, district_id: uuid.UUID | None = None) -> Any:
    return [RuleOut.of(r) for r in await _service(request).rules(scope, district_id)]


@router.put(
    "/points/rules/{code}",
    operation_id="putPointRule",
    summary="Edit a point rule (district admins): adds a version; past entries keep theirs",
    response_model=RuleOut,
    responses=WRITE_ERRORS,
)
async def put_rule(request: Request, code: RuleCode, body: RuleIn, scope: Caller) -> Any:
    rule = await _service(request).put_rule(
        scope,
        code,
        amount=body.amount,
        grade_amounts=body.grade_amounts,
        merge_policy=body.merge_policy,
        district_id=body.district_id,
    )
    return RuleOut.of(rule)


@router.get(
    "/points/items",
    operation_id="listPointItems",
    summary="The catalogue of your station (or, for staff, of their stations)",
    response_model=list[ItemOut],
    responses=ERRORS,
)
async def list_items(request: Request, scope: Caller, station_id: uuid.UUID | None = None) -> Any:
    return [ItemOut.of(i) for i in await _service(request).items(scope, station_id)]


@router.post(
    "/points/items",
    operation_id="addPointItem",
    summary="Add a catalogue item to a station (staff)",
    status_code=201,
    response_model=ItemOut,
    responses=WRITE_ERRORS,
)
async def add_item(request: Request, body: ItemIn, scope: Caller) -> Any:
    item = await _service(request).add_item(
        scope, station_id=body.station_id, name=body.name, price=body.price, stock=body.stock
    )
    return _json(ItemOut.of(item), 201)


@router.post(
    "/points/redemptions",
    operation_id="redeemPoints",
    summary="Redeem an item: debits your points and reserves one unit, together",
    status_code=201,
    response_model=RedemptionOut,
    responses=WRITE_ERRORS,
)
async def redeem(request: Request, body: RedeemIn, scope: Caller) -> Any:
    async def handler() -> JSONResponse:
        redemption = await _service(request).redeem(scope, body.item_id)
        return _json(RedemptionOut.of(redemption), 201)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="redeemPoints",
        payload=body.model_dump(mode="json"),
        handler=handler,
    )


@router.get(
    "/me/points/redemptions",
    operation_id="listMyRedemptions",
    summary="Your redemptions, newest first",
    response_model=list[RedemptionOut],
    responses=ERRORS,
)
async def my_redemptions(
    request: Request, scope: Caller, limit: PageLimit = 50, cursor: PageCursor = None
) -> Any:
    found = await _service(request).redemptions(
        scope, mine=True, limit=limit, after=after_id(cursor)
    )
    return [RedemptionOut.of(r) for r in found]


@router.get(
    "/points/redemptions",
    operation_id="listRedemptions",
    summary="Redemptions at your stations (staff), newest first",
    response_model=list[RedemptionOut],
    responses={**ERRORS, 403: {"description": "Not police staff"}},
)
async def list_redemptions(
    request: Request, scope: Caller, limit: PageLimit = 50, cursor: PageCursor = None
) -> Any:
    found = await _service(request).redemptions(
        scope, mine=False, limit=limit, after=after_id(cursor)
    )
    return [RedemptionOut.of(r) for r in found]


@router.post(
    "/points/redemptions/{redemption_id}/fulfil",
    operation_id="fulfilRedemption",
    summary="Mark a redemption handed over (station staff)",
    response_model=RedemptionOut,
    responses=WRITE_ERRORS,
)
async def fulfil(request: Request, redemption_id: str, scope: Caller) -> Any:
    rid = parse_path_id(redemption_id, RedemptionNotFound)
    return RedemptionOut.of(await _service(request).fulfil(scope, rid))


@router.post(
    "/points/redemptions/{redemption_id}/cancel",
    operation_id="cancelRedemption",
    summary="Cancel a reserved redemption (station staff): points back by a reversal",
    response_model=RedemptionOut,
    responses=WRITE_ERRORS,
)
async def cancel(request: Request, redemption_id: str, scope: Caller) -> Any:
    rid = parse_path_id(redemption_id, RedemptionNotFound)
    return RedemptionOut.of(await _service(request).cancel(scope, rid))
