"""Errors of the appeals context, each with a stable code and en + zh messages."""

from __future__ import annotations

from app.domain.shared.errors import (
    InvalidInput,
    InvalidTransition,
    NotFound,
    field_invalid,
)


class AppealNotFound(NotFound):
    code = "appeal.not_found"
    message_en = "The police appeal was not found."
    message_zh = "未找到该协查通报。"


class AppealInvalidTransition(InvalidTransition):
    code = "appeal.invalid_transition"
    message_en = "The appeal's status cannot change this way from its current status."
    message_zh = "协查通报当前状态不允许此状态变更。"


def target_outside() -> InvalidInput:
    return field_invalid(
        "appeal.target_outside_jurisdiction",
        "target",
        "The target area must lie within your station's (or district's) jurisdiction.",
        "协查范围必须位于本派出所（或分局）辖区内。",
    )
