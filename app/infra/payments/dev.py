"""Development payment adapter: records each payout as a JSON line in a local file and
answers queries from it. Idempotent on ``out_batch_no`` like the real provider, so the
file shows exactly the payouts a real run would have made.

It moves no money, so it must never run in production: it refuses to be built there
(and settings refuse ``SHOUWANG_PAYMENT_ADAPTER=dev`` in production).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain.rewards.model import PayoutResult, PayoutStatus
from app.domain.rewards.ports import PayoutRequest


class DevPaymentGateway:
    def __init__(
        self,
        path: Path,
        *,
        production: bool = False,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if production:
            raise RuntimeError("the development payment adapter is refused in production")
        self.path = path
        self._now = now
        self._lock = threading.Lock()  # writes run in worker threads

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def _find(self, out_batch_no: str) -> dict[str, Any] | None:
        return next((r for r in self.records() if r["out_batch_no"] == out_batch_no), None)

    def _transfer(self, request: PayoutRequest) -> PayoutResult:
        with self._lock:
            found = self._find(request.out_batch_no)
            if found is None:
                found = {
                    "out_batch_no": request.out_batch_no,
                    "out_detail_no": request.out_detail_no,
                    "account_id": str(request.payee.account_id),
                    "openid": request.payee.openid,
                    "amount_fen": request.amount_fen,
                    "remark": request.remark,
                    "paid_at": self._now().astimezone(UTC).isoformat(),
                }
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(found, ensure_ascii=False) + "\n")
        return PayoutResult(PayoutStatus.SUCCEEDED, provider_ref=f"dev-{request.out_batch_no}")

    async def transfer(self, request: PayoutRequest) -> PayoutResult:
        return await asyncio.to_thread(self._transfer, request)

    async def query(self, request: PayoutRequest) -> PayoutResult:
        found = await asyncio.to_thread(self._find, request.out_batch_no)
        if found is None:
            return PayoutResult(PayoutStatus.NOT_FOUND)
        return PayoutResult(PayoutStatus.SUCCEEDED, provider_ref=f"dev-{request.out_batch_no}")


class DisabledPaymentGateway:
    """No payment provider configured (production without WeChat Pay): every payout
    fails at once with ``payments_disabled``; nothing is sent anywhere."""

    async def transfer(self, request: PayoutRequest) -> PayoutResult:
        return PayoutResult(PayoutStatus.FAILED, failure="payments_disabled")

    async def query(self, request: PayoutRequest) -> PayoutResult:
        return PayoutResult(PayoutStatus.NOT_FOUND)
