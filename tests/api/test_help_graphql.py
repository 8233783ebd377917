"""Help requests (群众求助) over GraphQL: ask, node scoping, nearby (coarse) for volunteers,
offer → accept → resolve → close, typed problems. Same service as REST."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.volunteers import activate, application

from app.settings import Settings

WALLET = "在武进万达广场丢失黑色钱包"
FIELDS = """id uuid audience kind description status outcome offerCount version age submittedAt
  location { lon lat precisionM } requesterId helper { maskedName volunteerNumber }
  myOffer { id status } offers { id status helper { maskedName } }"""
REQUEST = f"""
mutation($input: RequestHelpInput!) {{
  requestHelp(input: $input) {{
    __typename
    ... on HelpRequestPayload {{ created helpRequest {{ {FIELDS} }} }}
    ... on InvalidInput {{ code fields {{ field code }} }}
    ... on Problem {{ code message }}
  }}
}}
"""
OFFER = f"""
mutation($id: ID!, $note: String) {{
  offerHelp(id: $id, note: $note) {{
    ... on HelpRequestPayload {{ helpRequest {{ {FIELDS} }} }}
    ... on Problem {{ code }}
  }}
}}
"""
ACCEPT = f"""
mutation($id: ID!, $offer: UUID!, $version: Int) {{
  acceptHelpOffer(id: $id, offerId: $offer, expectedVersion: $version) {{
    ... on HelpRequestPayload {{ helpRequest {{ {FIELDS} }} }}
    ... on Problem {{ code }}
  }}
}}
"""
RESOLVE = """
mutation($id: ID!) {
  resolveHelpRequest(id: $id, outcome: NOT_FOUND, note: "已转交商场服务台") {
    ... on HelpRequestPayload { helpRequest { status outcome } }
    ... on Problem { code }
  }
}
"""
CLOSE = """
mutation($id: ID!) {
  closeHelpRequest(id: $id) {
    ... on HelpRequestPayload { helpRequest { status } }
    ... on Problem { code }
  }
}
"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on HelpRequest {{ {FIELDS} }} }} }}"
NEARBY = """
query($lon: Float!, $lat: Float!) {
  nearbyHelpRequests(near: {lon: $lon, lat: $lat}) {
    edges { node { uuid audience description requesterId submittedAt age
                   location { lon lat precisionM } } }
  }
}
"""
QUEUE = """
query($status: HelpStatus) {
  helpRequests(filter: {status: $status}) { edges { node { uuid requesterId } } }
}
"""
MINE = "{ myHelpRequests { edges { node { uuid offerCount audience } } } }"


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


async def volunteer_of(
    client: httpx.AsyncClient, settings: Settings, officer: str, tree: OrgTree
) -> str:
    token, _ = await resident_token(client, settings)
    r = await client.post(
        "/api/v1/volunteer-applications", json=application(tree), headers=auth(token)
    )
    assert r.status_code == 201, r.text
    await activate(client, officer, r.json()["id"])
    return token


def ask_input(tree: OrgTree, **extra: Any) -> dict[str, Any]:
    lon, lat = tree.inside
    return {
        "kind": "LOST_ITEM",
        "description": WALLET,
        "location": {"lon": lon, "lat": lat},
        **extra,
    }


