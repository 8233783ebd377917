"""WeChat subscribe messages (一次性订阅消息) as a notification channel.

``POST /cgi-bin/message/subscribe/send?access_token=…``
(https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html).
A send needs a grant the user gave through ``wx.requestSubscribeMessage``: each counted
grant allows one message; without one nothing is sent and WeChat is not called.

The (key, template) row in ``wechat_sends`` is claimed in the same transaction as the
grant is consumed and the message is sent, so a redelivered notification never goes
out twice and a retryable failure rolls both back. The text is the notification's
generic title (e.g. "您的举报有新进展"); the page opens the deep link in the app.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.notifications.channels import ChannelUnavailable
from app.domain.notifications.model import Kind, Notification
from app.domain.notifications.ports import ChannelResult
from app.infra.db import channels_repo as repo
from app.infra.wechat.access_token import WeChatAccessTokens

logger = logging.getLogger(__name__)

ERR_TOKEN_INVALID = (40001, 42001, 40014)  # invalid / expired / malformed access_token
ERR_REFUSED = 43101  # the user has no (more) grant for this template
ERR_RETRYABLE = (-1, 45009)  # system busy, daily/minute quota


class _TokenRejected(Exception):
    pass


class _NeedToken(Exception):
    pass


class WeChatSubscribeChannel:
    name = "wechat"

    def __init__(
        self,
        http: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
        tokens: WeChatAccessTokens,
        *,
        appid: str,
        templates: Mapping[Kind, str],
        page: str,
        miniprogram_state: str = "formal",
        base_url: str = "https://api.weixin.qq.com",
    ) -> None:
        self._http = http
        self._sessions = sessions
        self._tokens = tokens
        self._appid = appid
        self._templates = {k: v for k, v in templates.items() if v}
        self._page = page
        self._state = miniprogram_state
        self._url = base_url.rstrip("/") + "/cgi-bin/message/subscribe/send"

    def _result(self, sent: bool, detail: str | None = None) -> ChannelResult:
        return ChannelResult(self.name, sent, detail)

    async def send(self, notification: Notification, key: str) -> ChannelResult:
        template = self._templates.get(notification.kind)
        if template is None:
            return self._result(False, "no template for this kind")
        # The token is fetched only once a grant was found (no grant: WeChat is never
        # called), outside the send transaction so no session waits on another.
        token: str | None = None
        refreshed = False
        while True:
            try:
                return await self._attempt(notification, key, template, token)
            except _NeedToken:
                token = await self._tokens.get()
            except _TokenRejected:
                if refreshed:  # a fresh token rejected too: WeChat's trouble, retry later
                    raise ChannelUnavailable("wechat rejected a fresh access_token") from None
                refreshed = True
                token = await self._tokens.get(stale=token)

    async def _attempt(
        self, n: Notification, key: str, template: str, token: str | None
    ) -> ChannelResult:
        async with self._sessions() as s, s.begin():
            earlier = await repo.claim_wechat_send(s, key, template)
            if earlier is not None:
                return self._result(earlier == "sent", "already handled")
            openid = await repo.openid_of(s, n.account_id, self._appid)
            if openid is None:
                await repo.settle_wechat_send(s, key, template, "skipped")
                return self._result(False, "no wechat identity")
            if not await repo.consume_grant(s, n.account_id, template):
                await repo.settle_wechat_send(s, key, template, "skipped")
                return self._result(False, "not subscribed")
            if token is None:
                raise _NeedToken  # rolls back; the caller fetches a token and comes back
            errcode = await self._post(token, openid, template, n)
            if errcode == 0:
                return self._result(True)
            if errcode in ERR_TOKEN_INVALID:
                raise _TokenRejected  # rolls back the claim and the consumed grant
            if errcode == ERR_REFUSED:
                await repo.clear_grant(s, n.account_id, template)
                await repo.settle_wechat_send(s, key, template, "skipped")
                return self._result(False, "subscription refused")
            logger.warning("wechat subscribe send failed: errcode %s", errcode)
            await repo.settle_wechat_send(s, key, template, "failed")
            return self._result(False, f"errcode {errcode}")

    async def _post(self, token: str, openid: str, template: str, n: Notification) -> int:
        title, _ = n.text("zh")
        body = {
            "touser": openid,
            "template_id": template,
            "page": f"{self._page}?link={quote(n.link, safe='')}",
            # The template is expected to have 事项 (thing1, ≤20 chars) and 时间 (time2).
            "data": {
                "thing1": {"value": title[:20]},
                "time2": {"value": n.created_at.strftime("%Y-%m-%d %H:%M")},
            },
            "miniprogram_state": self._state,
            "lang": "zh_CN",
        }
        try:
            response = await self._http.post(
                self._url,
                params={"access_token": token},
                content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            logger.warning("wechat subscribe transport error: %s", type(exc).__name__)
            raise ChannelUnavailable("wechat subscribe send unavailable") from None
        errcode = _errcode(response)
        if errcode is None or errcode in ERR_RETRYABLE:
            logger.warning(
                "wechat subscribe send retryable: http %d errcode %s",
                response.status_code,
                errcode,
            )
            raise ChannelUnavailable("wechat subscribe send unavailable")
        return errcode


def _errcode(response: httpx.Response) -> int | None:
    if response.status_code >= 500:
        return None
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, Mapping):
        return None
    code = body.get("errcode", 0)
    return code if isinstance(code, int) else None
