"""Per-request context: request id, client address, language and the caller's Scope."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.container import services_of
from app.api.errors import language
from app.domain.review.errors import device_id_invalid
from app.domain.shared.auth import Authenticator
from app.domain.shared.errors import Unauthenticated
from app.domain.shared.scope import Scope

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
_DEVICE_ID_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/*")


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or uuid.uuid4().hex)


def client_ip(request: Request) -> str:
    """The caller's address; X-Forwarded-For is honoured only from configured proxies."""
    peer = request.client.host if request.client else "0.0.0.0"  # noqa: S104
    trusted = getattr(request.app.state, "trusted_proxies", ())
    if peer in trusted:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return peer


def lang_of(request: Request) -> str:
    return language(request)


def device_id_of(headers: Mapping[str, str]) -> str | None:
    """The client's ``X-Device-Id`` (the app's install id, the mini-program's): opaque,
    1 to 128 visible ASCII characters; absent is None, malformed a 422 problem."""
    raw = headers.get("x-device-id")
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if not _DEVICE_ID_RE.match(value):
        raise device_id_invalid()
    return value


def with_device(scope: Scope, headers: Mapping[str, str]) -> Scope:
    device = device_id_of(headers)
    return dataclasses.replace(scope, device_id=device) if device else scope


async def authenticate_token(request: Request, token: str) -> Scope:
    authenticator = services_of(request).get_any(Authenticator)
    scope: Scope = await authenticator.authenticate(token, request_id=request_id_of(request))
    request.state.account_id = str(scope.account_id)
    return with_device(scope, request.headers)


async def current_scope(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Scope:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated()
    return await authenticate_token(request, credentials.credentials)


async def optional_scope(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Scope | None:
    if credentials is None:
        return None
    return await authenticate_token(request, credentials.credentials)
