"""GET /api/v1/me: the caller's account, plus their volunteer profile or null."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.volunteers import application

from app.settings import Settings


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def test_me_without_and_with_an_application(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree
) -> None:
    token, phone = await resident_token(client, settings)
    before = await client.get("/api/v1/me", headers=auth(token))
    assert before.status_code == 200, before.text
    assert before.json()["volunteer"] is None
    account = before.json()["account"]
    assert account["kind"] == "resident"
    assert account["masked_phone"] == phone[:3] + "****" + phone[-4:]

    body = application(tree)
    await client.post("/api/v1/volunteer-applications", json=body, headers=auth(token))
    after = (await client.get("/api/v1/me", headers=auth(token))).json()
    volunteer = after["volunteer"]
    assert volunteer["status"] == "applied"
    assert volunteer["resident_id"] == body["resident_id"]  # own data in full
    assert volunteer["volunteer_number"] is None
    assert volunteer["teams"] == []
    assert volunteer["certificates"] == []
    assert after["account"]["id"] == account["id"]


async def test_me_for_officers_and_strangers(
    client: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    me = (await client.get("/api/v1/me", headers=auth(officer))).json()
    assert me["volunteer"] is None
    assert [(r["role"], r["unit_id"]) for r in me["account"]["roles"]] == [
        ("officer", str(tree.station_id))
    ]
    anonymous = await client.get("/api/v1/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
