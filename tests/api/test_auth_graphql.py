"""The GraphQL door of identity: the same services, typed error unions, scoped nodes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from strawberry.relay import to_base64
from support.auth import (
    DEFAULT_PASSWORD,
    auth,
    client_from,
    create_officer,
    last_code_for,
    random_phone,
)
from support.org import OrgTree, make_org_tree

from app.settings import Settings

PAIR = "__typename ... on TokenPair { accessToken refreshToken tokenType expiresIn }"
PROBLEM = "... on Problem { code message }"
RESULT = f"{PAIR} {PROBLEM}"
LOGIN = (
    "mutation($u: String!, $p: String!) { loginWithPassword(username: $u, password: $p) { "
    + RESULT
    + " } }"
)


@pytest.fixture(scope="module")
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


@pytest.fixture
async def c(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(client) as own:
        yield own


async def gql(
    c: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    r = await c.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={**(auth(token) if token else {}), "Accept-Language": "en"},
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _login(c: httpx.AsyncClient, username: str) -> dict[str, Any]:
    body = await gql(c, LOGIN, u=username, p=DEFAULT_PASSWORD)
    return body["data"]["loginWithPassword"]  # type: ignore[no-any-return]


async def test_otp_flow_with_typed_errors(c: httpx.AsyncClient, settings: Settings) -> None:
    request = (
        "mutation($phone: String!) { requestOtp(phone: $phone) { __typename"
        " ... on OtpRequested { expiresIn resendAfter }"
        " ... on InvalidInput { code fields { field code } }"
        " ... on RateLimited { code retryAfterSeconds } } }"
    )
    verify = (
        "mutation($phone: String!, $code: String!) { verifyOtp(phone: $phone, code: $code) { "
        + RESULT
        + " } }"
    )

    bad = (await gql(c, request, phone="12345"))["data"]["requestOtp"]
    assert bad == {
        "__typename": "InvalidInput",
        "code": "person.invalid_phone",
        "fields": [{"field": "phone", "code": "format"}],
    }
    phone = random_phone()
    sent = (await gql(c, request, phone=phone))["data"]["requestOtp"]
    assert sent == {"__typename": "OtpRequested", "expiresIn": 300, "resendAfter": 60}
    limited = (await gql(c, request, phone=phone))["data"]["requestOtp"]
    assert limited["__typename"] == "RateLimited"
    assert 1 <= limited["retryAfterSeconds"] <= 60

    code = last_code_for(Path(settings.sms_dev_outbox), phone)
    wrong = await gql(c, verify, phone=phone, code="000000" if code != "000000" else "111111")
    assert wrong["data"]["verifyOtp"]["__typename"] == "SignInFailed"
    assert wrong["data"]["verifyOtp"]["code"] == "auth.otp_invalid"
    ok = (await gql(c, verify, phone=phone, code=code))["data"]["verifyOtp"]
    assert ok["__typename"] == "TokenPair"
    assert ok["tokenType"] == "Bearer"

    refresh = f"mutation($t: String!) {{ refreshTokens(refreshToken: $t) {{ {PAIR} {PROBLEM} }} }}"
    rotated = (await gql(c, refresh, t=ok["refreshToken"]))["data"]["refreshTokens"]
    assert rotated["__typename"] == "TokenPair"
    reused = (await gql(c, refresh, t=ok["refreshToken"]))["data"]["refreshTokens"]
    assert reused["__typename"] == "SignInFailed"
    assert reused["code"] == "auth.refresh_invalid"

    me = await gql(c, "{ myAccount { kind } }", rotated["accessToken"])
    assert me["data"] is None
    assert me["errors"][0]["extensions"]["code"] == "auth.token_invalid"


async def test_password_login_and_logout(c: httpx.AsyncClient, app: Any, tree: OrgTree) -> None:
    username, _ = await create_officer(app, unit_code=tree.station_code)
    pair = await _login(c, username)
    assert pair["__typename"] == "TokenPair"
    assert pair["expiresIn"] > 0
    wrong = await gql(c, LOGIN, u=username, p="nope-nope-nope")
    assert wrong["data"]["loginWithPassword"] == {
        "__typename": "SignInFailed",
        "code": "auth.invalid_credentials",
        "message": "The username or password is wrong.",
    }
    out = await gql(
        c, "mutation($t: String!) { logout(refreshToken: $t) { ok } }", t=pair["refreshToken"]
    )
    assert out["data"]["logout"] == {"ok": True}
    me = await gql(c, "{ myAccount { kind } }", pair["accessToken"])
    assert me["errors"][0]["extensions"]["code"] == "auth.token_invalid"


async def test_create_and_disable_officer(c: httpx.AsyncClient, app: Any, tree: OrgTree) -> None:
    admin_name, _ = await create_officer(app, unit_code=tree.district_code, role="district_admin")
    admin = (await _login(c, admin_name))["accessToken"]
    create = (
        "mutation($input: CreateOfficerInput!) { createOfficer(input: $input) { __typename"
        " ... on OfficerPayload { officer { id uuid username status version"
        " roles { role unitCode } } }"
        " ... on Problem { code } ... on InvalidInput { fields { field } } } }"
    )
    username = f"gql-{uuid.uuid4().hex[:8]}"
    made = await gql(
        c,
        create,
        admin,
        input={
            "username": username,
            "password": DEFAULT_PASSWORD,
            "unitCode": tree.station_code,
            "role": "officer",
            "displayName": "刘洋",
        },
    )
    officer = made["data"]["createOfficer"]["officer"]
    assert officer["username"] == username
    assert officer["roles"] == [{"role": "officer", "unitCode": tree.station_code}]

    missing = await gql(
        c,
        create,
        admin,
        input={
            "username": "x-" + username,
            "password": DEFAULT_PASSWORD,
            "unitCode": "NOPE",
            "role": "officer",
        },
    )
    assert missing["data"]["createOfficer"] == {
        "__typename": "NotFound",
        "code": "org_unit.not_found",
    }
    weak = await gql(
        c,
        create,
        admin,
        input={
            "username": "y-" + username,
            "password": "short",
            "unitCode": tree.station_code,
            "role": "officer",
        },
    )
    assert weak["data"]["createOfficer"]["__typename"] == "InvalidInput"
    assert weak["data"]["createOfficer"]["fields"] == [{"field": "password"}]

    listed = await gql(c, "{ officers(first: 200) { edges { node { username } } } }", admin)
    assert username in {e["node"]["username"] for e in listed["data"]["officers"]["edges"]}
    node = await gql(
        c, f'{{ node(id: "{officer["id"]}") {{ ... on Officer {{ username }} }} }}', admin
    )
    assert node["data"]["node"] == {"username": username}

    disable = (
        "mutation($id: ID!, $v: Int) { disableOfficer(id: $id, expectedVersion: $v) { __typename"
        " ... on OfficerPayload { officer { status version } } ... on Problem { code } } }"
    )
    stale = await gql(c, disable, admin, id=officer["id"], v=5)
    assert stale["data"]["disableOfficer"] == {"__typename": "Conflict", "code": "stale_version"}
    done = await gql(c, disable, admin, id=officer["id"], v=1)
    assert done["data"]["disableOfficer"] == {
        "__typename": "OfficerPayload",
        "officer": {"status": "DISABLED", "version": 2},
    }
    gone = await gql(c, disable, admin, id=to_base64("Officer", str(uuid.uuid4())))
    assert gone["data"]["disableOfficer"] == {"__typename": "NotFound", "code": "officer.not_found"}


async def test_nodes_honour_scope(c: httpx.AsyncClient, app: Any, tree: OrgTree) -> None:
    other = await make_org_tree(app)
    foreign_name, _ = await create_officer(app, unit_code=other.station_code, role="station_admin")
    foreign = (await _login(c, foreign_name))["accessToken"]
    foreign_account = (await gql(c, "{ myAccount { id uuid } }", foreign))["data"]["myAccount"]

    admin_name, _ = await create_officer(app, unit_code=tree.district_code, role="district_admin")
    admin = (await _login(c, admin_name))["accessToken"]
    own = (await gql(c, "{ myAccount { id } }", admin))["data"]["myAccount"]["id"]

    query = "query($id: ID!) { node(id: $id) { __typename id } }"
    assert (await gql(c, query, admin, id=own))["data"]["node"]["__typename"] == "Account"
    assert (await gql(c, query, admin, id=foreign_account["id"]))["data"]["node"] is None
    foreign_officer = to_base64("Officer", foreign_account["uuid"])
    assert (await gql(c, query, admin, id=foreign_officer))["data"]["node"] is None
    assert (await gql(c, query, foreign, id=foreign_officer))["data"]["node"] is not None
    assert (await gql(c, query, None, id=own))["data"]["node"] is None


async def test_officers_query_needs_a_token(c: httpx.AsyncClient) -> None:
    body = await gql(c, "{ officers { edges { node { id } } } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "auth.unauthenticated"
