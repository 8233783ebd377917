"""WeChat mini-program login adapter: auth.code2Session (GET /sns/jscode2session) over httpx.

The ``session_key`` in WeChat's answer is dropped here: it never leaves this module and is
never stored. Neither the login code nor the app secret is ever logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from app.domain.identity.gateways import (
    WeChatCodeInvalid,
    WeChatIdentity,
    WeChatRateLimited,
    WeChatUnavailable,
    WeChatUserBlocked,
)

logger = logging.getLogger(__name__)

MAX_CODE_LENGTH = 128

ERR_SYSTEM_BUSY = -1
ERR_INVALID_CODE = 40029
ERR_CODE_BEEN_USED = 40163
ERR_RATE_LIMITED = 45011
ERR_HIGH_RISK_USER = 40226


class WeChatMiniProgramAuth:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        appid: str,
        secret: str,
        base_url: str = "https://api.weixin.qq.com",
    ) -> None:
        self._http = http
        self._appid = appid
        self._secret = secret
        self._url = base_url.rstrip("/") + "/sns/jscode2session"

    def __repr__(self) -> str:  # keep the app secret out of tracebacks and debug output
        return f"WeChatMiniProgramAuth(appid={self._appid!r}, url={self._url!r})"

    async def exchange_code(self, code: str) -> WeChatIdentity:
        if not code or len(code) > MAX_CODE_LENGTH or not code.isprintable():
            raise WeChatCodeInvalid()
        params = {
            "appid": self._appid,
            "secret": self._secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        try:
            response = await self._http.get(self._url, params=params)
        except httpx.HTTPError as exc:
            # Not the exception text: it may contain the URL, and the URL holds the secret.
            logger.warning("wechat code2session transport error: %s", type(exc).__name__)
            raise WeChatUnavailable() from None
        return self._parse(response)

    def _parse(self, response: httpx.Response) -> WeChatIdentity:
        if response.status_code >= 500:
            logger.warning("wechat code2session http status %d", response.status_code)
            raise WeChatUnavailable()
        try:
            # WeChat answers JSON labelled text/plain, so decode regardless of content-type.
            body: Any = json.loads(response.content)
        except ValueError:
            logger.warning("wechat code2session non-json answer (http %d)", response.status_code)
            raise WeChatUnavailable() from None
        if not isinstance(body, Mapping):
            logger.warning("wechat code2session unexpected answer (http %d)", response.status_code)
            raise WeChatUnavailable()
        errcode = body.get("errcode", 0)
        if errcode in (0, None):
            openid = body.get("openid")
            unionid = body.get("unionid")
            if not isinstance(openid, str) or not openid:
                logger.warning("wechat code2session answer without openid")
                raise WeChatUnavailable()
            return WeChatIdentity(
                openid=openid,
                unionid=unionid if isinstance(unionid, str) and unionid else None,
            )
        if errcode in (ERR_INVALID_CODE, ERR_CODE_BEEN_USED):
            logger.info("wechat code2session rejected the code: errcode %s", errcode)
            raise WeChatCodeInvalid()
        if errcode == ERR_RATE_LIMITED:
            logger.warning("wechat code2session rate limited: errcode %s", errcode)
            raise WeChatRateLimited()
        if errcode == ERR_HIGH_RISK_USER:
            logger.warning("wechat code2session blocked a high-risk user: errcode %s", errcode)
            raise WeChatUserBlocked()
        # -1 (system busy) and anything undocumented (bad appid/secret...) are ours to retry
        # or fix, not the user's.
        logger.warning("wechat code2session failed: errcode %s", errcode)
        raise WeChatUnavailable()
