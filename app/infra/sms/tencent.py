"""Tencent Cloud SMS adapter: the SendSms action (API version 2021-01-11) over httpx.

Two approved templates: login codes (``template_id``: code, minutes) and emergency
alerts (``alert_template_id``: marker, incident type label, short code; see
``AlertSms``). Requests are signed with TC3-HMAC-SHA256 (Tencent Cloud API 3.0
"signature v3"). Phone numbers, codes and texts never reach the logs: only provider
error codes and request ids do.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from app.domain.emergency.alert_delivery import AlertSms, AlertSmsFailed
from app.domain.identity.gateways import SmsDeliveryFailed

logger = logging.getLogger(__name__)

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
_SIGNED_HEADERS = "content-type;host"
_MAINLAND_MOBILE = re.compile(r"1\d{10}")


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac_sha256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    payload: bytes,
    timestamp: int,
    service: str = SERVICE,
    content_type: str = CONTENT_TYPE,
) -> str:
    """The ``Authorization`` header for a signed ``POST /`` with a JSON body."""
    canonical_headers = (
        f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n"
    )
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",  # canonical query string: empty for POST
            canonical_headers,
            _SIGNED_HEADERS,
            _sha256_hex(payload),
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    credential_scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            str(timestamp),
            credential_scope,
            _sha256_hex(canonical_request.encode("utf-8")),
        ]
    )
    secret_date = _hmac_sha256(("TC3" + secret_key).encode("utf-8"), date)
    secret_service = _hmac_sha256(secret_date, service)
    secret_signing = _hmac_sha256(secret_service, "tc3_request")
    signature = hmac.new(secret_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return (
        f"{ALGORITHM} Credential={secret_id}/{credential_scope}, "
        f"SignedHeaders={_SIGNED_HEADERS}, Signature={signature}"
    )


class TencentSmsSender:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        alert_template_id: str = "",
        region: str = "ap-guangzhou",
        endpoint: str = "https://sms.tencentcloudapi.com",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._sdk_app_id = sdk_app_id
        self._sign_name = sign_name
        self._template_id = template_id
        self._alert_template_id = alert_template_id
        self._region = region
        self._endpoint = endpoint
        # The Host header is signed, so it must be exactly what is sent: host[:port].
        self._host = httpx.URL(endpoint).netloc.decode("ascii")
        self._now = now

    def __repr__(self) -> str:  # keep the secret key out of tracebacks and debug output
        return f"TencentSmsSender(endpoint={self._endpoint!r}, region={self._region!r})"

    async def send_otp(self, phone: str, code: str, ttl_minutes: int) -> None:
        if not await self._send(phone, self._template_id, [code, str(ttl_minutes)]):
            raise SmsDeliveryFailed()

    async def send_alert(self, phone: str, alert: AlertSms) -> None:
        if not self._alert_template_id:
            logger.warning("tencent sms alert template is not configured")
            raise AlertSmsFailed()
        if not await self._send(phone, self._alert_template_id, alert.params()):
            raise AlertSmsFailed()

    async def _send(self, phone: str, template_id: str, params: list[str]) -> bool:
        """True when the provider accepted the message (failures are logged here)."""
        if not _MAINLAND_MOBILE.fullmatch(phone):
            raise ValueError("phone must be an 11-digit mainland mobile number")
        payload = json.dumps(
            {
                "PhoneNumberSet": ["+86" + phone],
                "SmsSdkAppId": self._sdk_app_id,
                "SignName": self._sign_name,
                "TemplateId": template_id,
                "TemplateParamSet": params,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        timestamp = int(self._now().timestamp())
        headers = {
            "Authorization": tc3_authorization(
                secret_id=self._secret_id,
                secret_key=self._secret_key,
                host=self._host,
                payload=payload,
                timestamp=timestamp,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self._host,
            "X-TC-Action": ACTION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": VERSION,
            "X-TC-Region": self._region,
        }
        try:
            response = await self._http.post(self._endpoint, content=payload, headers=headers)
        except httpx.HTTPError as exc:
            # The exception text may carry the URL only, but log the type to be safe.
            logger.warning("tencent sms transport error: %s", type(exc).__name__)
            return False
        return self._accepted(response)

    def _accepted(self, response: httpx.Response) -> bool:
        if response.status_code >= 500:
            logger.warning("tencent sms http status %d", response.status_code)
            return False
        try:
            body: Any = response.json()
        except ValueError:
            logger.warning("tencent sms non-json answer (http %d)", response.status_code)
            return False
        result = body.get("Response") if isinstance(body, Mapping) else None
        if not isinstance(result, Mapping):
            logger.warning("tencent sms answer without Response (http %d)", response.status_code)
            return False
        request_id = str(result.get("RequestId", ""))
        error = result.get("Error")
        if error is not None:
            error_code = error.get("Code") if isinstance(error, Mapping) else None
            logger.warning("tencent sms rejected: error %s (request %s)", error_code, request_id)
            return False
        statuses = result.get("SendStatusSet")
        first = statuses[0] if isinstance(statuses, list) and statuses else None
        status_code = first.get("Code") if isinstance(first, Mapping) else None
        if status_code != "Ok":
            logger.warning("tencent sms not sent: status %s (request %s)", status_code, request_id)
            return False
        logger.info("tencent sms sent (request %s)", request_id)
        return True
