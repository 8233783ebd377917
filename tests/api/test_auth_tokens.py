"""Refresh rotation, reuse detection, logout and access-token checks through the API."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from support.auth import auth, client_from, create_officer
from support.org import OrgTree, make_org_tree

from app.settings import Settings

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
PROTECTED = "/api/v1/officers"


@pytest.fixture(scope="module")
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


@pytest.fixture
async def c(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(client) as own:
        yield own


async def _pair(c: httpx.AsyncClient, app: Any, tree: OrgTree) -> dict[str, Any]:
    username, password = await create_officer(
        app, unit_code=tree.station_code, role="station_admin"
    )
    r = await c.post(LOGIN, json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _works(c: httpx.AsyncClient, access: str) -> bool:
    r = await c.get(PROTECTED, headers=auth(access))
    if r.status_code == 401:
        assert r.headers["www-authenticate"] == "Bearer"
        return False
    assert r.status_code == 200, r.text
    return True


async def test_refresh_rotates(c: httpx.AsyncClient, app: Any, tree: OrgTree) -> None:
    first = await _pair(c, app, tree)
    r = await c.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["token_type"] == "Bearer"
    assert r.headers["cache-control"] == "no-store"
    assert (
        jwt.decode(second["access_token"], options={"verify_signature": False})["sid"]
        == (jwt.decode(first["access_token"], options={"verify_signature": False})["sid"])
    )
    assert await _works(c, second["access_token"])
    third = await c.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200


async def test_reuse_of_a_rotated_token_revokes_the_whole_family(
    c: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    first = await _pair(c, app, tree)
    second = (await c.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    assert await _works(c, second["access_token"])

    reused = await c.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["code"] == "auth.refresh_invalid"
    # The token obtained by the rotation dies with the family, and so do access tokens.
    after = await c.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    assert not await _works(c, second["access_token"])
    assert not await _works(c, first["access_token"])


async def test_other_sessions_survive_a_reuse(
    c: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    username, password = await create_officer(
        app, unit_code=tree.station_code, role="station_admin"
    )
    one = (await c.post(LOGIN, json={"username": username, "password": password})).json()
    two = (await c.post(LOGIN, json={"username": username, "password": password})).json()
    await c.post(REFRESH, json={"refresh_token": one["refresh_token"]})
    await c.post(REFRESH, json={"refresh_token": one["refresh_token"]})
    assert await _works(c, two["access_token"])


async def test_simultaneous_refreshes_do_not_both_succeed(
    client: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    async with client_from(client) as a, client_from(client) as b:
        pair = await _pair(a, app, tree)
        body = {"refresh_token": pair["refresh_token"]}
        answers = await asyncio.gather(a.post(REFRESH, json=body), b.post(REFRESH, json=body))
    assert sorted(r.status_code for r in answers) == [200, 401]


async def test_logout_ends_the_session_and_is_idempotent(
    c: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    pair = await _pair(c, app, tree)
    body = {"refresh_token": pair["refresh_token"]}
    first = await c.post(LOGOUT, json=body)
    assert first.status_code == 204
    assert first.content == b""
    assert (await c.post(LOGOUT, json=body)).status_code == 204
    assert (await c.post(LOGOUT, json={"refresh_token": "never-issued"})).status_code == 204
    assert (await c.post(REFRESH, json=body)).status_code == 401
    assert not await _works(c, pair["access_token"])


async def test_unknown_refresh_token_is_401(c: httpx.AsyncClient) -> None:
    r = await c.post(REFRESH, json={"refresh_token": "x" * 43})
    assert r.status_code == 401
    assert r.json()["code"] == "auth.refresh_invalid"
    assert (await c.post(REFRESH, json={})).status_code == 422


# --- access tokens -----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _forge(claims: dict[str, Any], settings: Settings, **header: str) -> str:
    return jwt.encode(
        claims, settings.jwt_secret.get_secret_value(), algorithm="HS256", headers=header or None
    )


async def test_tampered_tokens_are_rejected(
    c: httpx.AsyncClient, app: Any, tree: OrgTree, settings: Settings
) -> None:
    pair = await _pair(c, app, tree)
    good = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert await _works(c, pair["access_token"])

    none_alg = ".".join(
        [
            _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()),
            _b64(json.dumps(good).encode()),
            "",
        ]
    )
    header, payload, signature = pair["access_token"].split(".")
    rs256_header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    now = int(datetime.now(UTC).timestamp())
    forged = [
        none_alg,
        f"{rs256_header}.{payload}.{signature}",
        _forge({**good, "aud": "another-api"}, settings),
        _forge({**good, "iss": "someone"}, settings),
        _forge({**good, "iat": now - 1200, "exp": now - 600}, settings),
        _forge({k: v for k, v in good.items() if k != "sid"}, settings),
        jwt.encode(good, "a-different-secret-of-sufficient-length!", algorithm="HS256"),
        # a different first character always changes the decoded signature (the last
        # ones carry padding bits, and the original may end in "AA" itself)
        f"{header}.{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}",
        "not-a-jwt",
    ]
    for token in forged:
        r = await c.get(PROTECTED, headers=auth(token))
        assert r.status_code == 401, token
        assert r.json()["code"] == "auth.token_invalid"


async def test_token_of_a_session_of_another_account_is_rejected(
    c: httpx.AsyncClient, app: Any, tree: OrgTree, settings: Settings
) -> None:
    one = jwt.decode(
        (await _pair(c, app, tree))["access_token"], options={"verify_signature": False}
    )
    two = jwt.decode(
        (await _pair(c, app, tree))["access_token"], options={"verify_signature": False}
    )
    mixed = _forge({**one, "sid": two["sid"]}, settings)
    assert not await _works(c, mixed)
    # Authorisation comes from the database, so a properly signed copy still works.
    assert await _works(c, _forge({**one, "exp": one["exp"]}, settings))


async def test_missing_or_non_bearer_authorization_is_401(c: httpx.AsyncClient) -> None:
    assert (await c.get(PROTECTED)).status_code == 401
    basic = await c.get(PROTECTED, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


async def test_access_tokens_live_at_most_fifteen_minutes(
    c: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    claims = jwt.decode(
        (await _pair(c, app, tree))["access_token"], options={"verify_signature": False}
    )
    assert timedelta(seconds=claims["exp"] - claims["iat"]) <= timedelta(minutes=15)
    assert {"iss", "aud", "sub", "exp", "iat", "jti", "sid"} <= set(claims)
