"""/me/wechat/subscriptions counts the mini-program's subscribe results per template;
/me/devices registers and removes the caller's own push devices."""

from __future__ import annotations

import uuid

import httpx
from support.auth import auth, resident_token

from app.settings import Settings

URL = "/api/v1/me/wechat/subscriptions"


def tid() -> str:
    return "tpl" + uuid.uuid4().hex[:20]


async def test_accepts_are_counted_per_template_and_ban_clears(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token, _ = await resident_token(client, settings)
    a, b = tid(), tid()
    report = {"template_ids": [a, b], "results": {a: "accept", b: "reject"}}

    first = await client.post(URL, json=report, headers=auth(token))
    second = await client.post(URL, json=report, headers=auth(token))
    banned = await client.post(
        URL, json={"template_ids": [a], "results": {a: "ban"}}, headers=auth(token)
    )

    assert first.status_code == 200, first.text
    assert first.json() == {"grants": {a: 1, b: 0}}
    assert second.json() == {"grants": {a: 2, b: 0}}
    assert banned.json() == {"grants": {a: 0}}


async def test_grants_belong_to_the_reporting_account(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    mine, _ = await resident_token(client, settings)
    other, _ = await resident_token(client, settings)
    a = tid()
    await client.post(URL, json={"template_ids": [a], "results": {a: "accept"}}, headers=auth(mine))

    theirs = await client.post(URL, json={"template_ids": [a], "results": {}}, headers=auth(other))

    assert theirs.json() == {"grants": {a: 0}}


async def test_bad_reports_are_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    token, _ = await resident_token(client, settings)
    a = tid()
    bad = [
        {"template_ids": [a], "results": {a: "maybe"}},
        {"template_ids": [a], "results": {tid(): "accept"}},
        {"template_ids": [tid() for _ in range(4)], "results": {}},
        {"template_ids": ["含中文"], "results": {}},
    ]
    for body in bad:
        r = await client.post(URL, json=body, headers=auth(token))
        assert r.status_code == 422, (body, r.text)
    assert (await client.post(URL, json=bad[0])).status_code == 401


async def test_devices_are_registered_and_removed_by_their_owner(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    mine, _ = await resident_token(client, settings)
    other, _ = await resident_token(client, settings)
    rid = "1a0018970a" + uuid.uuid4().hex[:12]
    device = {"platform": "android", "registration_id": rid}

    assert (
        await client.put("/api/v1/me/devices", json=device, headers=auth(mine))
    ).status_code == 204
    again = await client.put("/api/v1/me/devices", json=device, headers=auth(mine))
    foreign = await client.delete(f"/api/v1/me/devices/{rid}", headers=auth(other))
    removed = await client.delete(f"/api/v1/me/devices/{rid}", headers=auth(mine))
    gone = await client.delete(f"/api/v1/me/devices/{rid}", headers=auth(mine))

    assert again.status_code == 204
    assert foreign.status_code == 404
    assert removed.status_code == 204
    assert gone.status_code == 404
    assert gone.json()["code"] == "device.not_found"


async def test_bad_devices_are_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    token, _ = await resident_token(client, settings)
    for body in (
        {"platform": "symbian", "registration_id": "abc123"},
        {"platform": "ios", "registration_id": "has spaces"},
        {"platform": "ios", "registration_id": "abc", "extra": 1},
    ):
        r = await client.put("/api/v1/me/devices", json=body, headers=auth(token))
        assert r.status_code == 422, (body, r.text)
    assert (await client.put("/api/v1/me/devices", json={})).status_code in (401, 422)
