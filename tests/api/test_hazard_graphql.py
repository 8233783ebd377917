"""Hazards (隐患) over GraphQL: report, the duplicate check, node scoping, merge → verify →
assign → rectify → re-inspect, the department's and the reporter's lists, statistics and
typed problems. Same services as REST."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from support.auth import auth, officer_token, resident_token
from support.hazards import (
    EBIKE,
    department,
    department_token,
    in_days,
    upload,
    volunteer_of,
)
from support.org import OrgTree, make_org_tree

from app.main import create_app, platform_of
from app.settings import Settings

FIELDS = """id uuid audience category description place status outcome duplicateOf
  departmentId deadline overdueLevel version reporterIds linkedIds
  location { lon lat crs } mediaIds afterMediaIds history { kind by }"""
RESULT = f"""
    __typename
    ... on HazardPayload {{ created hazard {{ {FIELDS}
      possibleDuplicates {{ id distanceM photoId status }} }} }}
    ... on InvalidInput {{ code fields {{ field code }} }}
    ... on Problem {{ code message }}
"""
REPORT = f"mutation($input: ReportHazardInput!) {{ reportHazard(input: $input) {{ {RESULT} }} }}"
MERGE = f"mutation($id: ID!, $into: UUID!) {{ mergeHazard(id: $id, into: $into) {{ {RESULT} }} }}"
VERIFY = f"mutation($id: ID!) {{ verifyHazard(id: $id, outcome: REAL) {{ {RESULT} }} }}"
ASSIGN = f"""mutation($id: ID!, $dep: UUID!, $deadline: Date!) {{
  assignHazard(id: $id, departmentId: $dep, deadline: $deadline) {{ {RESULT} }} }}"""
RECTIFY = f"""mutation($id: ID!, $photos: [UUID!]!) {{
  rectifyHazard(id: $id, afterMediaIds: $photos, note: "已拆除私拉电线") {{ {RESULT} }} }}"""
REINSPECT = f"""mutation($id: ID!) {{
  reinspectHazard(id: $id, passed: true, note: "复查合格") {{ {RESULT} }} }}"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Hazard {{ {FIELDS} }} }} }}"
NEARBY = """query($lon: Float!, $lat: Float!) {
  nearbyHazards(category: FIRE, near: {lon: $lon, lat: $lat, crs: WGS84}) {
    id category status distanceM photoId } }"""
QUEUE = "{ hazards { edges { node { uuid status audience } } } }"
MINE = "{ myHazards { edges { node { uuid status audience } } } }"
STATS = """{ hazardStats(level: GRID) { unitId verifiedReal rectifiedClosed
  rectificationRate overdue } }"""


@pytest.fixture(scope="module")
async def gql_app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = create_app(settings.model_copy(update={"media_dir": tmp_path_factory.mktemp("hzg")}))
    yield app
    await platform_of(app).aclose()


