"""The single map from domain errors to RFC 9457 problem details (and back to GraphQL)."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain.shared.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAllowed,
    NotFound,
    PreconditionRequired,
    RateLimited,
    StaleVersion,
    Unauthenticated,
    UpstreamUnavailable,
)

log = logging.getLogger("shouwang.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://shouwang.example/problems/"

_STATUS: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (NotAllowed, 403),
    (Unauthenticated, 401),
    (InvalidInput, 422),
    (StaleVersion, 412),
    (PreconditionRequired, 428),
    (Conflict, 409),
    (RateLimited, 429),
    (UpstreamUnavailable, 503),
]

_TITLES: dict[int, tuple[str, str]] = {
    400: ("Bad request", "请求错误"),
    401: ("Unauthenticated", "未登录"),
    403: ("Forbidden", "无权操作"),
    404: ("Not found", "未找到"),
    405: ("Method not allowed", "不支持的请求方法"),
    409: ("Conflict", "冲突"),
    412: ("Precondition failed", "前置条件不满足"),
    415: ("Unsupported media type", "不支持的媒体类型"),
    422: ("Invalid input", "输入无效"),
    428: ("Precondition required", "需要前置条件"),
    429: ("Too many requests", "请求过于频繁"),
    500: ("Internal error", "内部错误"),
    503: ("Service unavailable", "服务暂不可用"),
}


def status_for(error: DomainError) -> int:
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 400


def language(request: Request) -> str:
    header = request.headers.get("accept-language", "zh-CN").lower()
    for part in header.split(","):
        tag = part.split(";")[0].strip()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh"
    return "zh"


def problem(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    lang = language(request)
    title_en, title_zh = _TITLES.get(status, ("Error", "错误"))
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code.replace(".", "/"),
        "title": title_zh if lang == "zh" else title_en,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_response(request: Request, error: DomainError) -> JSONResponse:
    status = status_for(error)
    headers: dict[str, str] = {}
    errors: list[dict[str, str]] | None = None
    if isinstance(error, InvalidInput):
        errors = [{"field": f.field, "code": f.code, "message": f.message} for f in error.fields]
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_seconds)
        if error.limit is not None and error.window_seconds is not None:
            headers["RateLimit-Policy"] = f'"default";q={error.limit};w={error.window_seconds}'
            headers["RateLimit"] = f'"default";r=0;t={error.retry_after_seconds}'
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return problem(
        request,
        status,
        error.code,
        error.message(language(request)),
        errors=errors,
        headers=headers or None,
    )


_PYDANTIC_CODES = {
    "missing": "required",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "enum": "not_allowed_value",
    "literal_error": "not_allowed_value",
    "uuid_parsing": "invalid_id",
    "json_invalid": "invalid_json",
}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


# Driver and database messages quote the offending values (names, phone blind indexes,
# tokens): log their class and SQLSTATE only.
_QUOTING_MODULES = ("sqlalchemy", "asyncpg", "psycopg")


def safe_trace(exc: BaseException) -> dict[str, Any]:
    """What an unexpected error may put in the log: the chain of exception types (with
    messages only for our own and the standard library's), SQLSTATE, and the frames."""
    chain: list[str] = []
    sqlstate: str | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        name = f"{kind.__module__}.{kind.__qualname__}"
        sqlstate = (
            sqlstate
            or getattr(current, "sqlstate", None)
            or getattr(getattr(current, "orig", None), "sqlstate", None)
        )
        if kind.__module__.startswith(_QUOTING_MODULES):
            chain.append(name)
        else:
            chain.append(f"{name}: {str(current)[:200]}")
        current = current.__cause__ or current.__context__
    frames = [
        f"{f.filename}:{f.lineno} in {f.name}"
        for f in traceback.extract_tb(exc.__traceback__)[-20:]
    ]
    return {"error_chain": chain, "sqlstate": sqlstate, "frames": frames}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = language(request)
        errors = [
            {
                "field": _field_name(tuple(e.get("loc", ()))),
                "code": _PYDANTIC_CODES.get(str(e.get("type")), str(e.get("type"))),
                "message": str(e.get("msg", "")),
            }
            for e in exc.errors()
        ]
        detail = "请求数据无效。" if lang == "zh" else "The request body or parameters are invalid."
        return problem(request, 422, "validation_failed", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "route.not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        return problem(
            request, exc.status_code, code, detail, headers=dict(exc.headers or {}) or None
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", extra=safe_trace(exc))
        lang = language(request)
        detail = "服务器内部错误。" if lang == "zh" else "An unexpected error occurred."
        return problem(request, 500, "internal", detail)
