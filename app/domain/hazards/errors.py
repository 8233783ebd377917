"""Errors of the hazards context, each with a stable code and en + zh messages."""

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


class HazardNotFound(NotFound):
    code = "hazard.not_found"
    message_en = "The hazard was not found."
    message_zh = "未找到该隐患。"


class HazardInvalidTransition(InvalidTransition):
    code = "hazard.invalid_transition"
    message_en = "The hazard's status does not allow this now."
    message_zh = "隐患当前状态不允许此操作。"


class HazardIdTaken(Conflict):
    """A client-generated id already names a hazard someone else reported."""

    code = "hazard.id_taken"
    message_en = "This hazard id is already in use."
    message_zh = "该隐患编号已被使用。"


class DepartmentNotFound(NotFound):
    code = "hazard.department_not_found"
    message_en = "The department was not found."
    message_zh = "未找到该责任部门。"


class CategoryNotFound(NotFound):
    code = "hazard.category_not_found"
    message_en = "The hazard sub-category was not found."
    message_zh = "未找到该隐患子类别。"


class CategoryCodeTaken(Conflict):
    code = "hazard.category_code_taken"
    message_en = "This sub-category code is already used in the district."
    message_zh = "该子类别编码在本区已被使用。"


class NotAssignee(NotAllowed):
    code = "hazard.not_assignee"
    message_en = "Only the responsible department or party may do this."
    message_zh = "仅限责任部门或责任方操作。"


class NotReinspector(NotAllowed):
    code = "hazard.not_reinspector"
    message_en = (
        "Re-inspection is for officers and active volunteers of the station, "
        "not the party that rectified."
    )
    message_zh = "复查须由民警或本所在岗志愿者进行，且不能是整改方本人。"


class NotReporter(NotAllowed):
    code = "hazard.not_reporter"
    message_en = "Only a reporter of this hazard may reopen it."
    message_zh = "仅限该隐患的上报人重新提出。"


class CannotMerge(Conflict):
    code = "hazard.cannot_merge"
    message_en = "These hazards cannot be merged."
    message_zh = "这两条隐患不能合并。"


def outside_service_area() -> InvalidInput:
    return field_invalid(
        "hazard.outside_service_area",
        "location",
        "This location is outside the area served here.",
        "该位置不在本平台服务范围内。",
    )


class HazardRateLimited(RateLimited):
    code = "hazard.rate_limited"
    message_en = "You have reported many hazards recently; please try again later."
    message_zh = "您近期上报的隐患较多，请稍后再试。"


def hazard_rate_limited(retry_after: int, limit: int, window_seconds: int) -> HazardRateLimited:
    return HazardRateLimited(retry_after, limit=limit, window_seconds=window_seconds)
