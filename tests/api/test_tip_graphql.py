"""Tip-offs over GraphQL: the same service rules as REST, scoped nodes and typed errors."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import DESCRIPTION, account_id, due_in

from app.settings import Settings

FIELDS = """
  ... on TipPayload { created tip { id uuid status assigneeId outcome stationId
      feedback { template message } } }
  ... on Problem { code message }
"""


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def gql(client: httpx.AsyncClient, query: str, token: str, **variables: Any) -> Any:
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth(token)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


async def test_tip_journey_over_graphql(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    stranger, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    officer_id = await account_id(client, officer)
    lon, lat = tree.inside
    submitted = await gql(
        client,
        f"mutation($input: SubmitTipInput!) {{ submitTip(input: $input) {{ {FIELDS} }} }}",
        resident,
        input={
            "category": "THEFT",
            "description": DESCRIPTION,
            "location": {"lon": lon, "lat": lat, "crs": "WGS84"},
            "urgency": "HIGH",
        },
    )
    payload = submitted["submitTip"]
    assert payload["created"] is True
    tip = payload["tip"]
    assert tip["status"] == "SUBMITTED"
    assert tip["stationId"] is None  # the reporter's view
    gid = tip["id"]

    node = "query($id: ID!) { node(id: $id) { ... on Tip { status stationId } } }"
    assert (await gql(client, node, stranger, id=gid))["node"] is None
    seen = (await gql(client, node, officer, id=gid))["node"]
    assert seen["stationId"] is not None
    assert base64.b64decode(seen["stationId"]).decode() == f"OrgUnit:{tree.station_id}"

    assign = f"""mutation($id: ID!, $officer: UUID!, $due: DateTime!) {{
      assignTip(id: $id, officerId: $officer, dueAt: $due) {{ {FIELDS} }} }}"""
    done = await gql(client, assign, officer, id=gid, officer=officer_id, due=due_in())
    assert done["assignTip"]["tip"]["assigneeId"] == officer_id
    denied = await gql(client, assign, stranger, id=gid, officer=officer_id, due=due_in())
    assert denied["assignTip"]["code"] == "tip.not_found"

    verify = f"mutation($id: ID!) {{ startVerifyingTip(id: $id) {{ {FIELDS} }} }}"
    await gql(client, verify, officer, id=gid)
    outcome = f"""mutation($id: ID!) {{
      recordTipOutcome(id: $id, outcome: VALID, feedbackTemplate: "valid_ongoing") {{
        {FIELDS} }} }}"""
    recorded = await gql(client, outcome, officer, id=gid)
    assert recorded["recordTipOutcome"]["tip"]["outcome"] == "VALID"
    close = f"mutation($id: ID!) {{ closeTip(id: $id) {{ {FIELDS} }} }}"
    again = await gql(client, close, officer, id=gid)
    assert again["closeTip"]["tip"]["status"] == "CLOSED"
    twice = await gql(client, close, officer, id=gid)
    assert twice["closeTip"]["code"] == "tip.invalid_transition"

    mine = await gql(
        client,
        "{ myTips { edges { node { status outcome feedback { template message } } } } }",
        resident,
    )
    [edge] = mine["myTips"]["edges"]
    assert edge["node"]["outcome"] is None  # staff only
    assert edge["node"]["feedback"][0]["template"] == "valid_ongoing"
    dispute = (
        f"mutation($id: ID!, $why: String!) {{ disputeTip(id: $id, reason: $why) {{ {FIELDS} }} }}"
    )
    reopened = await gql(client, dispute, resident, id=gid, why="仍有可疑人员出没")
    assert reopened["disputeTip"]["tip"]["status"] == "TRIAGED"

    queue = await gql(
        client, "{ tips(filter: {status: TRIAGED}) { edges { node { uuid overdue } } } }", officer
    )
    assert [e["node"]["uuid"] for e in queue["tips"]["edges"]] == [tip["uuid"]]
