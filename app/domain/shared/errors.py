"""Domain errors: one class per kind of failure, each with a stable machine code.

The API layer maps these to RFC 9457 problems (REST) and typed union members (GraphQL);
nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    message: str


class DomainError(Exception):
    """Base of every error a use case may raise on purpose."""

    code: str = "error"
    message_en: str = "The request could not be completed."
    message_zh: str = "请求无法完成。"

    def __init__(
        self,
        message_en: str | None = None,
        message_zh: str | None = None,
        *,
        code: str | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        if message_en is not None:
            self.message_en = message_en
            # An English-only override must not leave a stale Chinese text behind.
            self.message_zh = message_zh or message_en
        elif message_zh is not None:
            self.message_zh = message_zh
        super().__init__(self.message_en)

    def message(self, lang: str) -> str:
        return self.message_zh if lang.startswith("zh") else self.message_en


class NotFound(DomainError):
    """The record does not exist *or* is outside the caller's scope (never 403)."""

    code = "not_found"
    message_en = "The requested record was not found."
    message_zh = "未找到请求的记录。"


class NotAllowed(DomainError):
    """The caller may see the record but not perform this action on it."""

    code = "not_allowed"
    message_en = "You are not allowed to perform this action."
    message_zh = "您无权执行此操作。"


class Unauthenticated(DomainError):
    code = "auth.unauthenticated"
    message_en = "Authentication is required."
    message_zh = "需要登录。"


class InvalidInput(DomainError):
    code = "invalid_input"
    message_en = "The input is not valid."
    message_zh = "输入无效。"

    def __init__(
        self,
        message_en: str | None = None,
        message_zh: str | None = None,
        *,
        code: str | None = None,
        fields: list[FieldError] | None = None,
    ) -> None:
        super().__init__(message_en, message_zh, code=code)
        self.fields: list[FieldError] = fields or []


class Conflict(DomainError):
    code = "conflict"
    message_en = "The request conflicts with the current state of the record."
    message_zh = "请求与记录的当前状态冲突。"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message_en = "This status change is not allowed from the current status."
    message_zh = "当前状态不允许此状态变更。"


class StaleVersion(DomainError):
    """Optimistic concurrency: the record changed since the caller read it (HTTP 412)."""

    code = "stale_version"
    message_en = "The record was changed by someone else; reload it and try again."
    message_zh = "记录已被他人修改，请刷新后重试。"


class RateLimited(DomainError):
    code = "rate_limited"
    message_en = "Too many requests; try again later."
    message_zh = "请求过于频繁，请稍后再试。"

    def __init__(
        self,
        retry_after_seconds: int,
        message_en: str | None = None,
        message_zh: str | None = None,
        *,
        code: str | None = None,
        limit: int | None = None,
        window_seconds: int | None = None,
    ) -> None:
        super().__init__(message_en, message_zh, code=code)
        self.retry_after_seconds = max(1, retry_after_seconds)
        self.limit = limit
        self.window_seconds = window_seconds


class UpstreamUnavailable(DomainError):
    """An outside service (SMS, WeChat...) failed; the request may be retried later."""

    code = "upstream_unavailable"
    message_en = "A dependent service is temporarily unavailable; try again later."
    message_zh = "依赖的外部服务暂时不可用，请稍后再试。"


class PreconditionRequired(DomainError):
    """An edit arrived without If-Match / expected version (HTTP 428)."""

    code = "precondition_required"
    message_en = "Send If-Match with the ETag you last read to edit this record."
    message_zh = "修改此记录需要携带最近读取到的 ETag（If-Match）。"


def field_invalid(code: str, field: str, message_en: str, message_zh: str) -> InvalidInput:
    """Bad input in one named field: the problem's ``code`` (``context.reason``) and the
    field entry's code (``reason``) say the same, with zh/en texts."""
    return InvalidInput(
        message_en,
        message_zh,
        code=code,
        fields=[FieldError(field=field, code=code.rsplit(".", 1)[-1], message=message_en)],
    )
