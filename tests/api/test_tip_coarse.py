"""Auditors (read-only inspection staff) without a writing role at a tip's station see it
coarsened, over REST and GraphQL alike: the location snapped to its ~500 m cell centre and
times as relative buckets; officers of the station and the reporter see it exactly."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import account_id, due_in, step, submit, tip_body

from app.domain.shared.geo import GeoPoint
from app.domain.tips.views import coarsen
from app.settings import Settings

QUEUE = """{ tips(first: 50) { edges { node {
  uuid coarse submittedAt submittedAgo dueAt
  location { lon lat }
  feedback { at ago template }
  latestFeedback { at ago template message }
} } } }"""


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def gql(client: httpx.AsyncClient, query: str, token: str) -> Any:
    r = await client.post("/graphql", json={"query": query}, headers=auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


def cell_of(tree: OrgTree) -> list[float]:
    point = coarsen(GeoPoint(*tree.inside))
    return [point.lon, point.lat]


async def handled_tip(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> tuple[str, str, str]:
    """A named tip in the station, assigned and given an outcome with feedback; returns
    (tip id, the reporter's token, the officer's token)."""
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    officer_id = await account_id(client, officer)
    tid = str((await submit(client, resident, tip_body(tree)))["id"])
    await step(client, officer, tid, "assign", {"officer_id": officer_id, "due_at": due_in()})
    await step(client, officer, tid, "verify")
    await step(client, officer, tid, "outcome", {"outcome": "valid"})
    return tid, resident, officer


async def test_station_auditor_sees_coarse_tip_over_rest(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    tid, resident, officer = await handled_tip(client, app, settings, tree)
    auditor = await officer_token(client, app, unit_code=tree.station_code, role="auditor")
    lon, lat = tree.inside
    assert cell_of(tree) != [lon, lat]

    one = await client.get(f"/api/v1/tips/{tid}", headers=auth(auditor))
    assert one.status_code == 200, one.text
    seen = one.json()
    assert seen["coarse"] is True
    assert [seen["location"]["lon"], seen["location"]["lat"]] == cell_of(tree)
    assert seen["submitted_at"] is None
    assert seen["submitted_ago"] == "just_now"
    assert seen["due_at"] is None
    assert seen["station_id"] == str(tree.station_id)  # still staff: routing is shown
    assert [h["kind"] for h in seen["history"]] == ["submitted", "assigned", "verifying", "outcome"]
    assert all(h["at"] is None and h["ago"] == "just_now" for h in seen["history"])
    assigned = seen["history"][1]
    assert "due_at" not in assigned["detail"]
    assert "assignee_id" in assigned["detail"]
    assert seen["latest_feedback"]["template"] == "valid"
    assert seen["latest_feedback"]["at"] is None
    assert seen["latest_feedback"]["ago"] == "just_now"

    queue = await client.get("/api/v1/tips", headers=auth(auditor))
    assert queue.status_code == 200, queue.text
    [item] = queue.json()["items"]
    assert item["coarse"] is True
    assert item["submitted_at"] is None
    assert item["submitted_ago"] == "just_now"
    assert [item["location"]["lon"], item["location"]["lat"]] == cell_of(tree)
    assert item["latest_feedback"]["template"] == "valid"
    assert item["latest_feedback"]["at"] is None
    assert item["history"] is None

    mapped = await client.get("/api/v1/tips/map", headers=auth(auditor))
    assert mapped.status_code == 200, mapped.text
    [feature] = mapped.json()["features"]
    assert feature["geometry"]["coordinates"] == cell_of(tree)
    assert feature["properties"]["coarse"] is True

    # Officers of the station and the reporter see the same tip exactly.
    for token in (officer, resident):
        exact = (await client.get(f"/api/v1/tips/{tid}", headers=auth(token))).json()
        assert exact["coarse"] is False
        assert [exact["location"]["lon"], exact["location"]["lat"]] == [lon, lat]
        assert exact["submitted_at"] is not None
        assert exact["submitted_ago"] is None
        assert exact["feedback"][0]["at"] is not None
    staff = (await client.get(f"/api/v1/tips/{tid}", headers=auth(officer))).json()
    assert staff["due_at"] is not None
    assert "due_at" in staff["history"][1]["detail"]
    assert all(h["at"] is not None and h["ago"] is None for h in staff["history"])
    [officer_item] = (await client.get("/api/v1/tips", headers=auth(officer))).json()["items"]
    assert officer_item["coarse"] is False
    assert officer_item["latest_feedback"]["at"] is not None
    assert officer_item["latest_feedback"]["message"]
    officer_map = (await client.get("/api/v1/tips/map", headers=auth(officer))).json()
    assert officer_map["features"][0]["geometry"]["coordinates"] == [lon, lat]
    assert officer_map["features"][0]["properties"]["coarse"] is False


async def test_district_auditor_is_coarse_district_admin_exact_over_graphql(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    await handled_tip(client, app, settings, tree)
    auditor = await officer_token(client, app, unit_code=tree.district_code, role="auditor")
    admin = await officer_token(client, app, unit_code=tree.district_code, role="district_admin")
    lon, lat = tree.inside

    [coarse] = (await gql(client, QUEUE, auditor))["tips"]["edges"]
    node = coarse["node"]
    assert node["coarse"] is True
    assert node["submittedAt"] is None
    assert node["submittedAgo"] == "JUST_NOW"
    assert node["dueAt"] is None
    assert [node["location"]["lon"], node["location"]["lat"]] == cell_of(tree)
    assert node["latestFeedback"]["template"] == "valid"
    assert node["latestFeedback"]["at"] is None
    assert node["latestFeedback"]["ago"] == "JUST_NOW"
    assert node["feedback"] == [{"at": None, "ago": "JUST_NOW", "template": "valid"}]
    coarse_map = (await gql(client, "{ tipMap }", auditor))["tipMap"]
    assert coarse_map["features"][0]["geometry"]["coordinates"] == cell_of(tree)

    [exact] = (await gql(client, QUEUE, admin))["tips"]["edges"]
    node = exact["node"]
    assert node["coarse"] is False
    assert node["submittedAt"] is not None
    assert node["submittedAgo"] is None
    assert node["dueAt"] is not None
    assert [node["location"]["lon"], node["location"]["lat"]] == [lon, lat]
    assert node["latestFeedback"]["at"] is not None
    assert node["latestFeedback"]["ago"] is None
    exact_map = (await gql(client, "{ tipMap }", admin))["tipMap"]
    assert exact_map["features"][0]["geometry"]["coordinates"] == [lon, lat]


async def test_auditor_sees_its_own_tip_exactly(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    """An auditor who reported a tip by name in its own station is its reporter first."""
    auditor = await officer_token(client, app, unit_code=tree.station_code, role="auditor")
    resident, _ = await resident_token(client, settings)
    own = str((await submit(client, auditor, tip_body(tree)))["id"])
    others = str((await submit(client, resident, tip_body(tree)))["id"])

    items = (await client.get("/api/v1/tips", headers=auth(auditor))).json()["items"]
    by_id = {i["id"]: i for i in items}
    assert by_id[own]["coarse"] is False
    assert by_id[own]["submitted_at"] is not None
    assert by_id[others]["coarse"] is True
    assert by_id[others]["submitted_at"] is None
    single = (await client.get(f"/api/v1/tips/{own}", headers=auth(auditor))).json()
    assert single["coarse"] is False
    assert [single["location"]["lon"], single["location"]["lat"]] == list(tree.inside)
    mapped = (await client.get("/api/v1/tips/map", headers=auth(auditor))).json()
    coarse = {f["id"]: f["properties"]["coarse"] for f in mapped["features"]}
    assert coarse == {own: False, others: True}
