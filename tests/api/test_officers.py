"""/api/v1/officers: creation by admins inside their reach, scoped reads, disabling."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import DEFAULT_PASSWORD, auth, client_from, create_officer, officer_token
from support.org import OrgTree, make_org_tree

OFFICERS = "/api/v1/officers"


@pytest.fixture(scope="module")
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


@pytest.fixture(scope="module")
async def other_tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


@pytest.fixture
async def c(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(client) as own:
        yield own


def _new(unit_code: str, role: str = "officer", **extra: Any) -> dict[str, Any]:
    return {
        "username": f"u-{uuid.uuid4().hex[:10]}",
        "password": DEFAULT_PASSWORD,
        "unit_code": unit_code,
        "role": role,
        "display_name": "张伟",
        **extra,
    }


async def _login(
    c: httpx.AsyncClient, username: str, password: str = DEFAULT_PASSWORD
) -> httpx.Response:
    return await c.post("/api/v1/auth/login", json={"username": username, "password": password})


async def test_district_admin_creates_any_role_in_the_district(
    c: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    token = await officer_token(c, app, unit_code=tree.district_code, role="district_admin")
    for unit, role in (
        (tree.other_station_code, "station_admin"),
        (tree.station_code, "auditor"),
        (tree.district_code, "district_admin"),
    ):
        body = _new(unit, role)
        r = await c.post(OFFICERS, json=body, headers=auth(token))
        assert r.status_code == 201, r.text
        created = r.json()
        assert r.headers["location"] == f"/api/v1/officers/{created['id']}"
        assert r.headers["etag"] == f'W/"{created["id"]}-1"'
        assert created["username"] == body["username"]
        assert created["status"] == "active"
        assert created["roles"][0]["role"] == role
        assert created["roles"][0]["unit_code"] == unit
        assert "password" not in r.text
        assert (await _login(c, body["username"])).status_code == 200


async def test_units_of_another_district_are_not_found(
    c: httpx.AsyncClient, app: Any, tree: OrgTree, other_tree: OrgTree
) -> None:
    token = await officer_token(c, app, unit_code=tree.district_code, role="district_admin")
    for unit in (other_tree.station_code, other_tree.district_code, "NO-SUCH-UNIT"):
        r = await c.post(OFFICERS, json=_new(unit), headers=auth(token))
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "org_unit.not_found"


async def test_station_admin_creates_officers_and_auditors_of_own_station_only(
    c: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    token = await officer_token(c, app, unit_code=tree.station_code, role="station_admin")
    for role in ("officer", "auditor"):
        r = await c.post(OFFICERS, json=_new(tree.station_code, role), headers=auth(token))
        assert r.status_code == 201, r.text
    escalate = await c.post(
        OFFICERS, json=_new(tree.station_code, "station_admin"), headers=auth(token)
    )
    assert escalate.status_code == 403
    neighbour = await c.post(OFFICERS, json=_new(tree.other_station_code), headers=auth(token))
    assert neighbour.status_code == 404


async def test_plain_officers_and_residents_may_not_create(
    c: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    token = await officer_token(c, app, unit_code=tree.station_code, role="officer")
    r = await c.post(OFFICERS, json=_new(tree.station_code), headers=auth(token))
    assert r.status_code == 403
    assert r.json()["code"] == "not_allowed"
    assert (await c.post(OFFICERS, json=_new(tree.station_code))).status_code == 401


async def test_invalid_officers_are_refused(c: httpx.AsyncClient, app: Any, tree: OrgTree) -> None:
    token = await officer_token(c, app, unit_code=tree.district_code, role="district_admin")
    mismatch = await c.post(OFFICERS, json=_new(tree.district_code, "officer"), headers=auth(token))
    assert mismatch.status_code == 422
    assert mismatch.json()["code"] == "officer.role_unit_mismatch"
    community = await c.post(OFFICERS, json=_new(tree.community_code), headers=auth(token))
    assert community.json()["code"] == "officer.role_unit_mismatch"
    weak = await c.post(
        OFFICERS, json=_new(tree.station_code, password="password1234"), headers=auth(token)
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "password"
    role = await c.post(OFFICERS, json=_new(tree.station_code, "resident"), headers=auth(token))
    assert role.status_code == 422
    assert role.json()["code"] == "officer.invalid_role"
    extra = await c.post(
        OFFICERS, json={**_new(tree.station_code), "admin": True}, headers=auth(token)
    )
    assert extra.status_code == 422

    body = _new(tree.station_code)
    assert (await c.post(OFFICERS, json=body, headers=auth(token))).status_code == 201
    dup = {**_new(tree.station_code), "username": body["username"].upper()}
    taken = await c.post(OFFICERS, json=dup, headers=auth(token))
    assert taken.status_code == 409
    assert taken.json()["code"] == "officer.username_taken"


async def test_idempotency_key_replays_the_creation(
    c: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    token = await officer_token(c, app, unit_code=tree.station_code, role="station_admin")
    headers = {**auth(token), "Idempotency-Key": uuid.uuid4().hex}
    body = _new(tree.station_code)
    first = await c.post(OFFICERS, json=body, headers=headers)
    again = await c.post(OFFICERS, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = await c.post(OFFICERS, json=_new(tree.station_code), headers=headers)
    assert other.status_code == 422


async def test_reads_are_scoped(
    c: httpx.AsyncClient, app: Any, tree: OrgTree, other_tree: OrgTree
) -> None:
    station_admin = await officer_token(c, app, unit_code=tree.station_code, role="station_admin")
    district_admin = await officer_token(
        c, app, unit_code=tree.district_code, role="district_admin"
    )
    neighbour_name, _ = await create_officer(app, unit_code=tree.other_station_code)
    foreign_name, _ = await create_officer(app, unit_code=other_tree.station_code)

    async def names(token: str) -> set[str]:
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await c.get(OFFICERS, params=params, headers=auth(token))).json()
            seen |= {o["username"] for o in page["items"]}
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    station_view, district_view = await names(station_admin), await names(district_admin)
    assert neighbour_name not in station_view
    assert neighbour_name in district_view
    assert foreign_name not in district_view
    assert station_view < district_view

    neighbour = next(
        o
        for o in (
            await c.get(OFFICERS, params={"limit": 200}, headers=auth(district_admin))
        ).json()["items"]
        if o["username"] == neighbour_name
    )
    one = await c.get(f"{OFFICERS}/{neighbour['id']}", headers=auth(district_admin))
    assert one.status_code == 200
    assert one.headers["etag"] == f'W/"{neighbour["id"]}-1"'
    assert (
        await c.get(f"{OFFICERS}/{neighbour['id']}", headers=auth(station_admin))
    ).status_code == 404
    assert (await c.get(f"{OFFICERS}/not-a-uuid", headers=auth(station_admin))).status_code == 404
    bad_cursor = await c.get(OFFICERS, params={"cursor": "!!"}, headers=auth(station_admin))
    assert bad_cursor.status_code == 422

    officer = await officer_token(c, app, unit_code=tree.station_code, role="officer")
    assert (await c.get(OFFICERS, headers=auth(officer))).status_code == 403
    auditor = await officer_token(c, app, unit_code=tree.station_code, role="auditor")
    assert (await c.get(OFFICERS, headers=auth(auditor))).status_code == 200


async def test_disabling_ends_every_session_at_once(
    c: httpx.AsyncClient,
    app: Any,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    admin = await officer_token(c, app, unit_code=tree.station_code, role="station_admin")
    username, password = await create_officer(app, unit_code=tree.station_code, role="officer")
    pair = (await _login(c, username, password)).json()
    second = (await _login(c, username, password)).json()
    me = await c.post(
        "/graphql", json={"query": "{ myAccount { uuid } }"}, headers=auth(pair["access_token"])
    )
    officer_id = me.json()["data"]["myAccount"]["uuid"]

    stale = await c.post(
        f"{OFFICERS}/{officer_id}/disable",
        headers={**auth(admin), "If-Match": f'W/"{officer_id}-9"'},
    )
    assert stale.status_code == 412
    r = await c.post(
        f"{OFFICERS}/{officer_id}/disable",
        headers={**auth(admin), "If-Match": f'W/"{officer_id}-1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "disabled"
    assert r.headers["etag"] == f'W/"{officer_id}-2"'

    for access in (pair["access_token"], second["access_token"]):
        denied = await c.get(OFFICERS, headers=auth(access))
        assert denied.status_code == 401
    refresh = await c.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert refresh.status_code == 401
    login = await _login(c, username, password)
    assert login.status_code == 401
    assert login.json()["code"] == "auth.account_disabled"
    wrong = await _login(c, username, "Wrong-password-1")
    assert wrong.json()["code"] == "auth.invalid_credentials"

    again = await c.post(f"{OFFICERS}/{officer_id}/disable", headers=auth(admin))
    assert again.status_code == 409
    assert again.json()["code"] == "account.already_disabled"

    async with session_factory() as s:
        actions = (
            await s.execute(
                sa.text(
                    "SELECT action, detail FROM audit_log WHERE record_id = :id"
                    " OR detail->>'account_id' = :text ORDER BY seq"
                ),
                {"id": officer_id, "text": officer_id},
            )
        ).all()
    names = [a.action for a in actions]
    assert "officer.created" in names
    assert "officer.disabled" in names
    assert names.count("session.revoked") == 2


async def test_who_may_disable(
    c: httpx.AsyncClient, app: Any, tree: OrgTree, other_tree: OrgTree
) -> None:
    station_admin = await officer_token(c, app, unit_code=tree.station_code, role="station_admin")
    district_admin = await officer_token(
        c, app, unit_code=tree.district_code, role="district_admin"
    )
    peer_name, _ = await create_officer(app, unit_code=tree.station_code, role="station_admin")
    peer = (await _login(c, peer_name)).json()
    peer_id = (
        await c.post(
            "/graphql", json={"query": "{ myAccount { uuid } }"}, headers=auth(peer["access_token"])
        )
    ).json()["data"]["myAccount"]["uuid"]

    assert (
        await c.post(f"{OFFICERS}/{peer_id}/disable", headers=auth(station_admin))
    ).status_code == 403
    foreign_admin = await officer_token(
        c, app, unit_code=other_tree.district_code, role="district_admin"
    )
    assert (
        await c.post(f"{OFFICERS}/{peer_id}/disable", headers=auth(foreign_admin))
    ).status_code == 404
    assert (
        await c.post(f"{OFFICERS}/{peer_id}/disable", headers=auth(district_admin))
    ).status_code == 200
    own_id = (
        await c.post(
            "/graphql", json={"query": "{ myAccount { uuid } }"}, headers=auth(district_admin)
        )
    ).json()["data"]["myAccount"]["uuid"]
    self_disable = await c.post(f"{OFFICERS}/{own_id}/disable", headers=auth(district_admin))
    assert self_disable.status_code == 403
    assert self_disable.json()["code"] == "officer.cannot_disable_self"