@pytest.fixture
async def c(gql_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gql_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def tree(gql_app: Any) -> OrgTree:
    return await make_org_tree(gql_app)


def gid(hazard_id: str) -> str:
    return base64.b64encode(f"Hazard:{hazard_id}".encode()).decode()


async def gql(
    c: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    r = await c.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=auth(token)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return dict(body["data"])


def report_input(at: tuple[float, float], photos: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "category": "FIRE",
            "description": EBIKE,
            "place": "花园小区3幢1单元",
            "location": {"lon": at[0], "lat": at[1], "crs": "WGS84"},
            "mediaIds": photos,
            **extra,
        }
    }


async def test_hazard_lifecycle_over_graphql(
    c: httpx.AsyncClient, gql_app: Any, settings: Settings, tree: OrgTree
) -> None:
    admin = await officer_token(c, gql_app, unit_code=tree.district_code, role="district_admin")
    officer = await officer_token(c, gql_app, unit_code=tree.station_code)
    foreign = await officer_token(c, gql_app, unit_code=tree.other_station_code)
    fire = await department(c, admin, tree, "武进区消防救援大队", "fire")
    fire_token, _ = await department_token(c, gql_app, admin, fire)
    first, _ = await resident_token(c, settings)
    second, _ = await resident_token(c, settings)

    # Typed problems for bad input; nothing stored.
    bad = await gql(c, first, REPORT, report_input(tree.inside, []))
    assert bad["reportHazard"]["__typename"] == "InvalidInput"
    assert bad["reportHazard"]["code"] == "hazard.photo_required"

    hid = str(uuid.uuid4())
    photo = await upload(c, first)
    made = await gql(c, first, REPORT, report_input(tree.inside, [photo], id=hid))
    payload = made["reportHazard"]
    assert payload["__typename"] == "HazardPayload"
    assert payload["created"] is True
    assert payload["hazard"]["uuid"] == hid
    assert payload["hazard"]["status"] == "REPORTED"
    assert payload["hazard"]["reporterIds"] is None
    retried = await gql(c, first, REPORT, report_input(tree.inside, [photo], id=hid))
    assert retried["reportHazard"]["created"] is False

    near = (tree.inside[0] + 0.0002, tree.inside[1])  # ~19 m east
    offered = await gql(c, second, NEARBY, {"lon": near[0], "lat": near[1]})
    [candidate] = offered["nearbyHazards"]
    assert candidate["id"] == hid
    assert candidate["photoId"] == photo
    assert candidate["distanceM"] == 20
    other = await gql(c, second, REPORT, report_input(near, [await upload(c, second)]))
    dup_id = other["reportHazard"]["hazard"]["uuid"]
    assert [d["id"] for d in other["reportHazard"]["hazard"]["possibleDuplicates"]] == [hid]

    # node() honours scope: the foreign station sees nothing.
    assert (await gql(c, foreign, NODE, {"id": gid(hid)}))["node"] is None
    staff = (await gql(c, officer, NODE, {"id": gid(hid)}))["node"]
    assert staff["audience"] == "STAFF"
    assert len(staff["reporterIds"]) == 1
    denied = await gql(c, foreign, VERIFY, {"id": gid(hid)})
    assert denied["verifyHazard"]["__typename"] == "NotFound"

    merged = await gql(c, officer, MERGE, {"id": gid(dup_id), "into": hid})
    assert merged["mergeHazard"]["hazard"]["linkedIds"] == [dup_id]
    assert len(merged["mergeHazard"]["hazard"]["reporterIds"]) == 2
    await gql(c, officer, VERIFY, {"id": gid(hid)})
    again = await gql(c, officer, VERIFY, {"id": gid(hid)})
    assert again["verifyHazard"]["__typename"] == "Conflict"
    assert again["verifyHazard"]["code"] == "hazard.invalid_transition"
    deadline = in_days(5)
    assigned = await gql(c, officer, ASSIGN, {"id": gid(hid), "dep": fire, "deadline": deadline})
    assert assigned["assignHazard"]["hazard"]["deadline"] == deadline
    assert assigned["assignHazard"]["hazard"]["departmentId"] == fire

    queue = await gql(c, fire_token, QUEUE)
    assert [e["node"]["uuid"] for e in queue["hazards"]["edges"]] == [hid]
    assert queue["hazards"]["edges"][0]["node"]["audience"] == "DEPARTMENT"
    not_theirs = await gql(c, fire_token, VERIFY, {"id": gid(hid)})
    assert not_theirs["verifyHazard"]["__typename"] == "NotAllowed"
    after = await upload(c, fire_token)
    fixed = await gql(c, fire_token, RECTIFY, {"id": gid(hid), "photos": [after]})
    assert fixed["rectifyHazard"]["hazard"]["status"] == "RECTIFIED"
    assert fixed["rectifyHazard"]["hazard"]["afterMediaIds"]

    volunteer = await volunteer_of(c, settings, officer, tree)
    closed = await gql(c, volunteer, REINSPECT, {"id": gid(hid)})
    assert closed["reinspectHazard"]["hazard"]["status"] == "CLOSED"

    mine = await gql(c, second, MINE)
    assert {e["node"]["uuid"] for e in mine["myHazards"]["edges"]} == {hid, dup_id}
    [row] = [
        r for r in (await gql(c, officer, STATS))["hazardStats"] if r["unitId"] == str(tree.grid_id)
    ]
    assert row["verifiedReal"] == 1
    assert row["rectifiedClosed"] == 1
    assert row["rectificationRate"] == 1.0
    refused = await c.post("/graphql", json={"query": STATS}, headers=auth(first))
    assert refused.json()["errors"]
