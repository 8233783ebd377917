"""SMS one-time-code sign-in through the REST API (dev SMS outbox, real PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fakes.server import unused_base_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, client_from, last_code_for, random_ip, random_phone

from app.domain.shared.clock import FixedClock
from app.main import create_app, platform_of
from app.settings import Settings

OTP = "/api/v1/auth/otp"
VERIFY = "/api/v1/auth/otp/verify"
ME = "{ myAccount { uuid kind maskedPhone wechatBound roles { role } } }"


def _code(settings: Settings, phone: str) -> str:
    return last_code_for(Path(settings.sms_dev_outbox), phone)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _stable(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    """What a client can observe, minus per-request noise."""
    body = response.json()
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("request_id",)}
    headers = {
        k: v
        for k, v in response.headers.items()
        if k not in ("x-request-id", "date", "content-length")
    }
    return response.status_code, body, headers


@pytest.fixture
async def ip_client(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(client) as own:
        yield own


class Clocked:
    def __init__(self, app: Any, clock: FixedClock) -> None:
        self.app = app
        self.clock = clock

    def client(self, ip: str | None = None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(ip or random_ip(), 4321))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def clocked(settings: Settings) -> AsyncIterator[Clocked]:
    clock = FixedClock(datetime.now(UTC))
    application = create_app(settings, clock=clock)
    yield Clocked(application, clock)
    await platform_of(application).aclose()


async def test_happy_path_creates_a_resident(
    ip_client: httpx.AsyncClient, settings: Settings
) -> None:
    phone = random_phone()
    sent = await ip_client.post(OTP, json={"phone": f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"})
    assert sent.status_code == 202, sent.text
    assert sent.json() == {"expires_in": 300, "resend_after": 60}

    verified = await ip_client.post(VERIFY, json={"phone": phone, "code": _code(settings, phone)})
    assert verified.status_code == 200, verified.text
    pair = verified.json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == settings.access_token_ttl_seconds
    assert verified.headers["cache-control"] == "no-store"

    me = await ip_client.post("/graphql", json={"query": ME}, headers=auth(pair["access_token"]))
    account = me.json()["data"]["myAccount"]
    assert account["kind"] == "RESIDENT"
    assert account["maskedPhone"] == f"{phone[:3]}****{phone[-4:]}"
    assert account["roles"] == [{"role": "resident"}]
    assert account["wechatBound"] is False


async def test_phone_is_stored_sealed_and_code_only_as_digest(
    ip_client: httpx.AsyncClient,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    phone = random_phone()
    await ip_client.post(OTP, json={"phone": phone})
    code = _code(settings, phone)
    assert (await ip_client.post(VERIFY, json={"phone": phone, "code": code})).status_code == 200
    async with session_factory() as s:
        dumps = []
        for table in ("account_phones", "otp_challenges", "otp_sends", "audit_log"):
            rows = (await s.execute(sa.text(f"SELECT * FROM {table}"))).all()
            dumps.append(repr(rows))
        key_ids = (
            await s.execute(sa.text("SELECT DISTINCT phone_key_id FROM account_phones"))
        ).all()
    text = "\n".join(dumps)
    assert phone not in text
    assert phone.encode() not in text.encode()
    assert [r[0] for r in key_ids] == ["dev1"]


async def test_invalid_phone_is_422_not_202(ip_client: httpx.AsyncClient) -> None:
    r = await ip_client.post(OTP, json={"phone": "12345"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "person.invalid_phone"
    assert body["errors"][0]["field"] == "phone"


async def test_answer_is_identical_for_registered_and_unregistered_phones(
    clocked: Clocked, settings: Settings
) -> None:
    registered, unregistered = random_phone(), random_phone()
    async with clocked.client() as c:
        await c.post(OTP, json={"phone": registered})
        ok = await c.post(VERIFY, json={"phone": registered, "code": _code(settings, registered)})
        assert ok.status_code == 200
    clocked.clock.advance(minutes=2)
    async with clocked.client("10.200.0.1") as a, clocked.client("10.200.0.2") as b:
        known = await a.post(OTP, json={"phone": registered})
        unknown = await b.post(OTP, json={"phone": unregistered})
    assert known.status_code == 202
    assert _stable(known) == _stable(unknown)


async def test_code_is_single_use(ip_client: httpx.AsyncClient, settings: Settings) -> None:
    phone = random_phone()
    await ip_client.post(OTP, json={"phone": phone})
    code = _code(settings, phone)
    assert (await ip_client.post(VERIFY, json={"phone": phone, "code": code})).status_code == 200
    again = await ip_client.post(VERIFY, json={"phone": phone, "code": code})
    assert again.status_code == 401
    assert again.json()["code"] == "auth.otp_invalid"


async def test_sixth_attempt_is_refused_even_with_the_right_code(
    ip_client: httpx.AsyncClient, settings: Settings
) -> None:
    phone = random_phone()
    await ip_client.post(OTP, json={"phone": phone})
    code = _code(settings, phone)
    wrong_answers = []
    for _ in range(5):
        r = await ip_client.post(VERIFY, json={"phone": phone, "code": _wrong(code)})
        wrong_answers.append(_stable(r))
    sixth = await ip_client.post(VERIFY, json={"phone": phone, "code": code})
    assert sixth.status_code == 401
    # No oracle: the dead challenge answers exactly like a wrong code.
    assert all(w == _stable(sixth) for w in wrong_answers)


async def test_code_expires_after_five_minutes(clocked: Clocked, settings: Settings) -> None:
    phone = random_phone()
    async with clocked.client() as c:
        await c.post(OTP, json={"phone": phone})
        code = _code(settings, phone)
        clocked.clock.advance(minutes=5, seconds=1)
        late = await c.post(VERIFY, json={"phone": phone, "code": code})
    assert late.status_code == 401
    assert late.json()["code"] == "auth.otp_invalid"


async def test_unknown_phone_and_malformed_code_fail_the_same_way(
    ip_client: httpx.AsyncClient,
) -> None:
    never = await ip_client.post(VERIFY, json={"phone": random_phone(), "code": "123456"})
    malformed = await ip_client.post(VERIFY, json={"phone": random_phone(), "code": "12a"})
    assert never.status_code == malformed.status_code == 401
    assert never.json()["code"] == malformed.json()["code"] == "auth.otp_invalid"


def _assert_limited(r: httpx.Response, limit: int, window: int) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "auth.otp_rate_limited"
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= window
    assert r.headers["ratelimit-policy"] == f'"default";q={limit};w={window}'
    assert r.headers["ratelimit"] == f'"default";r=0;t={retry}'


async def test_one_send_per_minute_per_phone(client: httpx.AsyncClient) -> None:
    phone = random_phone()
    async with client_from(client) as a, client_from(client) as b:
        assert (await a.post(OTP, json={"phone": phone})).status_code == 202
        _assert_limited(await b.post(OTP, json={"phone": phone}), 1, 60)


async def test_one_send_per_minute_per_ip(ip_client: httpx.AsyncClient) -> None:
    assert (await ip_client.post(OTP, json={"phone": random_phone()})).status_code == 202
    _assert_limited(await ip_client.post(OTP, json={"phone": random_phone()}), 1, 60)


async def test_hourly_and_daily_limits_per_phone(clocked: Clocked) -> None:
    phone = random_phone()
    for i in range(5):
        async with clocked.client() as c:
            assert (await c.post(OTP, json={"phone": phone})).status_code == 202, i
        clocked.clock.advance(minutes=1, seconds=1)
    async with clocked.client() as c:
        _assert_limited(await c.post(OTP, json={"phone": phone}), 5, 3600)

    clocked.clock.advance(hours=1)
    for i in range(5):
        async with clocked.client() as c:
            assert (await c.post(OTP, json={"phone": phone})).status_code == 202, i
        clocked.clock.advance(minutes=1, seconds=1)
    clocked.clock.advance(hours=1)
    async with clocked.client() as c:
        _assert_limited(await c.post(OTP, json={"phone": phone}), 10, 86400)


async def test_hourly_limit_per_ip(clocked: Clocked) -> None:
    ip = random_ip()
    for _ in range(5):
        async with clocked.client(ip) as c:
            assert (await c.post(OTP, json={"phone": random_phone()})).status_code == 202
        clocked.clock.advance(minutes=1, seconds=1)
    async with clocked.client(ip) as c:
        _assert_limited(await c.post(OTP, json={"phone": random_phone()}), 5, 3600)
    async with clocked.client() as other:
        assert (await other.post(OTP, json={"phone": random_phone()})).status_code == 202


async def test_parallel_requests_for_one_phone_send_one_code(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    phone = random_phone()
    clients = [client_from(client) for _ in range(4)]
    try:
        answers = await asyncio.gather(*(c.post(OTP, json={"phone": phone}) for c in clients))
    finally:
        for c in clients:
            await c.aclose()
    assert sorted(a.status_code for a in answers) == [202, 429, 429, 429]
    lines = Path(settings.sms_dev_outbox).read_text(encoding="utf-8").count(f'"to": "{phone}"')
    assert lines == 1


async def test_sms_failure_is_503_for_every_phone(settings: Settings) -> None:
    broken = settings.model_copy(
        update={"sms_adapter": "tencent", "tencent_sms_endpoint": unused_base_url()}
    )
    application = create_app(broken)
    try:
        answers = []
        for phone in (random_phone(), random_phone()):
            transport = httpx.ASGITransport(app=application, client=(random_ip(), 1))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                answers.append(await c.post(OTP, json={"phone": phone}))
    finally:
        await platform_of(application).aclose()
    assert [a.status_code for a in answers] == [503, 503]
    assert {a.json()["code"] for a in answers} == {"sms.delivery_failed"}
