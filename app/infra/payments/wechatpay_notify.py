"""WeChat Pay v3 callbacks (回调通知) about merchant transfers, as ``PaymentNotifications``.

Protocol as implemented (WeChat Pay API v3 notification contract):

- Authenticity: headers ``Wechatpay-Timestamp``, ``Wechatpay-Nonce``, ``Wechatpay-Signature``
  and ``Wechatpay-Serial``. The signature is base64(RSA-SHA256, PKCS#1 v1.5) over
  ``TIMESTAMP\\nNONCE\\nBODY\\n`` with the platform certificate whose serial (upper-case
  hex) is ``Wechatpay-Serial``. A timestamp more than 5 minutes off is refused (replay).
  With a bare platform public key (no certificate) the serial cannot be compared and
  only the signature is checked.
- Body: ``{"id", "create_time", "event_type", "resource_type": "encrypt-resource",
  "resource": {"algorithm": "AEAD_AES_256_GCM", "ciphertext", "nonce",
  "associated_data", "original_type"}}``; the ciphertext (base64, the 16-byte tag at the
  end) is decrypted with the merchant's APIv3 key (32 bytes) and the associated data.
- The decrypted transfer result carries ``out_batch_no`` and either ``out_detail_no`` +
  ``detail_status`` (SUCCESS / FAIL / PROCESSING…, ``fail_reason``) or ``batch_status``:
  ``MCHTRANSFER.BATCH.FINISHED`` gives FINISHED with ``success_num`` / ``fail_num`` (our
  batches hold exactly one detail, so the batch's counts are the detail's outcome),
  ``MCHTRANSFER.BATCH.CLOSED`` gives CLOSED (``close_reason``: nothing was paid); SUCCESS /
  FAIL are read as such too. Everything else is not final (UNKNOWN).

The decrypted payload holds the payee's openid: it is never logged or kept.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.domain.rewards.model import PayoutResult, PayoutStatus
from app.domain.rewards.ports import PayoutNotice, UntrustedNotification
from app.infra.payments.wechatpay import (
    CLOCK_SKEW_S,
    load_public_key,
    platform_serial,
    verify,
)

ALGORITHM = "AEAD_AES_256_GCM"
MAX_BODY = 64 * 1024  # a transfer callback is well under 2 KiB


class WeChatPayNotifications:
    def __init__(
        self,
        *,
        platform_cert_pem: bytes,
        apiv3_key: bytes,
        now: Callable[[], float] = time.time,
    ) -> None:
        if len(apiv3_key) != 32:
            raise ValueError("the WeChat Pay APIv3 key must be 32 bytes")
        self.platform_key = load_public_key(platform_cert_pem)
        self.serial = platform_serial(platform_cert_pem)
        self.aead = AESGCM(apiv3_key)
        self._now = now

    async def parse(self, headers: Mapping[str, str], body: bytes) -> PayoutNotice | None:
        # One RSA public-key check and one AES-GCM block of under 2 KiB: microseconds,
        # not worth a thread hop.
        return self.parse_sync(headers, body)

    def parse_sync(self, headers: Mapping[str, str], body: bytes) -> PayoutNotice | None:
        self._verify({k.lower(): v for k, v in headers.items()}, body)
        envelope = _object(body, "malformed_body")
        resource = envelope.get("resource")
        if not isinstance(resource, dict):
            raise UntrustedNotification("malformed_body", authentic=True)
        data = _object(self._decrypt(resource), "malformed_resource")
        return notice_of(data)

    def _verify(self, headers: Mapping[str, str], body: bytes) -> None:
        timestamp = headers.get("wechatpay-timestamp", "")
        nonce = headers.get("wechatpay-nonce", "")
        signature = headers.get("wechatpay-signature", "")
        serial = headers.get("wechatpay-serial", "")
        if not (timestamp.isascii() and timestamp.isdigit() and nonce and signature and serial):
            raise UntrustedNotification("missing_signature")
        if len(body) > MAX_BODY:
            raise UntrustedNotification("body_too_large")
        if self.serial is not None and serial.upper() != self.serial:
            raise UntrustedNotification("unknown_serial")
        if abs(self._now() - int(timestamp)) > CLOCK_SKEW_S:
            raise UntrustedNotification("stale_timestamp")
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise UntrustedNotification("bad_signature") from None
        if not verify(self.platform_key, f"{timestamp}\n{nonce}\n{text}\n", signature):
            raise UntrustedNotification("bad_signature")

    def _decrypt(self, resource: dict[str, Any]) -> bytes:
        if resource.get("algorithm") != ALGORITHM:
            raise UntrustedNotification("unsupported_algorithm", authentic=True)
        ciphertext, nonce = resource.get("ciphertext"), resource.get("nonce")
        associated = resource.get("associated_data") or ""
        if not (
            isinstance(ciphertext, str) and isinstance(nonce, str) and isinstance(associated, str)
        ):
            raise UntrustedNotification("malformed_resource", authentic=True)
        try:
            return self.aead.decrypt(
                nonce.encode(), base64.b64decode(ciphertext, validate=True), associated.encode()
            )
        except (InvalidTag, ValueError, binascii.Error):
            raise UntrustedNotification("decrypt_failed", authentic=True) from None


def _object(raw: bytes, reason: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise UntrustedNotification(reason, authentic=True) from None
    if not isinstance(data, dict):
        raise UntrustedNotification(reason, authentic=True)
    return data


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def notice_of(data: Mapping[str, Any]) -> PayoutNotice | None:
    """The transfer result in a decrypted resource; None when it is about something else."""
    batch = _text(data.get("out_batch_no"))
    if batch is None:
        return None
    detail = _text(data.get("out_detail_no"))
    if "detail_status" in data:
        ref = _text(data.get("detail_id"))
        status = _text(data.get("detail_status"))
        if status == "SUCCESS":
            return PayoutNotice(batch, detail, PayoutResult(PayoutStatus.SUCCEEDED, ref))
        if status == "FAIL":
            failure = _text(data.get("fail_reason")) or "FAIL"
            return PayoutNotice(batch, detail, PayoutResult(PayoutStatus.FAILED, ref, failure))
        return PayoutNotice(batch, detail, PayoutResult(PayoutStatus.UNKNOWN, ref))
    ref = _text(data.get("batch_id"))
    status = _text(data.get("batch_status"))
    succeeded = PayoutResult(PayoutStatus.SUCCEEDED, ref)
    if status == "SUCCESS":
        return PayoutNotice(batch, detail, succeeded)
    if status == "FAIL":
        failed = PayoutResult(PayoutStatus.FAILED, ref, _text(data.get("fail_reason")) or "FAIL")
        return PayoutNotice(batch, detail, failed)
    if status == "CLOSED":
        reason = _text(data.get("close_reason")) or "CLOSED"
        return PayoutNotice(batch, detail, PayoutResult(PayoutStatus.FAILED, ref, reason))
    if status == "FINISHED":
        if _count(data.get("success_num")) >= 1:
            return PayoutNotice(batch, detail, succeeded)
        if _count(data.get("fail_num")) >= 1:
            failed = PayoutResult(PayoutStatus.FAILED, ref, "detail_failed")
            return PayoutNotice(batch, detail, failed)
    return PayoutNotice(batch, detail, PayoutResult(PayoutStatus.UNKNOWN, ref))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
