"""The mini-program's interface-call credential (access_token), shared by every process.

Obtained with ``GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…``
(https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getAccessToken.html).
Each issuance invalidates the previous token after a short grace period, so exactly one
process may refresh: the refresh runs under ``pg_advisory_xact_lock`` and the others
wait on it and reuse what it stored. The token is cached in ``wechat_access_tokens``,
sealed with the field cipher, and refreshed five minutes before it expires or when
WeChat rejects it (40001/42001). Neither the token nor the secret is ever logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.notifications.channels import ChannelUnavailable
from app.domain.shared.clock import Clock
from app.domain.shared.protection import FieldCipher, Sealed
from app.infra.db.tables.channels import wechat_access_tokens as t

logger = logging.getLogger(__name__)

CONTEXT = "wechat.access_token"
REFRESH_MARGIN = timedelta(minutes=5)


class WeChatAccessTokens:
    def __init__(
        self,
        http: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        clock: Clock,
        *,
        appid: str,
        secret: str,
        base_url: str = "https://api.weixin.qq.com",
    ) -> None:
        self._http = http
        self._sessions = sessions
        self._cipher = cipher
        self._clock = clock
        self._appid = appid
        self._secret = secret
        self._url = base_url.rstrip("/") + "/cgi-bin/token"

    def __repr__(self) -> str:  # keep the secret out of tracebacks
        return f"WeChatAccessTokens(appid={self._appid!r})"

    async def get(self, *, stale: str | None = None) -> str:
        """A usable token; ``stale`` is one WeChat just rejected, which is never returned."""
        async with self._sessions() as s:
            token = await self._stored(s, stale)
        if token is not None:
            return token
        async with self._sessions() as s, s.begin():
            await s.execute(
                sa.select(
                    sa.func.pg_advisory_xact_lock(sa.func.hashtext(CONTEXT + ":" + self._appid))
                )
            )
            token = await self._stored(s, stale)  # another process may have just refreshed
            if token is not None:
                return token
            token, expires_at = await self._issue()
            sealed = self._cipher.seal(token, context=CONTEXT)
            values = {
                "token_key_id": sealed.key_id,
                "token_sealed": sealed.ciphertext,
                "expires_at": expires_at,
                "updated_at": self._clock.now(),
            }
            await s.execute(
                insert(t)
                .values(appid=self._appid, **values)
                .on_conflict_do_update(index_elements=[t.c.appid], set_=values)
            )
        return token

    async def _stored(self, s: AsyncSession, stale: str | None) -> str | None:
        row = (
            await s.execute(
                sa.select(t.c.token_key_id, t.c.token_sealed, t.c.expires_at).where(
                    t.c.appid == self._appid
                )
            )
        ).first()
        if row is None or row.expires_at - REFRESH_MARGIN <= self._clock.now():
            return None
        token = self._cipher.open(Sealed(row.token_key_id, row.token_sealed), context=CONTEXT)
        return None if token == stale else token

    async def _issue(self) -> tuple[str, datetime]:
        params = {"grant_type": "client_credential", "appid": self._appid, "secret": self._secret}
        try:
            response = await self._http.get(self._url, params=params)
        except httpx.HTTPError as exc:
            logger.warning("wechat access_token transport error: %s", type(exc).__name__)
            raise ChannelUnavailable("wechat access_token unavailable") from None
        body = _json(response)
        token = body.get("access_token")
        expires_in = body.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            logger.warning(
                "wechat access_token refused: http %d errcode %s",
                response.status_code,
                body.get("errcode"),
            )
            raise ChannelUnavailable("wechat access_token unavailable")
        logger.info("wechat access_token issued, valid %ds", expires_in)
        return token, self._clock.now() + timedelta(seconds=expires_in)


def _json(response: httpx.Response) -> Mapping[str, Any]:
    """WeChat answers JSON labelled text/plain; anything else counts as an empty answer."""
    if response.status_code >= 500:
        return {}
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}
