"""Errors of the help-requests context, each with a stable code and en + zh messages."""

from __future__ import annotations

from app.domain.shared.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    RateLimited,
    field_invalid,
)


class HelpRequestNotFound(NotFound):
    code = "help.not_found"
    message_en = "The help request was not found."
    message_zh = "未找到该求助。"


class HelpOfferNotFound(NotFound):
    code = "help.offer_not_found"
    message_en = "The offer of help was not found."
    message_zh = "未找到该帮助响应。"


class HelpInvalidTransition(InvalidTransition):
    code = "help.invalid_transition"
    message_en = "The help request's status does not allow this now."
    message_zh = "求助当前状态不允许此操作。"


class HelpIdTaken(Conflict):
    """A client-generated id already names a help request of someone else."""

    code = "help.id_taken"
    message_en = "This help request id is already in use."
    message_zh = "该求助编号已被使用。"


class NotServingVolunteer(NotAllowed):
    code = "help.not_serving_volunteer"
    message_en = "Only active volunteers serving the request's station may do this."
    message_zh = "仅限服务于该派出所辖区的在岗志愿者操作。"


class OwnRequest(NotAllowed):
    code = "help.own_request"
    message_en = "You cannot offer help on your own request."
    message_zh = "不能响应自己发布的求助。"


def outside_service_area() -> InvalidInput:
    return field_invalid(
        "help.outside_service_area",
        "location",
        "This location is outside the area served here; in an emergency call 110.",
        "该位置不在本平台服务范围内；紧急情况请拨打110。",
    )


class HelpRateLimited(RateLimited):
    code = "help.rate_limited"
    message_en = "You have asked for help many times recently; please try again later."
    message_zh = "您近期发起的求助较多，请稍后再试。"


def help_rate_limited(retry_after: int, limit: int, window_seconds: int) -> HelpRateLimited:
    return HelpRateLimited(retry_after, limit=limit, window_seconds=window_seconds)
