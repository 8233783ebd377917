"""Police appeals over GraphQL: publish, the appeals connection, node scoping, withdraw."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.volunteers import activate, application

from app.settings import Settings

PUBLISH = """
mutation($input: PublishAppealInput!) {
  publishAppeal(input: $input) {
    ... on AppealPayload { appeal { id uuid status title kind version targetUnitIds } }
    ... on Problem { code message }
  }
}
"""
WITHDRAW = """
mutation($id: ID!) {
  withdrawAppeal(id: $id, expectedVersion: 1) {
    ... on AppealPayload { appeal { status version } }
    ... on Problem { code }
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { ... on Appeal { title body } } }"
LIST = "{ appeals { edges { node { uuid title } } } }"


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


async def test_appeal_journey_over_graphql(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    volunteer, _ = await resident_token(client, settings)
    r = await client.post(
        "/api/v1/volunteer-applications", json=application(tree), headers=auth(volunteer)
    )
    await activate(client, officer, r.json()["id"])
    stranger, _ = await resident_token(client, settings)

    grid = await gql(client, "{ orgUnits(first: 50) { edges { node { id uuid } } } }", officer)
    grid_gid = next(
        e["node"]["id"] for e in grid["orgUnits"]["edges"] if e["node"]["uuid"] == str(tree.grid_id)
    )
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    denied = await gql(
        client,
        PUBLISH,
        stranger,
        input={
            "kind": "MISSING_PERSON",
            "title": "寻找走失老人",
            "body": "寻找走失老人：王某某，男，78岁，身穿蓝色外套",
            "expiresAt": expires,
            "targetUnitIds": [grid_gid],
        },
    )
    assert denied["publishAppeal"]["code"] == "not_allowed"
    data = await gql(
        client,
        PUBLISH,
        officer,
        input={
            "kind": "MISSING_PERSON",
            "title": "寻找走失老人",
            "body": "寻找走失老人：王某某，男，78岁，身穿蓝色外套",
            "expiresAt": expires,
            "targetUnitIds": [grid_gid],
        },
    )
    appeal = data["publishAppeal"]["appeal"]
    assert appeal["status"] == "PUBLISHED"
    assert appeal["targetUnitIds"] == [grid_gid]

    seen = await gql(client, NODE, volunteer, id=appeal["id"])
    assert seen["node"]["title"] == "寻找走失老人"
    listed = await gql(client, LIST, volunteer)
    assert appeal["uuid"] in [e["node"]["uuid"] for e in listed["appeals"]["edges"]]
    assert (await gql(client, NODE, stranger, id=appeal["id"]))["node"] is None
    assert (await gql(client, LIST, stranger))["appeals"]["edges"] == []

    withdrawn = await gql(client, WITHDRAW, officer, id=appeal["id"])
    assert withdrawn["withdrawAppeal"]["appeal"] == {"status": "WITHDRAWN", "version": 2}
    assert (await gql(client, NODE, volunteer, id=appeal["id"]))["node"] is None
