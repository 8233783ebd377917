"""Errors of the tips context, each with a stable code and en + zh messages."""

from __future__ import annotations

from app.domain.shared.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    RateLimited,
    field_invalid,
)


class TipNotFound(NotFound):
    code = "tip.not_found"
    message_en = "The tip was not found."
    message_zh = "未找到该线索。"


class TipInvalidTransition(InvalidTransition):
    code = "tip.invalid_transition"
    message_en = "The tip's status cannot change this way from its current status."
    message_zh = "线索当前状态不允许此状态变更。"


class TipIdTaken(Conflict):
    """A client-generated id already names a tip submitted by someone else."""

    code = "tip.id_taken"
    message_en = "This tip id is already in use."
    message_zh = "该线索编号已被使用。"


class TipRateLimited(RateLimited):
    code = "tip.rate_limited"
    message_en = "You have submitted many tips recently; please try again later or call 110."
    message_zh = "您近期提交的线索较多，请稍后再试；紧急情况请拨打110。"


def tip_rate_limited(retry_after: int, limit: int, window_seconds: int) -> TipRateLimited:
    return TipRateLimited(retry_after, limit=limit, window_seconds=window_seconds)


def appeal_unknown() -> InvalidInput:
    return field_invalid(
        "tip.appeal_unknown",
        "appeal_id",
        "The police appeal was not found.",
        "未找到该协查通报。",
    )


def outside_service_area() -> InvalidInput:
    return field_invalid(
        "tip.outside_service_area",
        "location",
        "This location is outside the area served here; in an emergency call 110.",
        "该位置不在本平台服务范围内；紧急情况请拨打110。",
    )


def unknown_officer() -> InvalidInput:
    return field_invalid(
        "tip.unknown_officer",
        "officer_id",
        "The assignee must be an officer of the tip's police station.",
        "承办人必须是该线索所属派出所的民警。",
    )


def bulk_size_invalid(most: int) -> InvalidInput:
    return field_invalid(
        "tip.bulk_size_invalid",
        "ids",
        f"Assign between 1 and {most} tips at once.",
        f"每次可批量分派1至{most}条线索。",
    )


def reason_required() -> InvalidInput:
    return field_invalid(
        "tip.reason_required",
        "reason",
        "State the reason for this action.",
        "请说明操作理由。",
    )


def referred_station_unknown() -> InvalidInput:
    return field_invalid(
        "tip.referred_station_unknown",
        "referred_to_station_id",
        "The police station the tip is referred to was not found.",
        "未找到接收移交的派出所。",
    )
