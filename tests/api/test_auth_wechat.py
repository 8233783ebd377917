"""WeChat mini-program sign-in: the production adapter against the fake WeChat server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
from fakes.server import run_asgi_app
from fakes.wechat import TEST_APPID, TEST_SECRET, FakeWeChat
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import asgi_app_of, auth, random_ip

from app.main import create_app, platform_of
from app.settings import Settings

WECHAT = "/api/v1/auth/wechat"


@pytest.fixture(scope="module")
def fake_wechat() -> Iterator[tuple[FakeWeChat, str]]:
    fake = FakeWeChat()
    with run_asgi_app(fake.app) as base_url:
        yield fake, base_url


@pytest.fixture(scope="module")
async def wechat_app(settings: Settings, fake_wechat: tuple[FakeWeChat, str]) -> AsyncIterator[Any]:
    configured = settings.model_copy(
        update={
            "wechat_adapter": "miniprogram",
            "wechat_base_url": fake_wechat[1],
            "wechat_appid": TEST_APPID,
            "wechat_secret": settings.wechat_secret.__class__(TEST_SECRET),
        }
    )
    application = create_app(configured)
    yield application
    await platform_of(application).aclose()


@pytest.fixture
async def c(wechat_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=wechat_app, client=(random_ip(), 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def fake(fake_wechat: tuple[FakeWeChat, str]) -> FakeWeChat:
    return fake_wechat[0]


def _sub(pair: dict[str, Any]) -> str:
    return str(jwt.decode(pair["access_token"], options={"verify_signature": False})["sub"])


async def test_first_login_creates_a_resident_and_later_logins_find_it(
    c: httpx.AsyncClient,
    fake: FakeWeChat,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    openid = f"oOpen{uuid.uuid4().hex[:20]}"
    first = await c.post(WECHAT, json={"code": fake.issue_code(openid, unionid="oUnion-1")})
    assert first.status_code == 200, first.text
    assert set(first.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}
    second = await c.post(WECHAT, json={"code": fake.issue_code(openid)})
    assert second.status_code == 200
    assert _sub(first.json()) == _sub(second.json())

    me = await c.post(
        "/graphql",
        json={"query": "{ myAccount { kind wechatBound maskedPhone } }"},
        headers=auth(second.json()["access_token"]),
    )
    assert me.json()["data"]["myAccount"] == {
        "kind": "RESIDENT",
        "wechatBound": True,
        "maskedPhone": None,
    }
    async with session_factory() as s:
        rows = (
            (
                await s.execute(
                    sa.text("SELECT * FROM wechat_identities WHERE openid = :o"), {"o": openid}
                )
            )
            .mappings()
            .all()
        )
    assert len(rows) == 1
    assert rows[0]["appid"] == TEST_APPID
    assert rows[0]["unionid"] == "oUnion-1"
    assert not [k for k in rows[0] if "session" in k]


async def test_a_used_code_is_refused(c: httpx.AsyncClient, fake: FakeWeChat) -> None:
    code = fake.issue_code(f"oOpen{uuid.uuid4().hex[:20]}")
    assert (await c.post(WECHAT, json={"code": code})).status_code == 200
    again = await c.post(WECHAT, json={"code": code})
    assert again.status_code == 422
    assert again.json()["code"] == "wechat.code_invalid"


@pytest.mark.parametrize(
    ("code", "status", "problem"),
    [
        ("bad", 422, "wechat.code_invalid"),
        ("ratelimited", 429, "wechat.rate_limited"),
        ("risky", 403, "wechat.user_blocked"),
        ("busy", 503, "wechat.unavailable"),
        ("broken", 503, "wechat.unavailable"),
    ],
)
async def test_wechat_errors_are_mapped(
    c: httpx.AsyncClient, code: str, status: int, problem: str
) -> None:
    r = await c.post(WECHAT, json={"code": code})
    assert r.status_code == status, r.text
    assert r.json()["code"] == problem
    if status == 429:
        assert r.headers["retry-after"] == "60"


async def test_graphql_wechat_login_returns_typed_errors(
    c: httpx.AsyncClient, fake: FakeWeChat
) -> None:
    query = (
        "mutation($code: String!) { loginWithWechat(code: $code) { __typename"
        " ... on TokenPair { tokenType } ... on Problem { code } } }"
    )

    async def login(code: str) -> dict[str, Any]:
        r = await c.post("/graphql", json={"query": query, "variables": {"code": code}})
        return r.json()["data"]["loginWithWechat"]  # type: ignore[no-any-return]

    assert await login(fake.issue_code(f"oOpen{uuid.uuid4().hex[:20]}")) == {
        "__typename": "TokenPair",
        "tokenType": "Bearer",
    }
    assert await login("bad") == {"__typename": "InvalidInput", "code": "wechat.code_invalid"}
    assert await login("risky") == {"__typename": "NotAllowed", "code": "wechat.user_blocked"}
    assert await login("ratelimited") == {
        "__typename": "RateLimited",
        "code": "wechat.rate_limited",
    }
    assert await login("busy") == {"__typename": "ServiceUnavailable", "code": "wechat.unavailable"}


async def test_dev_adapter_is_stable_per_code(client: httpx.AsyncClient) -> None:
    # The default test settings use the development adapter.
    code = f"dev-{uuid.uuid4().hex}"
    transport = httpx.ASGITransport(app=asgi_app_of(client), client=(random_ip(), 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        one = await c.post(WECHAT, json={"code": code})
        two = await c.post(WECHAT, json={"code": code})
    assert one.status_code == two.status_code == 200
    assert _sub(one.json()) == _sub(two.json())
