"""Development SMS adapter: writes each message as a JSON line to a local outbox file.

Login codes and emergency alerts go to the same file, each as the text the production
template renders. Writing the code to the outbox is the point (developers read it from
there), so it must never be configured in production; settings refuse it there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from app.domain.emergency.alert_delivery import AlertSms

logger = logging.getLogger(__name__)


def otp_text(code: str, ttl_minutes: int) -> str:
    """The text the production template renders, so the outbox reads like the real SMS."""
    return f"【守望】您的验证码为{code}，{ttl_minutes}分钟内有效。请勿泄露给他人。"


def _rfc3339_utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DevSmsSender:
    def __init__(
        self,
        outbox_path: Path,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._path = outbox_path
        self._now = now
        # A thread lock, not an asyncio one: the writes run in worker threads and the
        # sender may be shared by several event loops (tests, CLI).
        self._lock = threading.Lock()

    @property
    def outbox_path(self) -> Path:
        return self._path

    async def send_otp(self, phone: str, code: str, ttl_minutes: int) -> None:
        await self._write(phone, otp_text(code, ttl_minutes))

    async def send_alert(self, phone: str, alert: AlertSms) -> None:
        await self._write(phone, alert.text())

    async def _write(self, phone: str, text: str) -> None:
        record = {"to": phone, "text": text, "sent_at": _rfc3339_utc(self._now())}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        await asyncio.to_thread(self._append, line)
        logger.info("dev sms written to %s", self._path)

    def _append(self, line: str) -> None:
        with self._lock:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._path.open("a", encoding="utf-8") as outbox:
                outbox.write(line)