async def test_help_journey_over_graphql(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other_officer = await officer_token(client, app, unit_code=tree.other_station_code)
    resident, _ = await resident_token(client, settings)
    volunteer = await volunteer_of(client, settings, officer, tree)
    stranger, _ = await resident_token(client, settings)

    client_id = str(uuid.uuid4())
    data = await gql(client, REQUEST, resident, input=ask_input(tree, id=client_id))
    payload = data["requestHelp"]
    assert payload["__typename"] == "HelpRequestPayload"
    assert payload["created"] is True
    asked = payload["helpRequest"]
    assert asked["uuid"] == client_id
    assert asked["audience"] == "REQUESTER"
    assert asked["status"] == "OPEN"
    assert asked["location"]["precisionM"] is None
    assert asked["requesterId"] is None
    retried = await gql(client, REQUEST, resident, input=ask_input(tree, id=client_id))
    assert retried["requestHelp"]["created"] is False
    assert retried["requestHelp"]["helpRequest"]["id"] == asked["id"]
    gid = asked["id"]

    # Staff of the station see who asked; others (and strangers) find nothing.
    as_staff = (await gql(client, NODE, officer, id=gid))["node"]
    assert as_staff["audience"] == "STAFF"
    assert as_staff["requesterId"]
    queue = await gql(client, QUEUE, officer, status="OPEN")
    assert client_id in [e["node"]["uuid"] for e in queue["helpRequests"]["edges"]]
    assert (await gql(client, NODE, other_officer, id=gid))["node"] is None
    assert (await gql(client, NODE, stranger, id=gid))["node"] is None

    # The volunteer nearby gets the coarse view.
    lon, lat = tree.inside
    nearby = await gql(client, NEARBY, volunteer, lon=lon, lat=lat)
    [node] = [
        e["node"] for e in nearby["nearbyHelpRequests"]["edges"] if e["node"]["uuid"] == client_id
    ]
    assert node["audience"] == "VOLUNTEER"
    assert node["description"] == WALLET
    assert node["requesterId"] is None
    assert node["submittedAt"] is None
    assert node["age"] == "JUST_NOW"
    assert node["location"]["precisionM"] == 500
    assert (node["location"]["lon"], node["location"]["lat"]) != (lon, lat)
    # Only serving volunteers may ask for nearby requests.
    r = await client.post(
        "/graphql",
        json={"query": NEARBY, "variables": {"lon": lon, "lat": lat}},
        headers=auth(stranger),
    )
    assert r.json()["errors"][0]["extensions"]["code"] == "help.not_serving_volunteer"

    offered = (await gql(client, OFFER, volunteer, id=gid, note="我在附近"))["offerHelp"]
    assert offered["helpRequest"]["myOffer"]["status"] == "ACTIVE"
    refused = await gql(client, OFFER, stranger, id=gid)
    assert refused["offerHelp"]["code"] == "help.not_found"
    own = await gql(client, OFFER, resident, id=gid)
    assert own["offerHelp"]["code"] == "help.not_serving_volunteer"

    staff_node = (await gql(client, NODE, officer, id=gid))["node"]
    [offer] = staff_node["offers"]
    assert offer["helper"]["maskedName"] == "张*"
    stale = await gql(client, ACCEPT, officer, id=gid, offer=offer["id"], version=1)
    assert stale["acceptHelpOffer"]["code"] == "stale_version"
    denied = await gql(client, ACCEPT, volunteer, id=gid, offer=offer["id"])
    assert denied["acceptHelpOffer"]["code"] == "help.not_found"
    accepted = await gql(
        client, ACCEPT, officer, id=gid, offer=offer["id"], version=staff_node["version"]
    )
    assert accepted["acceptHelpOffer"]["helpRequest"]["status"] == "IN_PROGRESS"

    as_helper = (await gql(client, NODE, volunteer, id=gid))["node"]
    assert as_helper["audience"] == "HELPER"
    assert as_helper["location"]["precisionM"] is None
    mine = (await gql(client, MINE, resident))["myHelpRequests"]["edges"]
    assert [(e["node"]["uuid"], e["node"]["offerCount"]) for e in mine] == [(client_id, 1)]
    as_requester = (await gql(client, NODE, resident, id=gid))["node"]
    assert as_requester["helper"]["maskedName"] == "张*"
    assert as_requester["offers"] is None

    resolved = await gql(client, RESOLVE, officer, id=gid)
    assert resolved["resolveHelpRequest"]["helpRequest"] == {
        "status": "RESOLVED",
        "outcome": "NOT_FOUND",
    }
    closed = await gql(client, CLOSE, officer, id=gid)
    assert closed["closeHelpRequest"]["helpRequest"]["status"] == "CLOSED"
    again = await gql(client, CLOSE, officer, id=gid)
    assert again["closeHelpRequest"]["code"] == "help.invalid_transition"


async def test_bad_help_input_over_graphql(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    blank = await gql(client, REQUEST, resident, input=ask_input(tree, description="  "))
    assert blank["requestHelp"]["__typename"] == "InvalidInput"
    assert blank["requestHelp"]["code"] == "help.description_invalid"
    assert blank["requestHelp"]["fields"] == [
        {"field": "description", "code": "description_invalid"}
    ]
    far = await gql(
        client, REQUEST, resident, input=ask_input(tree, location={"lon": 100.0, "lat": 40.0})
    )
    assert far["requestHelp"]["code"] == "help.outside_service_area"
    assert (await gql(client, MINE, resident))["myHelpRequests"]["edges"] == []
