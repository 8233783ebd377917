"""JPush (REST API v3) against a loopback fake: pushes reach the account's registered
devices with generic text and a deep link, once per key; documented errors map to
skipped / failed / retry; registration ids and the master secret stay out of the logs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from fakes.jpush import TEST_APP_KEY, TEST_MASTER_SECRET, FakeJPush
from fakes.server import run_asgi_app, unused_base_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.notifications.channels import ChannelUnavailable, PushPlatform
from app.domain.notifications.model import Kind, Notification, link_to
from app.domain.shared.ids import new_id
from app.infra.db.channels_repo import SqlChannelsRepository
from app.infra.db.tables.identity import accounts
from app.infra.push.jpush import JPushChannel

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
def jpush_server() -> Iterator[tuple[FakeJPush, str]]:
    fake = FakeJPush()
    with run_asgi_app(fake.app) as base_url:
        yield fake, base_url


@pytest.fixture
def fake(jpush_server: tuple[FakeJPush, str]) -> FakeJPush:
    jpush_server[0].pushes.clear()
    jpush_server[0].script.clear()
    return jpush_server[0]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


def make_channel(
    http: httpx.AsyncClient, sessions: Sessions, base_url: str, secret: str = TEST_MASTER_SECRET
) -> JPushChannel:
    return JPushChannel(
        http, sessions, app_key=TEST_APP_KEY, master_secret=secret, base_url=base_url
    )


@pytest.fixture
def channel(
    http: httpx.AsyncClient, session_factory: Sessions, jpush_server: tuple[FakeJPush, str]
) -> JPushChannel:
    return make_channel(http, session_factory, jpush_server[1])


async def account_with_devices(sessions: Sessions, devices: int) -> tuple[uuid.UUID, list[str]]:
    account = new_id()
    ids = [f"1a0018970a{uuid.uuid4().hex[:12]}" for _ in range(devices)]
    async with sessions() as s, s.begin():
        await s.execute(sa.insert(accounts).values(id=account, kind="resident"))
        for i, rid in enumerate(ids):
            platform = PushPlatform.ANDROID if i % 2 == 0 else PushPlatform.IOS
            await SqlChannelsRepository(s).upsert_device(account, platform, rid)
    return account, ids


def tip_update(account: uuid.UUID) -> Notification:
    return Notification(
        new_id(), account, Kind.TIP_UPDATE, link_to("tips", new_id()), datetime.now(UTC)
    )


async def test_push_reaches_registered_devices_with_generic_text(
    channel: JPushChannel, fake: FakeJPush, session_factory: Sessions
) -> None:
    account, ids = await account_with_devices(session_factory, 2)
    n = tip_update(account)

    result = await channel.send(n, "k-" + uuid.uuid4().hex)

    assert result.sent is True
    (push,) = fake.pushes
    assert sorted(push["audience"]["registration_id"]) == sorted(ids)
    assert push["notification"]["alert"] == "请打开守望查看详情。"
    assert push["notification"]["android"]["title"] == "您的举报有新进展"
    assert push["notification"]["android"]["extras"] == {"link": n.link}
    assert push["notification"]["ios"]["extras"] == {"link": n.link}


async def test_no_device_means_no_call(
    channel: JPushChannel, fake: FakeJPush, session_factory: Sessions
) -> None:
    account, _ = await account_with_devices(session_factory, 0)

    result = await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)

    assert (result.sent, result.detail) == (False, "no device")
    assert fake.pushes == []


async def test_redelivery_with_the_same_key_pushes_once(
    channel: JPushChannel, fake: FakeJPush, session_factory: Sessions
) -> None:
    account, _ = await account_with_devices(session_factory, 1)
    n, key = tip_update(account), "k-" + uuid.uuid4().hex

    assert (await channel.send(n, key)).sent is True
    again = await channel.send(n, key)

    assert (again.sent, again.detail) == (True, "already handled")
    assert len(fake.pushes) == 1


async def test_no_target_is_skipped_and_bad_auth_fails_without_retry(
    http: httpx.AsyncClient,
    channel: JPushChannel,
    fake: FakeJPush,
    session_factory: Sessions,
    jpush_server: tuple[FakeJPush, str],
) -> None:
    account, _ = await account_with_devices(session_factory, 1)
    fake.script.append((400, 1011))
    skipped = await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)
    wrong = make_channel(http, session_factory, jpush_server[1], secret="not-the-secret")
    failed = await wrong.send(tip_update(account), key := "k-" + uuid.uuid4().hex)
    again = await wrong.send(tip_update(account), key)

    assert (skipped.sent, skipped.detail) == (False, "no reachable device")
    assert (failed.sent, failed.detail) == (False, "code 1004")
    assert again.detail == "already handled"
    assert fake.pushes == []


async def test_server_errors_and_rate_limits_are_retried(
    channel: JPushChannel, fake: FakeJPush, session_factory: Sessions
) -> None:
    account, _ = await account_with_devices(session_factory, 1)
    n, key = tip_update(account), "k-" + uuid.uuid4().hex
    fake.script += [(503, 1030), (429, 2002)]

    for _ in range(2):
        with pytest.raises(ChannelUnavailable):
            await channel.send(n, key)
    assert (await channel.send(n, key)).sent is True
    assert len(fake.pushes) == 1


async def test_unreachable_jpush_is_retryable(
    http: httpx.AsyncClient, session_factory: Sessions
) -> None:
    account, _ = await account_with_devices(session_factory, 1)
    channel = make_channel(http, session_factory, unused_base_url())

    with pytest.raises(ChannelUnavailable):
        await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)


async def test_registration_ids_and_secret_stay_out_of_the_logs(
    channel: JPushChannel,
    fake: FakeJPush,
    session_factory: Sessions,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account, ids = await account_with_devices(session_factory, 2)
    caplog.set_level(logging.DEBUG)
    fake.script.append((400, 1003))
    await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)
    await channel.send(tip_update(account), "k-" + uuid.uuid4().hex)

    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("app."))
    assert "code 1003" in logged
    for secret in [*ids, TEST_MASTER_SECRET]:
        assert secret not in logged
    assert TEST_MASTER_SECRET not in repr(channel)
