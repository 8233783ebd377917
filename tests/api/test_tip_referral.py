"""Referral of a tip to another police station: 湖塘 refers, the tip moves into 新城's queue,
湖塘 loses sight of it, the reporter is told (feedback, notification, sync feed)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import DESCRIPTION, account_id, due_in, step, submit, tip_body

from app.domain.delivery.services import DeliveryService
from app.infra.db.tables.platform import outbox
from app.infra.db.tables.tips import tips
from app.settings import Settings

REFERRED_ZH = "感谢您提供的线索，已移交有关单位依法处理。"


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def verifying(
    client: httpx.AsyncClient, officer: str, resident: str, tree: OrgTree, **extra: Any
) -> str:
    tid = str((await submit(client, resident, tip_body(tree, **extra)))["id"])
    me = await account_id(client, officer)
    await step(client, officer, tid, "assign", {"officer_id": me, "due_at": due_in()})
    await step(client, officer, tid, "verify")
    return tid


async def changes(c: httpx.AsyncClient, token: str, since: str | None = None) -> dict[str, Any]:
    """The reporter's sync feed (waits briefly: it holds back rows of open transactions)."""
    params = {"since": since} if since else {}
    for _ in range(100):
        r = await c.get("/api/v1/me/changes", params=params, headers=auth(token))
        assert r.status_code == 200, r.text
        body = dict(r.json())
        if body["changes"]:
            return body
        await asyncio.sleep(0.05)
    return body


