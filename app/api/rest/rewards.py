"""/api/v1/rewards and /api/v1/me/rewards: cash rewards (奖励) — propose, approve, cancel,
budgets and rules."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from app.api.container import services_of
from app.api.context import current_scope
from app.api.pagination import after_id
from app.api.rest import API_V1
from app.api.rest.common import Page, PageCursor, PageLimit, parse_path_id
from app.api.rest.idempotency import run_idempotent
from app.api.rest.points_schemas import (
    BudgetOut,
    CancelIn,
    MyRewardOut,
    RewardIn,
    RewardOut,
    RewardRuleIn,
    RewardRuleOut,
)
from app.domain.rewards.errors import RewardNotFound
from app.domain.rewards.model import RewardStatus
from app.domain.rewards.services import NewReward, RewardService
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["rewards"])
Caller = Annotated[Scope, Depends(current_scope)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such reward (or source record) you may see"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"description": "Not staff allowed to do this at the station"},
    409: {"description": "Wrong status, budget exceeded, or a reward exists already"},
    422: {"description": "Invalid input"},
}


def _service(request: Request) -> RewardService:
    return services_of(request).get(RewardService)


def _id(raw: str) -> uuid.UUID:
    return parse_path_id(raw, RewardNotFound)


@router.post(
    "/rewards",
    operation_id="proposeReward",
    summary="Propose a cash reward for a verified tip or hazard (officers)",
    status_code=201,
    response_model=RewardOut,
    responses=WRITE_ERRORS,
)
async def propose(request: Request, body: RewardIn, scope: Caller) -> Any:
    async def handler() -> JSONResponse:
        reward = await _service(request).propose(
            scope,
            NewReward(
                source_type=body.source_type,
                source_id=body.source_id,
                account_id=body.account_id,
                outcome=body.outcome,
                grade=body.grade,
                amount_fen=body.amount_fen,
            ),
        )
        return JSONResponse(RewardOut.of(reward).model_dump(mode="json"), status_code=201)

    return await run_idempotent(
        request,
        principal=str(scope.account_id),
        operation="proposeReward",
        payload=body.model_dump(mode="json"),
        handler=handler,
    )


@router.get(
    "/rewards",
    operation_id="listRewards",
    summary="Rewards of your stations (staff); status=proposed lists pending approvals",
    response_model=Page[RewardOut],
    responses={**ERRORS, 403: {"description": "Not police staff"}},
)
async def list_rewards(
    request: Request,
    scope: Caller,
    status: Annotated[list[RewardStatus] | None, Query()] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    page = await _service(request).list(
        scope,
        statuses=frozenset(status) if status else None,
        limit=limit,
        after=after_id(cursor),
    )
    return Page[RewardOut].keyset([RewardOut.of(r) for r in page.items], more=page.has_more)


@router.get(
    "/rewards/budget",
    operation_id="getRewardBudget",
    summary="The station's reward budget this month, committed amount, pending approvals",
    response_model=BudgetOut,
    responses={**ERRORS, 403: {"description": "Not police staff of the station"}},
)
async def budget(request: Request, scope: Caller, station_id: uuid.UUID) -> Any:
    return BudgetOut.of(await _service(request).budget(scope, station_id))


@router.put(
    "/rewards/rules/{station_id}",
    operation_id="putRewardRule",
    summary="Set the station's reward amounts, monthly budget and approval threshold",
    response_model=RewardRuleOut,
    responses=WRITE_ERRORS,
)
async def put_rule(
    request: Request, station_id: uuid.UUID, body: RewardRuleIn, scope: Caller
) -> Any:
    rule = await _service(request).put_rule(
        scope,
        station_id,
        amounts=body.amounts,
        monthly_budget_fen=body.monthly_budget_fen,
        second_approval_above_fen=body.second_approval_above_fen,
        max_fen=body.max_fen,
    )
    return RewardRuleOut.of(rule)


@router.get(
    "/rewards/{reward_id}",
    operation_id="getReward",
    summary="One reward",
    response_model=RewardOut,
    responses=ERRORS,
)
async def get_reward(request: Request, reward_id: str, scope: Caller) -> Any:
    return RewardOut.of(await _service(request).get(scope, _id(reward_id)))


@router.post(
    "/rewards/{reward_id}/approve",
    operation_id="approveReward",
    summary="Approve (station admins); above the threshold a second admin approves too",
    response_model=RewardOut,
    responses=WRITE_ERRORS,
)
async def approve(request: Request, reward_id: str, scope: Caller) -> Any:
    return RewardOut.of(await _service(request).approve(scope, _id(reward_id)))


@router.post(
    "/rewards/{reward_id}/cancel",
    operation_id="cancelReward",
    summary="Cancel an unpaid reward (station staff)",
    response_model=RewardOut,
    responses=WRITE_ERRORS,
)
async def cancel(request: Request, reward_id: str, body: CancelIn, scope: Caller) -> Any:
    return RewardOut.of(await _service(request).cancel(scope, _id(reward_id), body.reason))


@router.get(
    "/me/rewards",
    operation_id="listMyRewards",
    summary="Your rewards and their payout status, newest first",
    response_model=Page[MyRewardOut],
    responses=ERRORS,
)
async def my_rewards(
    request: Request, scope: Caller, limit: PageLimit = 50, cursor: PageCursor = None
) -> Any:
    page = await _service(request).mine(scope, limit=limit, after=after_id(cursor))
    return Page[MyRewardOut].keyset([MyRewardOut.of(r) for r in page.items], more=page.has_more)
