"""A fake Tencent Cloud SMS endpoint (SendSms, API 2021-01-11) for tests on loopback.

It verifies requests the way the documentation describes TC3-HMAC-SHA256 ("signature v3"),
with its own implementation (it does not import the adapter's signing code), and answers
with the documented response shapes, always HTTP 200 as the real API does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TEST_SECRET_ID = "AKIDfakeShouwangTestSecretId0000"
TEST_SECRET_KEY = "fakeShouwangTestSecretKey0000000"
TEST_SDK_APP_ID = "1400000001"

REGIONS = frozenset({"ap-guangzhou", "ap-beijing", "ap-nanjing"})
MAX_SKEW_SECONDS = 300

_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})"
    r"/(?P<service>[a-z]+)/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)
_PHONE = re.compile(r"\+861\d{10}")


@dataclass(frozen=True)
class ReceivedSms:
    phone_numbers: list[str]
    sdk_app_id: str
    sign_name: str
    template_id: str
    template_params: list[str]
    region: str


@dataclass
class FakeTencentSms:
    """Test double of sms.tencentcloudapi.com; mount ``.app`` with ``run_asgi_app``."""

    secret_id: str = TEST_SECRET_ID
    secret_key: str = TEST_SECRET_KEY
    sdk_app_id: str = TEST_SDK_APP_ID
    now: Callable[[], float] = time.time
    # Seconds to wait before answering (for client timeouts).
    delay_seconds: float = 0.0
    received: list[ReceivedSms] = field(default_factory=list)
    # Error codes this fake answered with, in order (authentication and business errors).
    errors: list[str] = field(default_factory=list)
    _status: tuple[str, str] = ("Ok", "send success")
    _error: tuple[str, str] | None = None

    def answer_status(self, code: str, message: str) -> None:
        """Answer later sends with this per-number SendStatusSet code (e.g. a limit hit)."""
        self._status = (code, message)

    def answer_error(self, code: str, message: str) -> None:
        """Answer later (authenticated) sends with this Response.Error."""
        self._error = (code, message)

    def reset(self) -> None:
        self.received.clear()
        self.errors.clear()
        self._status = ("Ok", "send success")
        self._error = None
        self.delay_seconds = 0.0

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self._send_sms, methods=["POST"])])

    # --- protocol -------------------------------------------------------------------

    def _fail(self, code: str, message: str) -> JSONResponse:
        self.errors.append(code)
        return JSONResponse(
            {
                "Response": {
                    "Error": {"Code": code, "Message": message},
                    "RequestId": str(uuid.uuid4()),
                }
            }
        )

    async def _send_sms(self, request: Request) -> JSONResponse:
        body = await request.body()
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        failure = self._authenticate(request, body)
        if failure is not None:
            return self._fail(*failure)

        try:
            params: Any = json.loads(body)
        except ValueError:
            return self._fail("InvalidParameter", "The request body is not valid JSON.")
        missing = [
            name for name in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId") if name not in params
        ]
        if missing:
            return self._fail("MissingParameter", f"The parameter `{missing[0]}` is missing.")
        if params["SmsSdkAppId"] != self.sdk_app_id:
            return self._fail(
                "InvalidParameterValue.SdkAppIdNotExist", "The SdkAppId does not exist."
            )
        phones = params["PhoneNumberSet"]
        template_params = params.get("TemplateParamSet", [])
        if (
            not isinstance(phones, list)
            or not phones
            or not all(isinstance(p, str) for p in phones)
            or not isinstance(template_params, list)
            or not all(isinstance(p, str) for p in template_params)
        ):
            return self._fail("InvalidParameter", "PhoneNumberSet/TemplateParamSet malformed.")

        if self._error is not None:
            return self._fail(*self._error)

        self.received.append(
            ReceivedSms(
                phone_numbers=list(phones),
                sdk_app_id=params["SmsSdkAppId"],
                sign_name=params.get("SignName", ""),
                template_id=params["TemplateId"],
                template_params=list(template_params),
                region=request.headers["x-tc-region"],
            )
        )
        statuses = []
        for phone in phones:
            code, message = self._status
            if not _PHONE.fullmatch(phone):
                code, message = (
                    "InvalidParameterValue.IncorrectPhoneNumber",
                    "invalid mobile number",
                )
            if code != "Ok":
                self.errors.append(code)
            statuses.append(
                {
                    "SerialNo": f"2028:{uuid.uuid4().hex[:20]}" if code == "Ok" else "",
                    "PhoneNumber": phone,
                    "Fee": 1 if code == "Ok" else 0,
                    "SessionContext": "",
                    "Code": code,
                    "Message": message,
                    "IsoCode": "CN",
                }
            )
        return JSONResponse(
            {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}}
        )

    def _authenticate(self, request: Request, body: bytes) -> tuple[str, str] | None:
        headers = request.headers
        if headers.get("x-tc-action") != "SendSms":
            return ("InvalidAction", "The requested action does not exist.")
        if headers.get("x-tc-version") != "2021-01-11":
            return ("NoSuchVersion", "The requested API version does not exist.")
        region = headers.get("x-tc-region")
        if not region:
            return ("MissingParameter", "The parameter `Region` is missing.")
        if region not in REGIONS:
            return ("UnsupportedRegion", "The region is not supported.")
        raw_timestamp = headers.get("x-tc-timestamp", "")
        if not raw_timestamp.isdigit():
            return ("MissingParameter", "The parameter `Timestamp` is missing or invalid.")
        timestamp = int(raw_timestamp)
        if abs(self.now() - timestamp) > MAX_SKEW_SECONDS:
            return ("AuthFailure.SignatureExpire", "Signature expired.")

        match = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if match is None:
            return ("AuthFailure.InvalidAuthorization", "Authorization header is malformed.")
        if match["secret_id"] != self.secret_id:
            return ("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        if match["date"] != date or match["service"] != "sms":
            return ("AuthFailure.SignatureFailure", "Credential scope does not match.")
        signed = match["signed"].split(";")
        if "content-type" not in signed or "host" not in signed or signed != sorted(signed):
            return ("AuthFailure.SignatureFailure", "SignedHeaders must cover content-type;host.")
        if headers.get("content-type", "").lower() != "application/json; charset=utf-8":
            return ("InvalidParameter", "Content-Type must be application/json.")

        canonical_headers = "".join(
            f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed
        )
        canonical_request = (
            f"{request.method}\n"
            f"{request.url.path}\n"
            f"{request.url.query}\n"
            f"{canonical_headers}\n"
            f"{match['signed']}\n"
            f"{hashlib.sha256(body).hexdigest()}"
        )
        string_to_sign = (
            "TC3-HMAC-SHA256\n"
            f"{timestamp}\n"
            f"{date}/sms/tc3_request\n"
            f"{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        )
        key = ("TC3" + self.secret_key).encode()
        for part in (date, "sms", "tc3_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, match["signature"]):
            return (
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. "
                "Please check your signature is correct.",
            )
        return None
