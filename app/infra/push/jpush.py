"""Mobile push through JPush (极光推送) REST API v3: ``POST https://api.jpush.cn/v3/push``
with HTTP Basic auth ``appKey:masterSecret``
(https://docs.jiguang.cn/jpush/server/push/rest_api_v3_push).

The audience is the account's registered devices by ``registration_id``; the alert is
the notification's generic text and the deep link rides in ``extras``. JPush has no
idempotency key, so the ``push_sends`` row for the notification key is claimed in the
transaction that spans the call. Registration ids and the secret are never logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.notifications.channels import ChannelUnavailable
from app.domain.notifications.model import Notification
from app.domain.notifications.ports import ChannelResult
from app.infra.db import channels_repo as repo

logger = logging.getLogger(__name__)

ERR_NO_TARGET = 1011  # "cannot find user by this audience": uninstalled or expired
ERR_RATE_LIMITED = 2002


class JPushChannel:
    name = "push"

    def __init__(
        self,
        http: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
        *,
        app_key: str,
        master_secret: str,
        apns_production: bool = True,
        base_url: str = "https://api.jpush.cn",
    ) -> None:
        self._http = http
        self._sessions = sessions
        self._auth = httpx.BasicAuth(app_key, master_secret)
        self._app_key = app_key
        self._apns_production = apns_production
        self._url = base_url.rstrip("/") + "/v3/push"

    def __repr__(self) -> str:  # keep the master secret out of tracebacks
        return f"JPushChannel(app_key={self._app_key!r})"

    def _result(self, sent: bool, detail: str | None = None) -> ChannelResult:
        return ChannelResult(self.name, sent, detail)

    async def send(self, notification: Notification, key: str) -> ChannelResult:
        async with self._sessions() as s, s.begin():
            earlier = await repo.claim_push_send(s, key)
            if earlier is not None:
                return self._result(earlier == "sent", "already handled")
            devices = await repo.registration_ids_of(s, notification.account_id)
            if not devices:
                await repo.settle_push_send(s, key, "skipped")
                return self._result(False, "no device")
            code = await self._push(devices, notification)
            if code is None:
                return self._result(True)
            if code == ERR_NO_TARGET:
                await repo.settle_push_send(s, key, "skipped")
                return self._result(False, "no reachable device")
            logger.warning("jpush push failed: code %s", code)
            await repo.settle_push_send(s, key, "failed")
            return self._result(False, f"code {code}")

    async def _push(self, devices: list[str], n: Notification) -> int | None:
        """None when accepted, else JPush's error code; raises when worth retrying."""
        title, body = n.text("zh")
        extras = {"link": n.link}
        payload = {
            "platform": "all",
            "audience": {"registration_id": devices},
            "notification": {
                "alert": body,
                "android": {"alert": body, "title": title, "extras": extras},
                "ios": {
                    "alert": {"title": title, "body": body},
                    "sound": "default",
                    "extras": extras,
                },
            },
            "options": {"apns_production": self._apns_production, "time_to_live": 86400},
        }
        try:
            response = await self._http.post(
                self._url,
                auth=self._auth,
                content=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            logger.warning("jpush transport error: %s", type(exc).__name__)
            raise ChannelUnavailable("jpush unavailable") from None
        if response.status_code == 200:
            return None
        code = _error_code(response)
        if (
            response.status_code >= 500
            or response.status_code == 429
            or code
            in (
                None,
                ERR_RATE_LIMITED,
            )
        ):
            logger.warning("jpush retryable: http %d code %s", response.status_code, code)
            raise ChannelUnavailable("jpush unavailable")
        return code


def _error_code(response: httpx.Response) -> int | None:
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, Mapping) else None
    code = error.get("code") if isinstance(error, Mapping) else None
    return code if isinstance(code, int) else None
