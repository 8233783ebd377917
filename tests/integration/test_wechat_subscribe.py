"""WeChat subscribe messages against a loopback fake of api.weixin.qq.com: one token
issuance shared by concurrent senders, refresh on 40001, grants counted and consumed,
43101 clears the grant, no grant means no call, and a key is never sent twice."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from fakes.server import run_asgi_app, unused_base_url
from fakes.wechat import TEST_SECRET, FakeWeChat
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.bootstrap.identity import field_cipher
from app.domain.notifications.channels import ChannelUnavailable
from app.domain.notifications.model import Kind, Notification, link_to
from app.domain.shared.clock import SystemClock
from app.domain.shared.ids import new_id
from app.domain.shared.protection import Sealed
from app.infra.db.channels_repo import SqlChannelsRepository
from app.infra.db.tables.channels import wechat_access_tokens, wechat_subscription_grants
from app.infra.db.tables.identity import accounts, wechat_identities
from app.infra.wechat.access_token import WeChatAccessTokens
from app.infra.wechat.subscribe import WeChatSubscribeChannel
from app.settings import Settings

Sessions = async_sessionmaker[AsyncSession]
TEMPLATE = "tplTipUpdate-0123456789"


@pytest.fixture
def fake() -> Iterator[tuple[FakeWeChat, str]]:
    # A fresh fake and appid per test: the token cache row is per appid.
    wechat = FakeWeChat(appid="wx" + uuid.uuid4().hex[:16], token_delay_s=0.2)
    with run_asgi_app(wechat.app) as base_url:
        yield wechat, base_url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


def make_channel(
    http: httpx.AsyncClient, sessions: Sessions, settings: Settings, appid: str, base_url: str
) -> WeChatSubscribeChannel:
    tokens = WeChatAccessTokens(
        http,
        sessions,
        field_cipher(settings),
        SystemClock(),
        appid=appid,
        secret=TEST_SECRET,
        base_url=base_url,
    )
    return WeChatSubscribeChannel(
        http,
        sessions,
        tokens,
        appid=appid,
        templates={Kind.TIP_UPDATE: TEMPLATE},
        page="pages/notifications/index",
        base_url=base_url,
    )


@pytest.fixture
def channel(
    http: httpx.AsyncClient,
    session_factory: Sessions,
    settings: Settings,
    fake: tuple[FakeWeChat, str],
) -> WeChatSubscribeChannel:
    return make_channel(http, session_factory, settings, fake[0].appid, fake[1])


async def resident(sessions: Sessions, appid: str, *, grants: int = 0) -> tuple[uuid.UUID, str]:
    account, openid = new_id(), "o" + uuid.uuid4().hex[:27]
    async with sessions() as s, s.begin():
        await s.execute(sa.insert(accounts).values(id=account, kind="resident"))
        await s.execute(
            sa.insert(wechat_identities).values(
                id=new_id(), account_id=account, appid=appid, openid=openid
            )
        )
        for _ in range(grants):
            await SqlChannelsRepository(s).add_grant(account, TEMPLATE, 50)
    return account, openid


async def remaining(sessions: Sessions, account: uuid.UUID) -> int:
    async with sessions() as s:
        found = await s.scalar(
            sa.select(wechat_subscription_grants.c.remaining).where(
                wechat_subscription_grants.c.account_id == account
            )
        )
    return int(found or 0)


def tip_update(account: uuid.UUID) -> Notification:
    return Notification(
        new_id(), account, Kind.TIP_UPDATE, link_to("tips", new_id()), datetime.now(UTC)
    )


async def test_send_consumes_a_grant_and_carries_only_generic_text(
    channel: WeChatSubscribeChannel, fake: tuple[FakeWeChat, str], session_factory: Sessions
) -> None:
    wechat = fake[0]
    account, openid = await resident(session_factory, wechat.appid, grants=2)
    n = tip_update(account)

    result = await channel.send(n, "k-" + uuid.uuid4().hex)

    assert result.sent is True
    (message,) = wechat.sent_messages
    assert message["touser"] == openid
    assert message["template_id"] == TEMPLATE
    assert message["data"]["thing1"] == {"value": "您的举报有新进展"}  # type: ignore[index]
    assert str(n.id) not in str(message["data"])
    assert message["page"] == "pages/notifications/index?link=" + n.link.replace(
        ":", "%3A"
    ).replace("/", "%2F")
    assert message["miniprogram_state"] == "formal"
    assert await remaining(session_factory, account) == 1


async def test_without_a_grant_nothing_reaches_wechat(
    channel: WeChatSubscribeChannel, fake: tuple[FakeWeChat, str], session_factory: Sessions
) -> None:
    wechat = fake[0]
    account, _ = await resident(session_factory, wechat.appid)

    result = await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)

    assert (result.sent, result.detail) == (False, "not subscribed")
    assert wechat.tokens_issued == 0
    assert wechat.sent_messages == []


async def test_kind_without_template_and_account_without_openid_are_skipped(
    channel: WeChatSubscribeChannel, fake: tuple[FakeWeChat, str], session_factory: Sessions
) -> None:
    account, _ = await resident(session_factory, "wx-other-app", grants=1)
    no_openid = await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)
    other_kind = Notification(
        new_id(), account, Kind.VOLUNTEER_STATUS, "shouwang://me", datetime.now(UTC)
    )
    no_template = await channel.send(other_kind, "k-" + uuid.uuid4().hex)

    assert no_openid.detail == "no wechat identity"
    assert no_template.detail == "no template for this kind"
    assert fake[0].sent_messages == []


async def test_ten_concurrent_senders_share_one_token_issuance(
    http: httpx.AsyncClient,
    session_factory: Sessions,
    settings: Settings,
    fake: tuple[FakeWeChat, str],
) -> None:
    wechat, base_url = fake
    # Ten channels with their own token caches stand for ten worker processes.
    channels = [
        make_channel(http, session_factory, settings, wechat.appid, base_url) for _ in range(10)
    ]
    people = [await resident(session_factory, wechat.appid, grants=1) for _ in range(10)]

    results = await asyncio.gather(
        *(
            c.send(tip_update(a), "k-" + uuid.uuid4().hex)
            for c, (a, _) in zip(channels, people, strict=True)
        )
    )

    assert all(r.sent for r in results)
    assert wechat.tokens_issued == 1
    assert len(wechat.sent_messages) == 10


async def test_rejected_token_is_refreshed_once(
    channel: WeChatSubscribeChannel, fake: tuple[FakeWeChat, str], session_factory: Sessions
) -> None:
    wechat = fake[0]
    account, _ = await resident(session_factory, wechat.appid, grants=2)
    assert (await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)).sent
    wechat.revoke_tokens()  # e.g. someone refreshed it from the WeChat console

    result = await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)

    assert result.sent is True
    assert wechat.tokens_issued == 2
    assert len(wechat.sent_messages) == 2
    assert await remaining(session_factory, account) == 0


async def test_refused_subscription_clears_the_grant(
    channel: WeChatSubscribeChannel, fake: tuple[FakeWeChat, str], session_factory: Sessions
) -> None:
    wechat = fake[0]
    account, _ = await resident(session_factory, wechat.appid, grants=3)
    wechat.send_script.append(43101)

    result = await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)

    assert (result.sent, result.detail) == (False, "subscription refused")
    assert await remaining(session_factory, account) == 0


async def test_redelivery_with_the_same_key_sends_once(
    channel: WeChatSubscribeChannel, fake: tuple[FakeWeChat, str], session_factory: Sessions
) -> None:
    wechat = fake[0]
    account, _ = await resident(session_factory, wechat.appid, grants=5)
    n, key = tip_update(account), "k-" + uuid.uuid4().hex

    first, *again = await asyncio.gather(*(channel.send(n, key) for _ in range(3)))
    later = await channel.send(n, key)

    assert sum(r.sent for r in [first, *again]) >= 1
    assert len(wechat.sent_messages) == 1
    assert later.detail == "already handled"
    assert await remaining(session_factory, account) == 4


async def test_busy_wechat_raises_for_retry_and_keeps_the_grant(
    channel: WeChatSubscribeChannel, fake: tuple[FakeWeChat, str], session_factory: Sessions
) -> None:
    wechat = fake[0]
    account, _ = await resident(session_factory, wechat.appid, grants=1)
    n, key = tip_update(account), "k-" + uuid.uuid4().hex
    wechat.send_script.append(-1)

    with pytest.raises(ChannelUnavailable):
        await channel.send(n, key)
    assert await remaining(session_factory, account) == 1

    assert (await channel.send(n, key)).sent is True  # the worker's retry goes through
    assert len(wechat.sent_messages) == 1


async def test_invalid_openid_fails_without_retry(
    channel: WeChatSubscribeChannel, fake: tuple[FakeWeChat, str], session_factory: Sessions
) -> None:
    wechat = fake[0]
    account, _ = await resident(session_factory, wechat.appid, grants=2)
    n, key = tip_update(account), "k-" + uuid.uuid4().hex
    wechat.send_script.append(40003)

    failed = await channel.send(n, key)
    again = await channel.send(n, key)

    assert (failed.sent, failed.detail) == (False, "errcode 40003")
    assert (again.sent, again.detail) == (False, "already handled")
    assert wechat.sent_messages == []


async def test_unreachable_wechat_is_retryable(
    http: httpx.AsyncClient, session_factory: Sessions, settings: Settings
) -> None:
    appid = "wx" + uuid.uuid4().hex[:16]
    channel = make_channel(http, session_factory, settings, appid, unused_base_url())
    account, _ = await resident(session_factory, appid, grants=1)

    with pytest.raises(ChannelUnavailable):
        await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)
    assert await remaining(session_factory, account) == 1


async def test_token_is_sealed_and_nothing_personal_is_logged(
    channel: WeChatSubscribeChannel,
    fake: tuple[FakeWeChat, str],
    session_factory: Sessions,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wechat = fake[0]
    account, openid = await resident(session_factory, wechat.appid, grants=3)
    caplog.set_level(logging.DEBUG)
    await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)
    wechat.revoke_tokens()
    wechat.send_script += [40003]
    await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)

    async with session_factory() as s:
        row = (
            await s.execute(
                sa.select(wechat_access_tokens).where(wechat_access_tokens.c.appid == wechat.appid)
            )
        ).one()
    sealed = Sealed(row.token_key_id, row.token_sealed)
    token = field_cipher(settings).open(sealed, context="wechat.access_token")
    assert token.encode() not in row.token_sealed
    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("app."))
    assert "errcode 40003" in logged
    for secret in (openid, token, TEST_SECRET):
        assert secret not in logged
