"""The rewards context's ``Payees`` port: the payee's openid under the merchant's appid
(the mini-program's by default), read outside any caller's scope — only the outbox
worker asks, to pay a reward already approved."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.rewards.ports import Payee
from app.infra.db.channels_repo import openid_of
from app.infra.db.engine import autocommit_factory


class WeChatPayees:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], appid: str) -> None:
        self._sf = autocommit_factory(session_factory)
        self.appid = appid

    async def payee(self, account_id: uuid.UUID) -> Payee:
        async with self._sf() as session:
            openid = await openid_of(session, account_id, self.appid)
        return Payee(account_id, openid)
