"""Officer password sign-in: Argon2id, generic failures, DB-backed failure limits, rehash."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher as Argon2Hasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import DEFAULT_PASSWORD, client_from, create_officer, random_ip
from support.org import OrgTree, make_org_tree

from app.bootstrap.identity import officer_service
from app.domain.identity.officers import NewOfficer
from app.domain.shared.scope import system_scope
from app.infra.auth.passwords import Argon2PasswordHasher
from app.main import platform_of

LOGIN = "/api/v1/auth/login"


@pytest.fixture(scope="module")
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


@pytest.fixture
async def c(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(client) as own:
        yield own


async def _hash_of(sf: async_sessionmaker[AsyncSession], username: str) -> str:
    async with sf() as s:
        return str(
            await s.scalar(
                sa.text("SELECT password_hash FROM officer_credentials WHERE username = :u"),
                {"u": username},
            )
        )


async def test_login_with_password(
    c: httpx.AsyncClient,
    app: Any,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    username, password = await create_officer(app, unit_code=tree.station_code)
    assert (await _hash_of(session_factory, username)).startswith("$argon2id$")
    r = await c.post(LOGIN, json={"username": username.upper(), "password": password})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer"
    async with session_factory() as s:
        rows = (
            await s.execute(
                sa.text(
                    "SELECT actor_role, detail FROM audit_log WHERE action = 'auth.signed_in'"
                    " AND record_id = (SELECT account_id FROM officer_credentials"
                    " WHERE username = :u)"
                ),
                {"u": username},
            )
        ).all()
    assert [(r.actor_role, r.detail["method"]) for r in rows] == [("officer", "password")]
    assert username not in str(rows)


async def test_wrong_password_and_unknown_user_look_alike(
    c: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    username, _ = await create_officer(app, unit_code=tree.station_code)
    wrong = await c.post(LOGIN, json={"username": username, "password": "Wrong-password-1"})
    unknown = await c.post(
        LOGIN, json={"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "Wrong-password-1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    strip = ("request_id",)
    assert {k: v for k, v in wrong.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }
    assert wrong.json()["code"] == "auth.invalid_credentials"


async def test_five_failures_per_username_lock_it_for_fifteen_minutes(
    client: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    username, password = await create_officer(app, unit_code=tree.station_code)
    for _ in range(5):  # from different addresses: the per-username limit still counts
        async with client_from(client) as c:
            r = await c.post(LOGIN, json={"username": username, "password": "Wrong-password-1"})
            assert r.status_code == 401
    async with client_from(client) as c:
        locked = await c.post(LOGIN, json={"username": username, "password": password})
    assert locked.status_code == 429
    assert locked.json()["code"] == "auth.login_rate_limited"
    assert 1 <= int(locked.headers["retry-after"]) <= 900
    assert locked.headers["ratelimit-policy"] == '"default";q=5;w=900'


async def test_success_resets_the_username_counter(
    c: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    username, password = await create_officer(app, unit_code=tree.station_code)
    for _ in range(4):
        await c.post(LOGIN, json={"username": username, "password": "Wrong-password-1"})
    assert (
        await c.post(LOGIN, json={"username": username, "password": password})
    ).status_code == 200
    for _ in range(4):
        await c.post(LOGIN, json={"username": username, "password": "Wrong-password-1"})
    assert (
        await c.post(LOGIN, json={"username": username, "password": password})
    ).status_code == 200


async def test_twenty_failures_per_ip(client: httpx.AsyncClient, app: Any, tree: OrgTree) -> None:
    username, password = await create_officer(app, unit_code=tree.station_code)
    ip = random_ip()
    async with client_from(client, ip) as c:
        for i in range(20):
            r = await c.post(LOGIN, json={"username": f"guess-{i}", "password": "Wrong-password-1"})
            assert r.status_code == 401
        blocked = await c.post(LOGIN, json={"username": username, "password": password})
    assert blocked.status_code == 429
    assert blocked.headers["ratelimit-policy"] == '"default";q=20;w=900'
    async with client_from(client) as elsewhere:
        ok = await elsewhere.post(LOGIN, json={"username": username, "password": password})
    assert ok.status_code == 200


async def test_hash_is_upgraded_when_parameters_change(
    c: httpx.AsyncClient,
    app: Any,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    cheap = Argon2PasswordHasher(Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    service = officer_service(platform_of(app), cheap)
    username = f"old-{uuid.uuid4().hex[:8]}"
    await service.create_officer(
        system_scope(), NewOfficer(username, DEFAULT_PASSWORD, tree.station_code, "officer")
    )
    before = await _hash_of(session_factory, username)
    assert "m=8192,t=1,p=1" in before

    r = await c.post(LOGIN, json={"username": username, "password": DEFAULT_PASSWORD})
    assert r.status_code == 200
    after = await _hash_of(session_factory, username)
    assert after != before
    assert after.startswith("$argon2id$")
    assert not Argon2PasswordHasher().needs_rehash(after)
    assert (
        await c.post(LOGIN, json={"username": username, "password": DEFAULT_PASSWORD})
    ).status_code == 200
