"""/api/v1/me/devices and /api/v1/me/wechat/subscriptions: where the caller's own
notifications may go beyond the in-app inbox."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.container import services_of
from app.api.context import current_scope
from app.api.rest import API_V1
from app.domain.notifications.channels import ChannelSubscriptionService
from app.domain.shared.scope import Scope

router = APIRouter(prefix=API_V1, tags=["notifications"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    422: {"description": "Invalid input"},
}


class SubscriptionReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template_ids: list[str] = Field(min_length=1, max_length=3)
    results: dict[str, str]


class GrantsOut(BaseModel):
    grants: dict[str, int]


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: str = Field(description="android or ios")
    registration_id: str = Field(min_length=1, max_length=200)


def _service(request: Request) -> ChannelSubscriptionService:
    return services_of(request).get(ChannelSubscriptionService)


@router.post(
    "/me/wechat/subscriptions",
    operation_id="reportMyWechatSubscriptions",
    summary="Report wx.requestSubscribeMessage results; each accept allows one message",
    response_model=GrantsOut,
    responses=ERRORS,
)
async def report_subscriptions(
    request: Request,
    body: SubscriptionReportIn,
    scope: Annotated[Scope, Depends(current_scope)],
) -> Any:
    grants = await _service(request).record_wechat_subscriptions(
        scope, body.template_ids, body.results
    )
    return GrantsOut(grants=grants)


@router.put(
    "/me/devices",
    operation_id="registerMyDevice",
    summary="Register this device for push notifications (repeating it changes nothing)",
    status_code=204,
    response_class=Response,
    responses=ERRORS,
)
async def register_device(
    request: Request, body: DeviceIn, scope: Annotated[Scope, Depends(current_scope)]
) -> Response:
    await _service(request).register_device(scope, body.platform, body.registration_id)
    return Response(status_code=204)


@router.delete(
    "/me/devices/{registration_id}",
    operation_id="unregisterMyDevice",
    summary="Stop push notifications to one of your devices",
    status_code=204,
    response_class=Response,
    responses={**ERRORS, 404: {"description": "No such device of yours"}},
)
async def unregister_device(
    request: Request, registration_id: str, scope: Annotated[Scope, Depends(current_scope)]
) -> Response:
    await _service(request).unregister_device(scope, registration_id)
    return Response(status_code=204)
