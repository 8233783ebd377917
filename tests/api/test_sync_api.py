"""/me/changes end to end: a named tip, its feedback and the resulting notification reach
the reporter's feed once each; nobody else's feed, and never an anonymous tip."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from support.auth import auth, officer_token, resident_token
from support.org import make_org_tree
from support.tips import account_id, due_in, step, submit, tip_body

from app.domain.delivery.services import DeliveryService
from app.settings import Settings


async def changes(
    c: httpx.AsyncClient, token: str, since: str | None = None, *, expect_some: bool = True
) -> dict[str, Any]:
    """Read the feed. The feed holds back changes while ANY older write transaction in the
    database is still open (that is its guarantee), so a test that expects changes waits
    briefly for unrelated transactions (autovacuum, other connections) to finish."""
    params = {"since": since} if since else {}
    for _ in range(100):
        r = await c.get("/api/v1/me/changes", params=params, headers=auth(token))
        assert r.status_code == 200, r.text
        body = dict(r.json())
        if body["changes"] or not expect_some:
            return body
        await asyncio.sleep(0.05)
    return body


async def test_reporter_syncs_tip_feedback_and_notification(
    client: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    tree = await make_org_tree(app)
    resident, _ = await resident_token(client, settings)
    other, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    tid = (await submit(client, resident, tip_body(tree)))["id"]
    await submit(client, resident, tip_body(tree, anonymous=True))

    first = await changes(client, resident)
    assert [(x["type"], x["op"], x["item"]["id"]) for x in first["changes"]] == [
        ("tip", "upsert", tid)
    ]
    assert first["changes"][0]["item"]["feedback"] == []

    officer_id = await account_id(client, officer)
    await step(client, officer, tid, "assign", {"officer_id": officer_id, "due_at": due_in()})
    await step(client, officer, tid, "verify")
    await step(client, officer, tid, "outcome", {"outcome": "valid"})
    second = await changes(client, resident, first["next"])
    [tip] = second["changes"]  # three steps collapse to the latest
    assert tip["type"] == "tip"
    assert tip["item"]["status"] == "valid"
    assert len(tip["item"]["feedback"]) == 1

    await app.state.services.get(DeliveryService).drain()
    third = await changes(client, resident, second["next"])
    # The outcome's notification (a valid named tip also earns points: their notice too).
    assert {c["item"]["link"].split("/")[2] for c in third["changes"]} == {"tips", "points"}
    [note] = [c for c in third["changes"] if c["item"]["link"].startswith("shouwang://tips/")]
    assert (note["type"], note["op"], note["item"]["read_at"]) == ("notification", "upsert", None)

    r = await client.post(
        f"/api/v1/me/notifications/{note['item']['id']}/read", headers=auth(resident)
    )
    assert r.status_code == 200, r.text
    fourth = await changes(client, resident, third["next"])
    [read] = fourth["changes"]
    assert read["item"]["id"] == note["item"]["id"]
    assert read["item"]["read_at"] is not None

    last = await changes(client, resident, fourth["next"], expect_some=False)
    assert last == {"changes": [], "next": fourth["next"], "has_more": False}
    assert (await changes(client, other, expect_some=False))["changes"] == []


async def test_invalid_token_and_limit(client: httpx.AsyncClient, settings: Settings) -> None:
    resident, _ = await resident_token(client, settings)
    r = await client.get("/api/v1/me/changes?since=bm9wZQ", headers=auth(resident))
    assert r.status_code == 422
    assert r.json()["code"] == "sync.invalid_token"
    r = await client.get("/api/v1/me/changes?limit=501", headers=auth(resident))
    assert r.status_code == 422
    assert (await client.get("/api/v1/me/changes")).status_code == 401


async def test_graphql_my_changes(client: httpx.AsyncClient, app: Any, settings: Settings) -> None:
    tree = await make_org_tree(app)
    resident, _ = await resident_token(client, settings)
    tid = (await submit(client, resident, tip_body(tree)))["id"]
    query = (
        "query($s: String) { myChanges(since: $s, first: 10) { next hasMore changes {"
        " __typename ... on TipChange { tip { uuid status } } } } }"
    )
    for _ in range(100):  # see `changes`: wait out unrelated open transactions
        r = await client.post("/graphql", json={"query": query}, headers=auth(resident))
        data = r.json()["data"]["myChanges"]
        if data["changes"]:
            break
        await asyncio.sleep(0.05)
    assert [c["tip"]["uuid"] for c in data["changes"]] == [tid]
    r = await client.post(
        "/graphql", json={"query": query, "variables": {"s": data["next"]}}, headers=auth(resident)
    )
    assert r.json()["data"]["myChanges"]["changes"] == []
