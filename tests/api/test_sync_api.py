"""/me/changes end to end: a named tip, its feedback and the resulting notification reach
the reporter's feed once each; nobody else's feed, and never an anonymous tip. A hazard's
reporter follows it; the points it earns and a reward paid for it reach the same feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.hazards import BASE, EBIKE, hazard_body, upload
from support.org import make_org_tree
from support.points import CountingGateway, drain
from support.tips import account_id, due_in, step, submit, tip_body

from app.domain.delivery.services import DeliveryService
from app.domain.rewards.services import PayoutService
from app.infra.payments.dev import DevPaymentGateway
from app.main import create_app, platform_of
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
    third = await changes_until(
        client,
        resident,
        second["next"],
        lambda page: len(of_type(page, "notification")) == 2 and has("points_entry")(page),
    )
    # The outcome's notification; a valid named tip also earns points: the entry and its
    # notice too.
    notes = of_type(third["changes"], "notification")
    assert {c["item"]["link"].split("/")[2] for c in notes} == {"tips", "points"}
    [entry] = of_type(third["changes"], "points_entry")
    assert (entry["item"]["source_id"], entry["item"]["kind"]) == (tid, "credit")
    assert len(third["changes"]) == 3
    [note] = [c for c in notes if c["item"]["link"].startswith("shouwang://tips/")]
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


@pytest.fixture(scope="module")
async def media_app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app with media (hazard photos) and payouts kept in a temporary directory."""
    tmp = tmp_path_factory.mktemp("sync")
    app = create_app(settings.model_copy(update={"media_dir": tmp / "media"}))
    payouts = app.state.services.get(PayoutService)
    payouts.gateway = CountingGateway(DevPaymentGateway(tmp / "payouts.jsonl"))
    yield app
    await platform_of(app).aclose()


@pytest.fixture
async def mc(media_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=media_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


Changes = list[dict[str, Any]]


async def changes_until(
    c: httpx.AsyncClient, token: str, since: str | None, done: Callable[[Changes], bool]
) -> dict[str, Any]:
    """Read from ``since`` until the page satisfies ``done`` (see ``changes``: the feed
    holds back rows while an older transaction is open; re-reading a token is harmless)."""
    for _ in range(100):
        body = await changes(c, token, since, expect_some=False)
        if done(body["changes"]):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"the feed never got there: {body}")


def of_type(page: Changes, kind: str) -> Changes:
    return [x for x in page if x["type"] == kind]


def has(*kinds: str) -> Callable[[Changes], bool]:
    return lambda page: all(of_type(page, k) for k in kinds)


