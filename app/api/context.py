"""Per-request context: request id, client address, language and the caller's Scope."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import uuid_utils
from fastapi import Request
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from app.api.container import services_of
from app.api.errors import language
from app.domain.review.errors import device_id_invalid
from app.domain.shared.auth import Authenticator
from app.domain.shared.errors import Unauthenticated
from app.domain.shared.scope import Scope

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
_DEVICE_ID_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
BEARER_DESCRIPTION = "Access token from /api/v1/auth/*"


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or uuid_utils.uuid4().hex)


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


def unlogged_caller(request: Request) -> None:
    """Keep the caller's account out of this request's access-log line: a reporter acting
    on a tip (submitting, disputing). The line's request id and time are those of the tip's
    outbox event and history, so naming the account there would name the informant."""
    request.state.account_id = None


async def authenticate_token(request: Request, token: str) -> Scope:
    authenticator = services_of(request).get_any(Authenticator)
    scope: Scope = await authenticator.authenticate(token, request_id=request_id_of(request))
    request.state.account_id = str(scope.account_id)
    return with_device(scope, request.headers)


class _BearerScope(HTTPBearer):
    """The caller's Scope from the ``Authorization: Bearer`` access token, for
    ``Depends(current_scope)``; no token (or another scheme) is a 401 problem.

    The dependency is itself the HTTPBearer security scheme, so OpenAPI documents it as
    before, rather than a dependency on the scheme: FastAPI solves every dependency of a
    request anew (about 25 µs each on the officer queue), and the scheme's credentials
    model is not needed."""

    async def __call__(self, request: Request) -> Scope:  # type: ignore[override]
        scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
        if not token or scheme.lower() != "bearer":
            raise Unauthenticated()
        return await authenticate_token(request, token)


current_scope = _BearerScope(
    auto_error=False, scheme_name="HTTPBearer", description=BEARER_DESCRIPTION
)
