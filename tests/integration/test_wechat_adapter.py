"""WeChat mini-program login (auth.code2Session) against a loopback fake of api.weixin.qq.com."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fakes.server import run_asgi_app, unused_base_url
from fakes.wechat import TEST_APPID, TEST_SECRET, FakeWeChat

from app.domain.identity.gateways import (
    WeChatCodeInvalid,
    WeChatIdentity,
    WeChatRateLimited,
    WeChatUnavailable,
    WeChatUserBlocked,
)
from app.domain.shared.errors import DomainError
from app.infra.wechat.miniprogram import WeChatMiniProgramAuth


@pytest.fixture(scope="module")
def wechat_fake() -> Iterator[tuple[FakeWeChat, str]]:
    fake = FakeWeChat(slow_seconds=1.0)
    with run_asgi_app(fake.app) as base_url:
        yield fake, base_url


@pytest.fixture
def fake(wechat_fake: tuple[FakeWeChat, str]) -> FakeWeChat:
    wechat_fake[0].received_codes.clear()
    return wechat_fake[0]


@pytest.fixture
def base_url(wechat_fake: tuple[FakeWeChat, str]) -> str:
    return wechat_fake[1]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
def auth(http: httpx.AsyncClient, base_url: str) -> WeChatMiniProgramAuth:
    return WeChatMiniProgramAuth(http, appid=TEST_APPID, secret=TEST_SECRET, base_url=base_url)


def _app_log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    # httpx itself logs request URLs (query included) at INFO; only our lines are checked.
    return [r.getMessage() for r in caplog.records if r.name.startswith("app.")]


async def test_exchange_returns_identity_without_session_key(
    auth: WeChatMiniProgramAuth, fake: FakeWeChat
) -> None:
    code = fake.issue_code("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", unionid="o6_bmasdasdsad6_2sgVt7hMZOPfL")

    identity = await auth.exchange_code(code)

    assert identity == WeChatIdentity(
        openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", unionid="o6_bmasdasdsad6_2sgVt7hMZOPfL"
    )
    assert [f.name for f in dataclasses.fields(identity)] == ["openid", "unionid"]
    assert not hasattr(identity, "session_key")
    assert fake.received_codes == [code]


async def test_exchange_without_unionid(auth: WeChatMiniProgramAuth, fake: FakeWeChat) -> None:
    fake.register_code("0a3Xk1000abcdefg", "oOpenIdWithoutUnion")

    identity = await auth.exchange_code("0a3Xk1000abcdefg")

    assert identity == WeChatIdentity(openid="oOpenIdWithoutUnion", unionid=None)


async def test_code_is_single_use(auth: WeChatMiniProgramAuth, fake: FakeWeChat) -> None:
    code = fake.issue_code("oSingleUse")
    await auth.exchange_code(code)

    with pytest.raises(WeChatCodeInvalid):  # errcode 40163 "code been used"
        await auth.exchange_code(code)


@pytest.mark.parametrize(
    ("code", "error", "machine_code"),
    [
        ("bad", WeChatCodeInvalid, "wechat.code_invalid"),  # 40029
        ("ratelimited", WeChatRateLimited, "wechat.rate_limited"),  # 45011
        ("risky", WeChatUserBlocked, "wechat.user_blocked"),  # 40226
        ("busy", WeChatUnavailable, "wechat.unavailable"),  # -1
        ("broken", WeChatUnavailable, "wechat.unavailable"),  # HTTP 502, HTML
        ("garbage", WeChatUnavailable, "wechat.unavailable"),  # HTTP 200, not JSON
    ],
)
async def test_errcode_mapping(
    auth: WeChatMiniProgramAuth,
    fake: FakeWeChat,
    caplog: pytest.LogCaptureFixture,
    code: str,
    error: type[DomainError],
    machine_code: str,
) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(error) as raised:
        await auth.exchange_code(code)

    assert raised.value.code == machine_code
    assert raised.value.message_en
    assert raised.value.message_zh
    assert fake.received_codes == [code]
    for line in _app_log_lines(caplog):
        assert TEST_SECRET not in line
        assert code not in line


async def test_rate_limited_asks_to_retry_after_a_minute(auth: WeChatMiniProgramAuth) -> None:
    with pytest.raises(WeChatRateLimited) as raised:
        await auth.exchange_code("ratelimited")

    assert raised.value.retry_after_seconds == 60


async def test_unknown_errcode_is_unavailable_and_logged(
    http: httpx.AsyncClient, base_url: str, fake: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_secret = "a-wrong-secret-that-must-not-be-logged"
    auth = WeChatMiniProgramAuth(http, appid=TEST_APPID, secret=wrong_secret, base_url=base_url)
    code = fake.issue_code("oWrongSecret")

    with caplog.at_level(logging.DEBUG), pytest.raises(WeChatUnavailable):
        await auth.exchange_code(code)

    lines = _app_log_lines(caplog)
    assert any("40125" in line for line in lines)  # invalid appsecret
    assert all(wrong_secret not in line and code not in line for line in lines)
    assert wrong_secret not in repr(auth)


@pytest.mark.parametrize("code", ["", "x" * 129])
async def test_empty_or_oversized_code_is_rejected_locally(
    auth: WeChatMiniProgramAuth, fake: FakeWeChat, code: str
) -> None:
    with pytest.raises(WeChatCodeInvalid):
        await auth.exchange_code(code)

    assert fake.received_codes == []


async def test_timeout_is_unavailable(base_url: str, fake: FakeWeChat) -> None:
    async with httpx.AsyncClient(timeout=0.2) as impatient:
        auth = WeChatMiniProgramAuth(
            impatient, appid=TEST_APPID, secret=TEST_SECRET, base_url=base_url
        )
        with pytest.raises(WeChatUnavailable):
            await auth.exchange_code("slow")


async def test_unreachable_is_unavailable(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    auth = WeChatMiniProgramAuth(
        http, appid=TEST_APPID, secret=TEST_SECRET, base_url=unused_base_url()
    )

    with caplog.at_level(logging.DEBUG), pytest.raises(WeChatUnavailable):
        await auth.exchange_code("0a3Xk1000unreachable")

    lines = _app_log_lines(caplog)
    assert any("ConnectError" in line for line in lines)
    assert all(TEST_SECRET not in line for line in lines)
