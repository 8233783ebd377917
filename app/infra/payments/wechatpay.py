"""WeChat Pay v3 merchant transfer to balance (商家转账到零钱) as the ``PaymentGateway``.

Protocol as implemented (WeChat Pay API v3; assumptions stated where the documentation
leaves room):

- Transfer: ``POST /v3/transfer/batches`` with ``appid``, ``out_batch_no``, ``batch_name``,
  ``batch_remark``, ``total_amount``, ``total_num`` = 1 and one ``transfer_detail_list``
  item (``out_detail_no``, ``transfer_amount``, ``transfer_remark``, ``openid``), and
  ``notify_url`` (the callback endpoint) when configured. Amounts
  are in fen. ``user_name`` is omitted (only required from 2,000 yuan; our rewards are far
  below). The provider is idempotent on ``out_batch_no``: re-sending the same batch number
  returns the original batch, never a second transfer.
- Query: ``GET /v3/transfer/batches/out-batch-no/{out_batch_no}/details/out-detail-no/
  {out_detail_no}`` → ``detail_status`` SUCCESS / FAIL / PROCESSING / INIT / WAIT_PAY;
  404 ``RESOURCE_NOT_EXISTS`` / ``NOT_FOUND`` when the batch never arrived.
- Signing: every request carries ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",
  nonce_str="…",timestamp="…",serial_no="…",signature="…"`` where the signature is
  base64(RSA-SHA256, PKCS#1 v1.5, merchant private key) over
  ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`` (BODY empty for GET).
- Verification: every answer's ``Wechatpay-Signature`` is checked with the platform
  certificate's public key over ``TIMESTAMP\\nNONCE\\nBODY\\n`` (headers
  ``Wechatpay-Timestamp``, ``Wechatpay-Nonce``); a timestamp more than 5 minutes off, a
  missing or bad signature makes the answer untrusted → ``UNKNOWN`` (reconciled later).

Mapping: transfer 200 → SUCCEEDED (the provider accepted the batch; the detail is final
or processing, and it is never sent again); 4xx with a business code → FAILED (nothing
was paid) except ``FREQUENCY_LIMITED`` / ``SYSTEM_ERROR``; 5xx, 429, timeouts and
transport errors → UNKNOWN. Query SUCCESS → SUCCEEDED, FAIL → FAILED, others → UNKNOWN,
404 → NOT_FOUND.

Callbacks (``transfer batch finished`` notifications, AES-256-GCM encrypted resources)
are verified and decrypted in ``wechatpay_notify`` and settle rewards as soon as WeChat
Pay knows; reconciliation still polls the query endpoint, which covers lost callbacks.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_pem_x509_certificate

from app.domain.rewards.model import PayoutResult, PayoutStatus
from app.domain.rewards.ports import PayoutRequest

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
BATCH_NAME = "守望志愿者奖励"
RETRYABLE_CODES = frozenset({"FREQUENCY_LIMITED", "SYSTEM_ERROR"})
CLOCK_SKEW_S = 300


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the merchant key must be an RSA private key")
    return key


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    """The platform certificate (or a bare public key) in PEM."""
    if b"CERTIFICATE" in pem:
        key: Any = load_pem_x509_certificate(pem).public_key()
    else:
        key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the platform key must be RSA")
    return key


def platform_serial(pem: bytes) -> str | None:
    """The platform certificate's serial as WeChat Pay writes it in ``Wechatpay-Serial``
    (upper-case hex); None for a bare public key."""
    if b"CERTIFICATE" not in pem:
        return None
    return format(load_pem_x509_certificate(pem).serial_number, "X")


def sign(key: rsa.RSAPrivateKey, message: str) -> str:
    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def verify(key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        key.verify(
            base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def authorization(
    *, mchid: str, serial_no: str, key: rsa.RSAPrivateKey, method: str, path: str, body: str
) -> str:
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    message = f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n"
    signature = sign(key, message)
    return (
        f'{SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


class WeChatPayGateway:
    def __init__(
        self,
        *,
        base_url: str,
        mchid: str,
        appid: str,
        serial_no: str,
        private_key_pem: bytes,
        platform_cert_pem: bytes,
        notify_url: str = "",
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.mchid = mchid
        self.appid = appid
        self.serial_no = serial_no
        self.key = load_private_key(private_key_pem)
        self.platform_key = load_public_key(platform_cert_pem)
        self.notify_url = notify_url
        self.timeout_s = timeout_s
        self.transport = transport

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None) -> httpx.Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")) if payload else ""
        headers = {
            "Authorization": authorization(
                mchid=self.mchid,
                serial_no=self.serial_no,
                key=self.key,
                method=method,
                path=path,
                body=body,
            ),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Wechatpay-Serial": self.serial_no,
            "User-Agent": "shouwang/1",
        }
        async with httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport) as client:
            return await client.request(
                method, self.base_url + path, content=body.encode() or None, headers=headers
            )

    def _trusted(self, response: httpx.Response) -> bool:
        timestamp = response.headers.get("Wechatpay-Timestamp", "")
        nonce = response.headers.get("Wechatpay-Nonce", "")
        signature = response.headers.get("Wechatpay-Signature", "")
        if not (timestamp.isdigit() and nonce and signature):
            return False
        if abs(time.time() - int(timestamp)) > CLOCK_SKEW_S:
            return False
        return verify(self.platform_key, f"{timestamp}\n{nonce}\n{response.text}\n", signature)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def transfer(self, request: PayoutRequest) -> PayoutResult:
        if not request.payee.openid:
            return PayoutResult(PayoutStatus.FAILED, failure="payee_has_no_openid")
        payload: dict[str, Any] = {
            "appid": self.appid,
            "out_batch_no": request.out_batch_no,
            "batch_name": BATCH_NAME,
            "batch_remark": request.remark,
            "total_amount": request.amount_fen,
            "total_num": 1,
            "transfer_detail_list": [
                {
                    "out_detail_no": request.out_detail_no,
                    "transfer_amount": request.amount_fen,
                    "transfer_remark": request.remark,
                    "openid": request.payee.openid,
                }
            ],
        }
        if self.notify_url:
            payload["notify_url"] = self.notify_url  # where WeChat Pay sends the result
        try:
            response = await self._call("POST", "/v3/transfer/batches", payload)
        except httpx.HTTPError:
            return PayoutResult(PayoutStatus.UNKNOWN, failure="transport")
        if not self._trusted(response):
            return PayoutResult(PayoutStatus.UNKNOWN, failure="untrusted_answer")
        data = self._json(response)
        if response.status_code == 200:
            # Accepted is not paid: WeChat Pay transfers batches asynchronously, and a
            # transfer may still fail (a frozen account, a failed real-name check). The
            # result comes by callback (notify_url) or by query (reconciliation task).
            return PayoutResult(
                PayoutStatus.UNKNOWN,
                provider_ref=str(data.get("batch_id", "")),
                failure="accepted_processing",
            )
        code = str(data.get("code", ""))
        if response.status_code >= 500 or response.status_code == 429 or code in RETRYABLE_CODES:
            return PayoutResult(PayoutStatus.UNKNOWN, failure=code or str(response.status_code))
        return PayoutResult(PayoutStatus.FAILED, failure=code or str(response.status_code))

    async def query(self, request: PayoutRequest) -> PayoutResult:
        path = (
            f"/v3/transfer/batches/out-batch-no/{quote(request.out_batch_no)}"
            f"/details/out-detail-no/{quote(request.out_detail_no)}"
        )
        try:
            response = await self._call("GET", path, None)
        except httpx.HTTPError:
            return PayoutResult(PayoutStatus.UNKNOWN, failure="transport")
        if not self._trusted(response):
            return PayoutResult(PayoutStatus.UNKNOWN, failure="untrusted_answer")
        data = self._json(response)
        if response.status_code == 404:
            return PayoutResult(PayoutStatus.NOT_FOUND)
        if response.status_code != 200:
            return PayoutResult(PayoutStatus.UNKNOWN, failure=str(data.get("code", "")))
        status = str(data.get("detail_status", ""))
        ref = str(data.get("detail_id", "")) or None
        if status == "SUCCESS":
            return PayoutResult(PayoutStatus.SUCCEEDED, provider_ref=ref)
        if status == "FAIL":
            return PayoutResult(
                PayoutStatus.FAILED, provider_ref=ref, failure=str(data.get("fail_reason", ""))
            )
        return PayoutResult(PayoutStatus.UNKNOWN, provider_ref=ref)
