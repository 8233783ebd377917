"""/api/v1/payments/wechatpay/notify: WeChat Pay's transfer result callbacks (回调通知).

Called by WeChat Pay, not by our clients: no bearer token; the callback's own signature
(platform certificate) is the authentication. Per WeChat Pay's contract the answer is
204 with no body when the callback was taken (also when it is about no reward of ours:
sending it again would not help), and 4xx with ``{"code": "FAIL", "message": ...}`` when
it was refused, so WeChat Pay sends it again later. Without the WeChat Pay adapter
(development pays synchronously) the path does not exist: 404 problem.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.api.container import services_of
from app.api.rest import API_V1
from app.domain.rewards.ports import PaymentNotifications, UntrustedNotification
from app.domain.rewards.services import PayoutService
from app.domain.shared.errors import NotFound

router = APIRouter(prefix=f"{API_V1}/payments", tags=["payments"])
log = structlog.get_logger("shouwang.payments")

_FAIL: dict[str, Any] = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"code": {"const": "FAIL"}, "message": {"type": "string"}},
            "required": ["code", "message"],
        }
    }
}


class NotifyNotConfigured(NotFound):
    code = "payments.notify_not_configured"
    message_en = "Payment callbacks are not configured."
    message_zh = "未配置支付回调。"


@router.post(
    "/wechatpay/notify",
    operation_id="wechatpayNotify",
    summary="WeChat Pay transfer result callback (called by WeChat Pay, signed, no token)",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "Taken (or about no reward of ours): WeChat Pay stops sending"},
        400: {"description": "Authentic but unreadable (not decryptable)", "content": _FAIL},
        401: {"description": "Signature, serial or timestamp refused", "content": _FAIL},
        404: {
            "description": "WeChat Pay callbacks are not configured",
            "content": {"application/problem+json": {}},
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def wechatpay_notify(request: Request) -> Response:
    services = services_of(request)
    try:
        notifications: PaymentNotifications = services.get_any(PaymentNotifications)
    except KeyError:
        raise NotifyNotConfigured() from None
    body = await request.body()
    try:
        notice = await notifications.parse(request.headers, body)
    except UntrustedNotification as refused:
        log.warning("payments.notify_refused", reason=refused.reason)
        status = 400 if refused.authentic else 401
        return JSONResponse({"code": "FAIL", "message": refused.reason}, status_code=status)
    if notice is None:
        log.info("payments.notify_ignored")
        return Response(status_code=204)
    reward = await services.get(PayoutService).record_payout_result(
        notice.out_batch_no, notice.out_detail_no, notice.result
    )
    if reward is None:
        log.warning("payments.notify_unknown_batch")
    else:
        log.info(
            "payments.notify_taken",
            reward_id=str(reward.id),
            result=notice.result.status.value,
            reward_status=reward.status.value,
        )
    return Response(status_code=204)