async def test_hazard_points_and_reward_reach_the_reporters_feed(
    mc: httpx.AsyncClient, media_app: Any, settings: Settings
) -> None:
    app, c = media_app, mc
    tree = await make_org_tree(app)
    officer = await officer_token(c, app, unit_code=tree.station_code)
    admin = await officer_token(c, app, unit_code=tree.station_code, role="station_admin")
    reporter, _ = await resident_token(c, settings)
    other, _ = await resident_token(c, settings)
    reporter_id = await account_id(c, reporter)

    # Reported: the reporter's feed holds the hazard as its reporter sees it.
    photo = await upload(c, reporter)
    r = await c.post(BASE, json=hazard_body(tree.inside, [photo]), headers=auth(reporter))
    assert r.status_code == 201, r.text
    hid = r.json()["id"]
    first = await changes_until(c, reporter, None, has("hazard"))
    [hazard] = first["changes"]
    assert (hazard["type"], hazard["op"], hazard["item"]["id"]) == ("hazard", "upsert", hid)
    assert hazard["item"]["status"] == "reported"
    assert hazard["item"]["description"] == EBIKE
    assert hazard["item"]["audience"] == "reporter"
    assert hazard["item"]["reporter_ids"] is None  # never who reported, even to them

    # Verified real: the new status; then the worker credits the reporter's points.
    r = await c.post(f"{BASE}/{hid}/verify", json={"outcome": "real"}, headers=auth(officer))
    assert r.status_code == 200, r.text
    second = await changes_until(c, reporter, first["next"], has("hazard"))
    [hazard] = second["changes"]
    assert (hazard["item"]["id"], hazard["item"]["status"]) == (hid, "verified")
    await drain(app)
    third = await changes_until(c, reporter, second["next"], has("points_entry"))
    [entry] = of_type(third["changes"], "points_entry")
    assert entry["op"] == "upsert"
    assert entry["item"]["account_id"] == reporter_id
    assert (entry["item"]["kind"], entry["item"]["source_id"]) == ("credit", hid)
    assert entry["item"]["amount"] > 0
    assert entry["item"]["reason"] == "hazard_verified"
    mine = await c.get("/api/v1/me/points", headers=auth(reporter))
    assert mine.status_code == 200, mine.text
    assert mine.json()["balance"] == entry["item"]["amount"]

    # A reward proposed, approved and paid out: its latest state, as the payee sees it.
    body = {"source_type": "hazard", "source_id": hid, "account_id": reporter_id}
    r = await c.post(
        "/api/v1/rewards", json={**body, "outcome": "hazard_verified"}, headers=auth(officer)
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = await c.post(f"/api/v1/rewards/{rid}/approve", headers=auth(admin))
    assert (r.status_code, r.json()["status"]) == (200, "approved")
    await drain(app)
    fourth = await changes_until(
        c,
        reporter,
        third["next"],
        lambda page: [x["item"]["status"] for x in of_type(page, "reward")] == ["paid"],
    )
    [reward] = of_type(fourth["changes"], "reward")
    assert (reward["op"], reward["item"]["id"], reward["item"]["source_id"]) == ("upsert", rid, hid)
    assert (reward["item"]["amount_fen"], reward["item"]["paid_at"] is None) == (1000, False)
    assert "proposed_by" not in reward["item"]  # the payee's view of a reward
    assert of_type(fourth["changes"], "hazard") == []  # unchanged since the last read
    kinds = {x["item"]["kind"] for x in of_type(fourth["changes"], "notification")}
    assert "reward.paid" in kinds

    # Read to the end: nothing more; someone else's feed holds none of it.
    rest = await changes(c, reporter, fourth["next"], expect_some=False)
    assert rest["changes"] == []
    assert (await changes(c, other, expect_some=False))["changes"] == []

    # The same feed over GraphQL, from the start, in one page.
    query = (
        "query($s: String) { myChanges(since: $s, first: 100) { next hasMore changes {"
        " __typename"
        " ... on HazardChange { hazard { uuid status audience } }"
        " ... on PointsEntryChange { pointsEntry { uuid amount sourceId } }"
        " ... on RewardChange { reward { uuid status amountFen } } } } }"
    )
    r = await c.post("/graphql", json={"query": query}, headers=auth(reporter))
    assert "errors" not in r.json(), r.text
    data = r.json()["data"]["myChanges"]
    assert data["hasMore"] is False
    assert data["next"] == rest["next"]
    by_type = {x["__typename"]: x for x in data["changes"] if len(x) > 1}
    assert by_type["HazardChange"]["hazard"] == {
        "uuid": hid,
        "status": "VERIFIED",
        "audience": "REPORTER",
    }
    assert by_type["PointsEntryChange"]["pointsEntry"] == {
        "uuid": entry["item"]["id"],
        "amount": entry["item"]["amount"],
        "sourceId": hid,
    }
    assert by_type["RewardChange"]["reward"] == {"uuid": rid, "status": "PAID", "amountFen": 1000}
    typenames = [x["__typename"] for x in data["changes"]]
    assert sorted(t for t in typenames if t != "NotificationChange") == [
        "HazardChange",
        "PointsEntryChange",
        "RewardChange",
    ]
