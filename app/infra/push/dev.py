"""Development stand-in for an outbound channel (WeChat subscribe messages or vendor
push): logs each notification and, when a path is configured, appends it as a JSON line.
Deduplicates keys in memory, which is enough on a developer's machine. Production
settings refuse it."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path

from app.domain.notifications.model import Notification
from app.domain.notifications.ports import ChannelResult

logger = logging.getLogger(__name__)


class DevChannel:
    def __init__(self, name: str, outbox: Path | None = None) -> None:
        self.name = name
        self._outbox = outbox
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    async def send(self, notification: Notification, key: str) -> ChannelResult:
        with self._lock:
            if key in self._seen:
                return ChannelResult(self.name, False, "already handled")
            self._seen.add(key)
        title, body = notification.text("zh")
        logger.info("dev %s notification: %s (%s)", self.name, title, notification.link)
        if self._outbox is not None:
            record = {
                "channel": self.name,
                "account_id": str(notification.account_id),
                "kind": notification.kind.value,
                "title": title,
                "body": body,
                "link": notification.link,
                "key": key,
            }
            await asyncio.to_thread(self._append, json.dumps(record, ensure_ascii=False) + "\n")
        return ChannelResult(self.name, True)

    def _append(self, line: str) -> None:
        assert self._outbox is not None
        with self._lock:
            self._outbox.parent.mkdir(parents=True, exist_ok=True)
            with self._outbox.open("a", encoding="utf-8") as f:
                f.write(line)