async def test_hutang_refers_a_tip_to_xincheng(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    resident, _ = await resident_token(client, settings)
    hutang = await officer_token(client, app, unit_code=tree.station_code)
    xincheng = await officer_token(client, app, unit_code=tree.other_station_code)
    tid = await verifying(client, hutang, resident, tree)
    since = (await changes(client, resident))["next"]

    referred = await step(
        client,
        hutang,
        tid,
        "outcome",
        {"outcome": "referred", "referred_to_station_id": str(tree.other_station_id)},
    )
    assert referred["status"] == "submitted"

    # 湖塘 no longer sees it: neither the tip nor any write on it, nor its queue.
    assert (await client.get(f"/api/v1/tips/{tid}", headers=auth(hutang))).status_code == 404
    hutang_id = await account_id(client, hutang)
    r = await client.post(
        f"/api/v1/tips/{tid}/assign",
        json={"officer_id": hutang_id, "due_at": due_in()},
        headers=auth(hutang),
    )
    assert r.status_code == 404
    queue = await client.get("/api/v1/tips", headers=auth(hutang))
    assert tid not in [t["id"] for t in queue.json()["items"]]

    # 新城 finds it in its queue, submitted, unassigned, and can take it on.
    queue = await client.get("/api/v1/tips?status=submitted", headers=auth(xincheng))
    assert tid in [t["id"] for t in queue.json()["items"]]
    seen = (await client.get(f"/api/v1/tips/{tid}", headers=auth(xincheng))).json()
    assert seen["station_id"] == str(tree.other_station_id)
    assert seen["district_id"] == str(tree.district_id)
    assert seen["grid_id"] == str(tree.grid_id)  # the location still decides the grid
    assert (seen["assignee_id"], seen["due_at"], seen["outcome"]) == (None, None, None)
    last = seen["history"][-1]
    assert (last["kind"], last["from_status"], last["to_status"]) == (
        "referred",
        "verifying",
        "submitted",
    )
    assert last["by"] == hutang_id
    assert last["detail"]["from_station_id"] == str(tree.station_id)
    assert last["detail"]["to_station_id"] == str(tree.other_station_id)
    assert last["feedback"] == "referred"
    xincheng_id = await account_id(client, xincheng)
    taken = await step(
        client, xincheng, tid, "assign", {"officer_id": xincheng_id, "due_at": due_in()}
    )
    assert (taken["status"], taken["assignee_id"]) == ("triaged", xincheng_id)
    # An officer of the old station cannot be made the handler any more.
    r = await client.post(
        f"/api/v1/tips/{tid}/assign",
        json={"officer_id": hutang_id, "due_at": due_in()},
        headers=auth(xincheng),
    )
    assert r.json()["code"] == "tip.unknown_officer"

    # The reporter: the referred feedback, the tip still theirs, in the sync feed.
    mine = await client.get("/api/v1/me/tips", headers={**auth(resident), "Accept-Language": "zh"})
    [item] = [t for t in mine.json()["items"] if t["id"] == tid]
    assert [(f["template"], f["message"]) for f in item["feedback"]] == [("referred", REFERRED_ZH)]
    assert "station_id" not in item or item["station_id"] is None
    own = await client.get(f"/api/v1/tips/{tid}", headers=auth(resident))
    assert own.status_code == 200
    feed = await changes(client, resident, since)
    assert [(c["type"], c["item"]["id"]) for c in feed["changes"]] == [("tip", tid)]
    assert feed["changes"][0]["item"]["status"] == "triaged"

    async with session_factory() as s:
        events = (
            await s.execute(
                sa.select(outbox.c.event_type, outbox.c.payload)
                .where(outbox.c.aggregate_id == uuid.UUID(tid))
                .order_by(outbox.c.id)
            )
        ).all()
    types = [e.event_type for e in events]
    assert "tip.outcome_recorded" not in types
    [payload] = [e.payload for e in events if e.event_type == "tip.referred"]
    assert payload["station_id"] == payload["to_station_id"] == str(tree.other_station_id)
    assert payload["from_station_id"] == str(tree.station_id)
    assert DESCRIPTION not in str(payload)

    await app.state.services.get(DeliveryService).drain()
    inbox = await client.get("/api/v1/me/notifications", headers=auth(resident))
    assert f"shouwang://tips/{tid}" in [n["link"] for n in inbox.json()["items"]]


async def test_bad_referrals_change_nothing(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    hutang = await officer_token(client, app, unit_code=tree.station_code)
    tid = await verifying(client, hutang, resident, tree)
    url = f"/api/v1/tips/{tid}/outcome"
    cases = [
        (str(uuid.uuid4()), "tip.referred_station_unknown"),
        (str(tree.community_id), "tip.referred_station_unknown"),  # not a station
        (str(tree.district_id), "tip.referred_station_unknown"),
        (str(tree.station_id), "tip.referred_to_same_station"),
    ]
    for station, code in cases:
        body = {"outcome": "referred", "referred_to_station_id": station}
        r = await client.post(url, json=body, headers=auth(hutang))
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["code"] == code
        assert [e["field"] for e in problem["errors"]] == ["referred_to_station_id"]
    body = {"outcome": "valid", "referred_to_station_id": str(tree.other_station_id)}
    r = await client.post(url, json=body, headers=auth(hutang))
    assert r.json()["code"] == "tip.referred_station_unexpected"

    seen = (await client.get(f"/api/v1/tips/{tid}", headers=auth(hutang))).json()
    assert (seen["status"], seen["station_id"]) == ("verifying", str(tree.station_id))
    assert seen["history"][-1]["kind"] == "verifying"

    # Referral outside the police (free text only) keeps today's behaviour.
    out = await step(
        client, hutang, tid, "outcome", {"outcome": "referred", "referred_to": "区市场监管局"}
    )
    assert (out["status"], out["referred_to"], out["station_id"]) == (
        "referred",
        "区市场监管局",
        str(tree.station_id),
    )


async def test_referral_over_graphql(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    resident, _ = await resident_token(client, settings)
    hutang = await officer_token(client, app, unit_code=tree.station_code)
    xincheng = await officer_token(client, app, unit_code=tree.other_station_code)
    tid = await verifying(client, hutang, resident, tree, anonymous=True)
    gid = base64.b64encode(f"Tip:{tid}".encode()).decode()
    mutation = """mutation($id: ID!, $station: ID) {
      recordTipOutcome(id: $id, outcome: REFERRED, referredToStationId: $station) {
        __typename ... on TipPayload { tip { status } }
        ... on InvalidInput { code fields { field code } } } }"""

    async def refer(station: str) -> Any:
        r = await client.post(
            "/graphql",
            json={"query": mutation, "variables": {"id": gid, "station": station}},
            headers=auth(hutang),
        )
        body = r.json()
        assert "errors" not in body, body
        return body["data"]["recordTipOutcome"]

    wrong_type = base64.b64encode(f"Tip:{tree.other_station_id}".encode()).decode()
    bad = await refer(wrong_type)
    assert bad["code"] == "tip.referred_station_unknown"
    assert bad["fields"][0]["field"] == "referred_to_station_id"

    ok = await refer(base64.b64encode(f"OrgUnit:{tree.other_station_id}".encode()).decode())
    assert ok == {"__typename": "TipPayload", "tip": {"status": "SUBMITTED"}}
    assert (await client.get(f"/api/v1/tips/{tid}", headers=auth(hutang))).status_code == 404
    seen = (await client.get(f"/api/v1/tips/{tid}", headers=auth(xincheng))).json()
    assert seen["station_id"] == str(tree.other_station_id)
    async with session_factory() as s:
        station = (
            await s.execute(sa.select(tips.c.station_id).where(tips.c.id == uuid.UUID(tid)))
        ).scalar_one()
    assert station == tree.other_station_id
