"""Cached principals through the app: signing out, a reused refresh token and disabling take
effect on the very next request of this process (the services evict after their commit,
without waiting for the NOTIFY), and a role removed by any other connection stops working
as soon as its notification arrives."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, client_from, create_officer, officer_token
from support.org import OrgTree, make_org_tree

from app.infra.db.principal_cache import CHANNEL, CachingPrincipalReader

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
OFFICERS = "/api/v1/officers"
ME = "/api/v1/me"
WAIT_S = 3.0


@pytest.fixture(scope="module")
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


@pytest.fixture
async def c(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(client) as own:
        yield own


@pytest.fixture
async def cache(app: Any) -> CachingPrincipalReader:
    found: CachingPrincipalReader = app.state.services.get(CachingPrincipalReader)
    assert await found.wait_listening(WAIT_S)
    return found


@contextlib.asynccontextmanager
async def deaf(cache: CachingPrincipalReader) -> AsyncIterator[None]:
    """The listener stays connected but hears nothing, as when a notification is still on
    its way: what is evicted meanwhile is evicted by the services themselves."""
    conn = cache._conn
    await conn.execute(f"UNLISTEN {CHANNEL}")
    try:
        yield
    finally:
        await conn.execute(f"LISTEN {CHANNEL}")
        cache.clear()  # changes other tests made while we did not listen


async def _pair(
    c: httpx.AsyncClient, app: Any, tree: OrgTree, role: str = "station_admin"
) -> dict[str, Any]:
    username, password = await create_officer(app, unit_code=tree.station_code, role=role)
    r = await c.post(LOGIN, json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _status(c: httpx.AsyncClient, access: str, path: str = ME) -> int:
    return (await c.get(path, headers=auth(access))).status_code


async def _cached(c: httpx.AsyncClient, cache: CachingPrincipalReader, access: str) -> None:
    """Use the token until the cache holds its principal (a notification arriving during a
    load keeps that load from being stored)."""
    claims = _claims(access)
    account, session = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
    for _ in range(50):
        assert await _status(c, access) == 200
        if cache.holds(account, session):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the principal was never cached")


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


async def test_the_request_after_a_sign_out_is_refused(
    c: httpx.AsyncClient, app: Any, tree: OrgTree, cache: CachingPrincipalReader
) -> None:
    pair = await _pair(c, app, tree)
    async with deaf(cache):
        await _cached(c, cache, pair["access_token"])
        assert (
            await c.post(LOGOUT, json={"refresh_token": pair["refresh_token"]})
        ).status_code == 204
        assert await _status(c, pair["access_token"]) == 401


async def test_the_request_after_a_refresh_token_reuse_is_refused(
    c: httpx.AsyncClient, app: Any, tree: OrgTree, cache: CachingPrincipalReader
) -> None:
    first = await _pair(c, app, tree)
    second = (await c.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    async with deaf(cache):
        await _cached(c, cache, second["access_token"])
        reused = await c.post(REFRESH, json={"refresh_token": first["refresh_token"]})
        assert reused.status_code == 401
        assert await _status(c, second["access_token"]) == 401


async def test_the_request_after_disabling_is_refused(
    c: httpx.AsyncClient, app: Any, tree: OrgTree, cache: CachingPrincipalReader
) -> None:
    admin = await officer_token(c, app, unit_code=tree.station_code, role="station_admin")
    pair = await _pair(c, app, tree, role="officer")
    me = await c.post(
        "/graphql", json={"query": "{ myAccount { uuid } }"}, headers=auth(pair["access_token"])
    )
    target = me.json()["data"]["myAccount"]["uuid"]
    async with deaf(cache):
        await _cached(c, cache, pair["access_token"])
        r = await c.post(f"{OFFICERS}/{target}/disable", headers=auth(admin))
        assert r.status_code == 200, r.text
        assert await _status(c, pair["access_token"]) == 401


async def test_a_deaf_listener_would_serve_a_change_made_elsewhere(
    c: httpx.AsyncClient,
    app: Any,
    tree: OrgTree,
    cache: CachingPrincipalReader,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """The control of the tests above: the cache really answers while deaf, so they pass
    only through the services' own eviction."""
    pair = await _pair(c, app, tree)
    sid = _claims(pair["access_token"])["sid"]
    async with deaf(cache):
        await _cached(c, cache, pair["access_token"])
        async with session_factory() as s, s.begin():
            await s.execute(
                sa.text(
                    "UPDATE auth_sessions SET revoked_at = now(), revoke_reason = 'logout' "
                    "WHERE id = :s"
                ),
                {"s": sid},
            )
        assert await _status(c, pair["access_token"]) == 200
    assert await _status(c, pair["access_token"]) == 401


async def test_a_role_removed_by_another_connection_stops_working(
    c: httpx.AsyncClient,
    app: Any,
    tree: OrgTree,
    cache: CachingPrincipalReader,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    pair = await _pair(c, app, tree)
    access = pair["access_token"]
    await _cached(c, cache, access)
    assert await _status(c, access, OFFICERS) == 200
    account = _claims(access)["sub"]
    async with session_factory() as s, s.begin():
        await s.execute(
            sa.text("DELETE FROM account_roles WHERE account_id = :a AND role = 'station_admin'"),
            {"a": account},
        )
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while (status := await _status(c, access, OFFICERS)) == 200:
        assert asyncio.get_running_loop().time() < deadline, "still allowed after the NOTIFY"
        await asyncio.sleep(0.02)
    assert status == 403


async def test_a_volunteer_role_change_drops_the_cached_principal_at_once(
    c: httpx.AsyncClient,
    app: Any,
    settings: Any,
    tree: OrgTree,
    cache: CachingPrincipalReader,
) -> None:
    """Activating or suspending a volunteer grants or takes the account's "volunteer" role
    (volunteers context): the principal cached for that account goes when the change
    commits, without waiting for the NOTIFY."""
    from support.auth import resident_token
    from support.volunteers import activate, application, status

    officer = await officer_token(c, app, unit_code=tree.station_code)
    resident, phone = await resident_token(c, settings)
    claims = _claims(resident)
    account, session = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
    applied = await c.post(
        "/api/v1/volunteer-applications",
        json=application(tree, name="王芳", phone=phone),
        headers={**auth(resident), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert applied.status_code == 201, applied.text
    vid = applied.json()["id"]
    async with deaf(cache):
        await _cached(c, cache, resident)
        await activate(c, officer, vid)  # grants the volunteer role
        assert not cache.holds(account, session)
        await _cached(c, cache, resident)
        r = await status(c, officer, vid, "suspended", reason="待核实投诉")
        assert r.status_code == 200, r.text
        assert not cache.holds(account, session)  # the role is gone: so is the principal
