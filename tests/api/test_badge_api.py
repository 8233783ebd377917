"""The public badge check behind the QR code: no sign-in, nothing identifying."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token
from support.org import OrgTree, make_org_tree
from support.volunteers import activate, registration, status


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def test_badge_shows_only_masked_facts_and_follows_status(
    client: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    body = registration(tree)
    vid = (await client.post("/api/v1/volunteers", json=body, headers=auth(officer))).json()["id"]
    active = await activate(client, officer, vid)
    url = f"/api/v1/badges/{active['badge_token']}"

    shown = await client.get(url)
    assert shown.status_code == 200
    assert set(shown.json()) == {
        "masked_name",
        "has_photo",
        "volunteer_number",
        "active",
        "valid_until",
        "teams",
    }
    assert shown.json()["masked_name"] == "王*"
    for secret in (body["phone"], body["resident_id"], body["address"], vid, str(tree.station_id)):
        assert secret not in shown.text

    await status(client, officer, vid, "suspended", "调查中")
    assert (await client.get(url)).json()["active"] is False
    await status(client, officer, vid, "active")
    assert (await client.get(url)).json()["active"] is True
    await status(client, officer, vid, "retired", "年龄原因退出")
    retired = (await client.get(url)).json()
    assert retired["active"] is False
    assert retired["volunteer_number"] == active["volunteer_number"]


@pytest.mark.parametrize(
    "token", ["A" * 32, "short", "有中文的令牌有中文的令牌有中文的令牌有中文的令牌", "-" * 65]
)
async def test_unknown_badges_are_not_found(client: httpx.AsyncClient, token: str) -> None:
    r = await client.get(f"/api/v1/badges/{token}", headers={"Accept-Language": "en"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "badge.not_found"
