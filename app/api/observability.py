"""JSON logs with a request id (no personal data) and Prometheus request metrics."""

from __future__ import annotations

import functools
import logging
import re
import sys
import time
from typing import Any

import structlog
import uuid_utils
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("shouwang_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "shouwang_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

access_log = structlog.get_logger("shouwang.access")


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        # Below the level a call returns at once, before any processor (the access log
        # at INFO costs nothing under WARNING).
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=processors,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs full URLs at INFO; WeChat puts the app secret and login code in the query.
    for quiet in ("httpx", "httpcore"):
        logging.getLogger(quiet).setLevel(logging.WARNING)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).handlers[:] = []
        logging.getLogger(noisy).propagate = False


_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")


def _route_template(scope: Scope) -> str:
    """The matched route as a template (``/api/v1/volunteers/{volunteer_id}``): path
    parameter values (ids, badge tokens) never reach logs or metric labels."""
    if scope.get("route") is None:
        return "unmatched"
    path = str(scope.get("path", ""))
    for name, value in scope.get("path_params", {}).items():
        path = path.replace(f"/{value}", f"/{{{name}}}", 1)
    return path


@functools.cache
def _counted(method: str, route: str, status: int) -> Any:
    """The request counter of one label set (``labels`` costs a lock and a look-up on
    every call; the route is a template, so the label sets are few)."""
    return REQUESTS.labels(method, route, str(status))


@functools.cache
def _timed(method: str, route: str) -> Any:
    return LATENCY.labels(method, route)


class RequestContext:
    """Pure ASGI middleware (no per-request task group, unlike BaseHTTPMiddleware): gives
    every request an id (a well-formed X-Request-ID is kept), echoes it, binds it to the
    log context, and records the access log line and the Prometheus metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers") or ():
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        # A random id of our own otherwise (uuid_utils draws it without a system call:
        # 0.2 µs against 3 µs for uuid.uuid4, on every request).
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid_utils.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        echoed = request_id.encode("latin-1")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Appended, not set through MutableHeaders (which looks for one first):
                # nothing before this middleware names the header.
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", echoed)]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            _counted(method, route, status).inc()
            _timed(method, route).observe(elapsed)
            # Route templates, never raw paths or query strings: those can carry personal data.
            access_log.info(
                "request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 1),
                account_id=state.get("account_id"),
            )
