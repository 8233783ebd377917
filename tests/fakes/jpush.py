"""A fake JPush REST API v3 (``POST /v3/push``) on loopback.

Checks HTTP Basic auth (1004 on failure, HTTP 401) and the body shape (1003, HTTP 400),
records accepted pushes in ``pushes``, and answers the next ``(http status, code)``
queued in ``script`` instead, e.g. ``(400, 1011)`` no target, ``(503, 1030)``.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TEST_APP_KEY = "0123456789abcdef01234567"
TEST_MASTER_SECRET = "fake0jpush0master0secret"


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _valid(body: Any) -> bool:
    if not isinstance(body, dict) or body.get("platform") not in ("all", ["android", "ios"]):
        return False
    audience = body.get("audience")
    ids = audience.get("registration_id") if isinstance(audience, dict) else None
    notification = body.get("notification")
    return (
        isinstance(ids, list)
        and 0 < len(ids) <= 1000
        and all(isinstance(i, str) and i for i in ids)
        and isinstance(notification, dict)
        and isinstance(notification.get("alert"), str)
    )


@dataclass
class FakeJPush:
    app_key: str = TEST_APP_KEY
    master_secret: str = TEST_MASTER_SECRET
    pushes: list[dict[str, Any]] = field(default_factory=list)
    script: list[tuple[int, int]] = field(default_factory=list)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v3/push", self._push, methods=["POST"])])

    async def _push(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.app_key}:{self.master_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return _error(401, 1004, "Authen failed")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, 1003, "Parameter value is invalid")
        if not _valid(body):
            return _error(400, 1003, "Parameter value is invalid")
        if self.script:
            status, code = self.script.pop(0)
            return _error(status, code, "scripted")
        self.pushes.append(body)
        return JSONResponse({"sendno": "0", "msg_id": str(secrets.randbelow(10**18))})
