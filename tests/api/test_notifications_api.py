"""Events to inbox, end to end: a volunteer is activated, the worker delivers the event,
the volunteer's own account (and nobody else's) sees a generic notification and reads it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.volunteers import activate, application

from app.bootstrap.worker import run_worker
from app.domain.delivery.services import DeliveryService
from app.settings import Settings


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def activated_volunteer(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> str:
    """A resident applies and their station activates them; returns the resident's token."""
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    r = await client.post(
        "/api/v1/volunteer-applications", json=application(tree), headers=auth(resident)
    )
    assert r.status_code == 201, r.text
    await activate(client, officer, r.json()["id"])
    return resident


async def test_activation_reaches_only_the_volunteers_inbox(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident = await activated_volunteer(client, app, settings, tree)
    other, _ = await resident_token(client, settings)
    before = await client.get("/api/v1/me/notifications", headers=auth(resident))
    assert before.json()["items"] == []  # nothing until the worker delivers

    await run_worker(settings, once=True)  # `shouwang worker --once`
    await run_worker(settings, once=True)  # a second pass changes nothing

    r = await client.get("/api/v1/me/notifications", headers=auth(resident))
    assert r.status_code == 200, r.text
    (item,) = r.json()["items"]
    assert item["title"] == "您的志愿者状态已更新"
    assert item["link"] == "shouwang://me"
    assert item["read"] is False
    english = await client.get(
        "/api/v1/me/notifications", headers={**auth(resident), "Accept-Language": "en"}
    )
    assert english.json()["items"][0]["title"] == "Your volunteer status was updated"
    count = await client.get("/api/v1/me/notifications/unread-count", headers=auth(resident))
    assert count.json() == {"unread": 1}

    theirs = await client.get("/api/v1/me/notifications", headers=auth(other))
    assert theirs.json()["items"] == []
    foreign = await client.post(f"/api/v1/me/notifications/{item['id']}/read", headers=auth(other))
    assert foreign.status_code == 404

    read = await client.post(f"/api/v1/me/notifications/{item['id']}/read", headers=auth(resident))
    assert read.status_code == 200, read.text
    assert read.json()["read"] is True
    count = await client.get("/api/v1/me/notifications/unread-count", headers=auth(resident))
    assert count.json() == {"unread": 0}
    all_read = await client.post("/api/v1/me/notifications/read-all", headers=auth(resident))
    assert all_read.json() == {"marked": 0}
    anonymous = await client.get("/api/v1/me/notifications")
    assert anonymous.status_code == 401


async def gql(
    client: httpx.AsyncClient, token: str, query: str, **variables: Any
) -> dict[str, Any]:
    r = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={**auth(token), "Accept-Language": "en"},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert "errors" not in body, body
    return dict(body["data"])


INBOX = """{ unreadNotificationCount
  notifications(first: 10) { edges { node { id title link read } } } }"""
MARK = """mutation($id: ID!) { markNotificationRead(id: $id) {
  __typename ... on NotificationPayload { notification { read } }
  ... on Problem { code } } }"""
NODE = """query($id: ID!) { node(id: $id) { id } }"""


async def test_graphql_inbox(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident = await activated_volunteer(client, app, settings, tree)
    other, _ = await resident_token(client, settings)
    await app.state.services.get(DeliveryService).drain()

    data = await gql(client, resident, INBOX)
    assert data["unreadNotificationCount"] == 1
    (edge,) = data["notifications"]["edges"]
    assert edge["node"]["title"] == "Your volunteer status was updated"
    nid = edge["node"]["id"]

    assert (await gql(client, other, NODE, id=nid))["node"] is None
    denied = await gql(client, other, MARK, id=nid)
    assert denied["markNotificationRead"]["code"] == "notification.not_found"
    assert (await gql(client, other, INBOX))["notifications"]["edges"] == []

    marked = await gql(client, resident, MARK, id=nid)
    assert marked["markNotificationRead"]["notification"]["read"] is True
    assert (await gql(client, resident, NODE, id=nid))["node"]["id"] == nid
    all_read = await gql(
        client,
        resident,
        "mutation { markAllNotificationsRead {"
        " ... on MarkAllNotificationsReadPayload { marked } } }",
    )
    assert all_read["markAllNotificationsRead"]["marked"] == 0
    assert (await gql(client, resident, INBOX))["unreadNotificationCount"] == 0
