"""Refuse characters text columns cannot hold, at the door: PostgreSQL cannot store U+0000,
and a lone UTF-16 surrogate (JSON allows "\\ud800") cannot be encoded as UTF-8, so either
would otherwise fail deep in a query as a 500. Covers REST and GraphQL (variables are
JSON) alike."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import language, problem

_SUSPECT_ESCAPES = (
    b"\\u0000",
    b"\\ud8",
    b"\\ud9",
    b"\\uda",
    b"\\udb",
    b"\\udc",
    b"\\udd",
    b"\\ude",
    b"\\udf",
)
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return _FORBIDDEN.search(value) is not None
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _json_body_has_nul(body: bytes) -> bool:
    if b"\x00" in body:
        return True
    lowered = body.lower()
    if not any(esc in lowered for esc in _SUSPECT_ESCAPES):
        return False
    try:  # an escaped backslash followed by "u0000" is not a NUL: decide on the parsed value
        return _has_nul(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return False  # malformed JSON is the validation layer's business


class RejectNulCharacters:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            await self._refuse(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if b"json" not in headers.get(b"content-type", b"").lower():
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if _json_body_has_nul(body):
            await self._refuse(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        zh = language(request) == "zh"
        response = problem(
            request,
            422,
            "invalid_characters",
            "请求中含有不允许的字符（U+0000 或不成对的代理字符）。"
            if zh
            else "The request contains a NUL character (U+0000) or an unpaired surrogate,"
            " which are not allowed.",
        )
        await response(scope, receive, send)
