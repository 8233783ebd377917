"""/api/v1/auth: sign-in by SMS code, WeChat or password; refresh and logout.

Token responses carry ``Cache-Control: no-store`` (RFC 6749 §5.1).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.container import services_of
from app.api.context import client_ip, request_id_of
from app.api.rest import API_V1
from app.domain.identity.model import ClientInfo, TokenPair
from app.domain.identity.services import SessionService
from app.domain.identity.signin import SignInService

router = APIRouter(prefix=f"{API_V1}/auth", tags=["auth"])

_PROBLEM: dict[str, Any] = {"application/problem+json": {}}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": _PROBLEM}


INVALID = _err("Invalid input (e.g. not a mainland mobile number)")
LIMITED = _err("Too many requests; see Retry-After and RateLimit headers")


class OtpRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=1, max_length=32, examples=["13800138000"])


class OtpRequestedOut(BaseModel):
    expires_in: int = Field(description="Seconds the code stays valid")
    resend_after: int = Field(description="Seconds before another code may be requested")


class OtpVerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=1, max_length=32, examples=["13800138000"])
    code: str = Field(min_length=1, max_length=16, examples=["123456"])


class WeChatLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=128, description="Code from wx.login()")


class PasswordLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=256)


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (OAuth token type)
    expires_in: int = Field(description="Seconds until the access token expires")


def client_info(request: Request) -> ClientInfo:
    return ClientInfo(
        ip=client_ip(request),
        request_id=request_id_of(request),
        user_agent=request.headers.get("user-agent"),
    )


def _tokens(pair: TokenPair) -> JSONResponse:
    body = TokenPairOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )
    return JSONResponse(
        body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
    )


def _sign_in(request: Request) -> SignInService:
    return services_of(request).get(SignInService)


@router.post(
    "/otp",
    operation_id="requestOtp",
    summary="Send a sign-in code by SMS",
    description="Always 202 with the same body, whether or not the phone has an account.",
    status_code=202,
    response_model=OtpRequestedOut,
    responses={422: INVALID, 429: LIMITED, 503: _err("The SMS provider failed")},
)
async def request_otp(body: OtpRequestIn, request: Request) -> JSONResponse:
    sent = await _sign_in(request).request_otp(body.phone, client_info(request))
    out = OtpRequestedOut(expires_in=sent.expires_in, resend_after=sent.resend_after)
    return JSONResponse(out.model_dump(), status_code=202)


@router.post(
    "/otp/verify",
    operation_id="verifyOtp",
    summary="Sign in with the SMS code",
    description="Creates a resident account on first sign-in.",
    response_model=TokenPairOut,
    responses={
        401: _err("Wrong, expired or used code (auth.otp_invalid) or disabled account"),
        422: INVALID,
    },
)
async def verify_otp(body: OtpVerifyIn, request: Request) -> JSONResponse:
    pair = await _sign_in(request).verify_otp(body.phone, body.code, client_info(request))
    return _tokens(pair)


@router.post(
    "/wechat",
    operation_id="loginWithWechat",
    summary="Sign in with a WeChat mini-program login code",
    response_model=TokenPairOut,
    responses={
        401: _err("Account disabled"),
        403: _err("WeChat blocked this login (wechat.user_blocked)"),
        422: _err("The code is invalid or expired (wechat.code_invalid)"),
        429: LIMITED,
        503: _err("WeChat is unavailable"),
    },
)
async def login_with_wechat(body: WeChatLoginIn, request: Request) -> JSONResponse:
    pair = await _sign_in(request).sign_in_with_wechat(body.code, client_info(request))
    return _tokens(pair)


@router.post(
    "/login",
    operation_id="loginWithPassword",
    summary="Officer sign-in with username and password",
    response_model=TokenPairOut,
    responses={
        401: _err("Wrong username or password, or account disabled"),
        422: INVALID,
        429: LIMITED,
    },
)
async def login_with_password(body: PasswordLoginIn, request: Request) -> JSONResponse:
    pair = await _sign_in(request).sign_in_with_password(
        body.username, body.password, client_info(request)
    )
    return _tokens(pair)


@router.post(
    "/refresh",
    operation_id="refreshTokens",
    summary="Exchange a refresh token for a new token pair (rotation)",
    description="A refresh token works once; presenting it again ends the whole session.",
    response_model=TokenPairOut,
    responses={401: _err("Unknown, expired, revoked or reused refresh token"), 422: INVALID},
)
async def refresh(body: RefreshIn, request: Request) -> JSONResponse:
    pair = (
        await services_of(request)
        .get(SessionService)
        .refresh(body.refresh_token, client_info(request))
    )
    return _tokens(pair)


@router.post(
    "/logout",
    operation_id="logout",
    summary="End the session of a refresh token",
    description="Idempotent: unknown or already ended sessions also answer 204.",
    status_code=204,
    response_class=Response,
    responses={422: INVALID},
)
async def logout(body: RefreshIn, request: Request) -> Response:
    await services_of(request).get(SessionService).logout(body.refresh_token, client_info(request))
    return Response(status_code=204)
