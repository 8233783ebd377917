"""Errors of the review context, each with a stable code and en + zh messages."""

from __future__ import annotations

from app.domain.shared.errors import FieldError, InvalidInput, InvalidTransition, NotFound


class FlagNotFound(NotFound):
    code = "review.flag_not_found"
    message_en = "The review flag was not found."
    message_zh = "未找到该复核事项。"


class FlagAlreadyResolved(InvalidTransition):
    code = "review.flag_resolved"
    message_en = "The review flag has already been resolved."
    message_zh = "该复核事项已处理。"


def note_invalid() -> InvalidInput:
    code = "review.note_invalid"
    message_en = "The note must be at most 500 characters."
    return InvalidInput(
        message_en,
        "备注不能超过500字。",
        code=code,
        fields=[FieldError(field="note", code="note_invalid", message=message_en)],
    )


def device_id_invalid() -> InvalidInput:
    code = "device.id_invalid"
    message_en = "X-Device-Id must be 1 to 128 visible ASCII characters."
    return InvalidInput(
        message_en,
        "X-Device-Id 须为1至128个可见ASCII字符。",
        code=code,
        fields=[FieldError(field="X-Device-Id", code="id_invalid", message=message_en)],
    )
