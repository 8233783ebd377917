"""A fake WeChat Pay v3 server for merchant transfers (商家转账到零钱) on loopback.

- Verifies every request's ``WECHATPAY2-SHA256-RSA2048`` signature with the merchant's
  public key (401 ``SIGN_ERROR`` otherwise).
- ``POST /v3/transfer/batches``: idempotent on ``out_batch_no`` (a re-sent batch answers
  the original batch and pays nothing more); ``paid`` lists the transfers made.
- ``GET /v3/transfer/batches/out-batch-no/{b}/details/out-detail-no/{d}``: the detail
  (``SUCCESS``) or 404 ``RESOURCE_NOT_EXISTS``.
- Signs every answer with the platform key (``Wechatpay-*`` headers);
  ``tamper_responses`` breaks that signature.
- ``stall_after_accept_s``: the next transfer is accepted and recorded, then the answer
  is held back that long (the client times out: the crash / unknown case).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_AUTH = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class FakeWeChatPay:
    merchant_public_key: rsa.RSAPublicKey
    platform_private_key: rsa.RSAPrivateKey
    mchid: str = "1900000109"
    platform_serial: str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    paid: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    stall_after_accept_s: float = 0.0
    tamper_responses: bool = False

    def _answer(self, status: int, payload: dict[str, Any]) -> Response:
        body = json.dumps(payload, ensure_ascii=False)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        message = f"{timestamp}\n{nonce}\n{body}\n".encode()
        signature = self.platform_private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        if self.tamper_responses:
            signature = bytes(reversed(signature))
        return Response(
            body,
            status_code=status,
            media_type="application/json",
            headers={
                "Wechatpay-Timestamp": timestamp,
                "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": base64.b64encode(signature).decode(),
                "Wechatpay-Serial": self.platform_serial,
            },
        )

    def _signed(self, request: Request, body: str) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return False
        fields = dict(_AUTH.findall(header))
        if fields.get("mchid") != self.mchid:
            return False
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        stamp, nonce = fields.get("timestamp"), fields.get("nonce_str")
        message = f"{request.method}\n{path}\n{stamp}\n{nonce}\n{body}\n"
        try:
            self.merchant_public_key.verify(
                base64.b64decode(fields.get("signature", "")),
                message.encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return False
        return abs(time.time() - int(fields.get("timestamp", "0"))) < 300

    async def create_batch(self, request: Request) -> Response:
        body = (await request.body()).decode()
        self.requests.append(f"POST {request.url.path}")
        if not self._signed(request, body):
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        data = json.loads(body)
        batch_no = data["out_batch_no"]
        found = self.batches.get(batch_no)
        if found is None:
            details = data["transfer_detail_list"]
            if data["total_num"] != len(details) or data["total_amount"] != sum(
                d["transfer_amount"] for d in details
            ):
                return self._answer(400, {"code": "PARAM_ERROR", "message": "参数错误"})
            found = {
                "out_batch_no": batch_no,
                "batch_id": "1030000071100999991182020050700019480001"[:-6] + secrets.token_hex(3),
                "create_time": "2026-11-22T16:00:00+08:00",
                "batch_status": "ACCEPTED",
                "details": {d["out_detail_no"]: d for d in details},
            }
            self.batches[batch_no] = found
            self.paid.extend({**d, "appid": data["appid"]} for d in details)
            if self.stall_after_accept_s:
                stall, self.stall_after_accept_s = self.stall_after_accept_s, 0.0
                await asyncio.sleep(stall)
        answer = {k: v for k, v in found.items() if k != "details"}
        return self._answer(200, answer)

    async def get_detail(self, request: Request) -> Response:
        self.requests.append(f"GET {request.url.path}")
        if not self._signed(request, ""):
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        batch = self.batches.get(request.path_params["batch"])
        detail = batch["details"].get(request.path_params["detail"]) if batch else None
        if batch is None or detail is None:
            return self._answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "记录不存在"})
        return self._answer(
            200,
            {
                "mchid": self.mchid,
                "out_batch_no": batch["out_batch_no"],
                "batch_id": batch["batch_id"],
                "out_detail_no": detail["out_detail_no"],
                "detail_id": "1040000071100999991182020050700019500100",
                "detail_status": "SUCCESS",
                "transfer_amount": detail["transfer_amount"],
                "openid": detail["openid"],
            },
        )

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v3/transfer/batches", self.create_batch, methods=["POST"]),
                Route(
                    "/v3/transfer/batches/out-batch-no/{batch}/details/out-detail-no/{detail}",
                    self.get_detail,
                    methods=["GET"],
                ),
            ]
        )
