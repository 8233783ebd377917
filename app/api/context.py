"""Per-request context: request id, client address, language and the caller's Scope."""

from __future__ import annotations

import re
import uuid

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.container import services_of
from app.api.errors import language
from app.domain.shared.auth import Authenticator
from app.domain.shared.errors import Unauthenticated
from app.domain.shared.scope import Scope

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
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


async def authenticate_token(request: Request, token: str) -> Scope:
    authenticator = services_of(request).get_any(Authenticator)
    scope: Scope = await authenticator.authenticate(token, request_id=request_id_of(request))
    request.state.account_id = str(scope.account_id)
    return scope


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
