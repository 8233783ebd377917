"""GraphQL: org units and watch points as scoped relay nodes; locate; mutations with
typed errors."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from support.auth import auth, officer_token
from support.org import make_org_tree

from app.domain.shared.geo import Crs, GeoPoint, from_wgs84


def gid(type_name: str, value: object) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


async def gql(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: Any
) -> dict[str, Any]:
    r = await client.post(
        "/graphql", headers=headers, json={"query": query, "variables": variables}
    )
    assert r.status_code == 200, r.text
    payload: dict[str, Any] = r.json()
    return payload


UNITS = """
query($level: OrgUnitLevel, $parentId: ID, $first: Int!, $after: String) {
  orgUnits(level: $level, parentId: $parentId, first: $first, after: $after) {
    edges { cursor node { id uuid code name level parent { code } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

NODE = """
query($id: ID!) {
  node(id: $id) {
    ... on OrgUnit { code name boundary(crs: GCJ02) children { edges { node { code } } } }
    ... on WatchPoint { code qrToken station { code } grid { name } }
  }
}"""


async def test_org_units_connection_and_scoped_nodes(
    client: httpx.AsyncClient, app: object
) -> None:
    tree = await make_org_tree(app)
    h = auth(await officer_token(client, app, unit_code=tree.station_code))
    data = (await gql(client, h, UNITS, first=50))["data"]["orgUnits"]
    codes = {e["node"]["code"] for e in data["edges"]}
    assert codes == {tree.district_code, tree.station_code, tree.community_code, tree.grid_code}
    grid = next(e["node"] for e in data["edges"] if e["node"]["code"] == tree.grid_code)
    assert grid["name"] == "网格一"
    assert grid["level"] == "GRID"
    assert grid["parent"] == {"code": tree.community_code}
    assert grid["id"] == gid("OrgUnit", tree.grid_id)

    page = (await gql(client, h, UNITS, first=2))["data"]["orgUnits"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = (await gql(client, h, UNITS, first=50, after=page["pageInfo"]["endCursor"]))["data"]
    assert len(page["edges"]) + len(rest["orgUnits"]["edges"]) == 4

    grids = (await gql(client, h, UNITS, first=50, level="GRID"))["data"]["orgUnits"]["edges"]
    assert [e["node"]["code"] for e in grids] == [tree.grid_code]
    kids = await gql(client, h, UNITS, first=50, parentId=gid("OrgUnit", tree.district_id))
    assert [e["node"]["code"] for e in kids["data"]["orgUnits"]["edges"]] == [tree.station_code]

    own = (await gql(client, h, NODE, id=gid("OrgUnit", tree.district_id)))["data"]["node"]
    assert own["code"] == tree.district_code
    assert [e["node"]["code"] for e in own["children"]["edges"]] == [tree.station_code]
    assert own["boundary"]["type"] == "MultiPolygon"
    foreign = await gql(client, h, NODE, id=gid("OrgUnit", tree.other_station_id))
    assert foreign["data"]["node"] is None
    assert "errors" not in foreign


async def test_locate_query(client: httpx.AsyncClient, app: object) -> None:
    tree = await make_org_tree(app)
    h = auth(await officer_token(client, app, unit_code=tree.station_code))
    lon, lat = from_wgs84(GeoPoint(*tree.inside), Crs.GCJ02)
    query = """query($lon: Float!, $lat: Float!) {
      locate(lon: $lon, lat: $lat, crs: GCJ02) {
        outside station { uuid code name } community { name } grid { id code name }
      }}"""
    placed = (await gql(client, h, query, lon=lon, lat=lat))["data"]["locate"]
    assert placed["outside"] is False
    assert placed["station"] == {
        "uuid": str(tree.station_id),
        "code": tree.station_code,
        "name": "湖塘派出所",
    }
    assert placed["community"] == {"name": "花园社区"}
    assert placed["grid"]["id"] == gid("OrgUnit", tree.grid_id)
    outside = (await gql(client, h, query, lon=-70.0, lat=-40.0))["data"]["locate"]
    assert outside == {"outside": True, "station": None, "community": None, "grid": None}
    anonymous = await gql(client, {}, query, lon=lon, lat=lat)
    assert anonymous["errors"][0]["extensions"]["code"] == "auth.unauthenticated"


CREATE = """
mutation($input: CreateWatchPointInput!) {
  createWatchPoint(input: $input) {
    __typename
    ... on WatchPointPayload {
      watchPoint { id uuid code version radiusM qrToken location(crs: GCJ02) { lon lat crs }
                   station { code } community { code } grid { code } }
    }
    ... on Problem { code message }
    ... on InvalidInput { fields { field code } }
  }
}"""

UPDATE = """
mutation($id: ID!, $v: Int!, $input: UpdateWatchPointInput!) {
  updateWatchPoint(id: $id, expectedVersion: $v, input: $input) {
    __typename
    ... on WatchPointPayload { watchPoint { name version radiusM } }
    ... on Problem { code }
  }
}"""

DEACTIVATE = """
mutation($id: ID!) {
  deactivateWatchPoint(id: $id) {
    __typename
    ... on WatchPointPayload { watchPoint { active version } }
    ... on Problem { code }
  }
}"""


async def test_watch_point_mutations_and_queries(client: httpx.AsyncClient, app: object) -> None:
    tree = await make_org_tree(app)
    h = auth(await officer_token(client, app, unit_code=tree.station_code))
    lon, lat = tree.inside
    made = await gql(
        client,
        h,
        CREATE,
        input={"name": "花园小区北门守望点", "radiusM": 50, "location": {"lon": lon, "lat": lat}},
    )
    result = made["data"]["createWatchPoint"]
    assert result["__typename"] == "WatchPointPayload", result
    point = result["watchPoint"]
    assert (point["station"]["code"], point["community"]["code"], point["grid"]["code"]) == (
        tree.station_code,
        tree.community_code,
        tree.grid_code,
    )
    glon, glat = from_wgs84(GeoPoint(lon, lat), Crs.GCJ02)
    assert point["location"] == {"lon": round(glon, 7), "lat": round(glat, 7), "crs": "GCJ02"}
    assert len(point["qrToken"]) >= 22

    outside = await gql(
        client,
        h | {"Accept-Language": "en"},
        CREATE,
        input={
            "name": "新城守望点",
            "radiusM": 50,
            "location": {"lon": tree.inside_other[0], "lat": tree.inside_other[1]},
        },
    )
    problem = outside["data"]["createWatchPoint"]
    assert (problem["__typename"], problem["code"]) == (
        "InvalidInput",
        "watch_point.outside_jurisdiction",
    )
    too_big = await gql(
        client,
        h,
        CREATE,
        input={"name": "大", "radiusM": 5000, "location": {"lon": lon, "lat": lat}},
    )
    assert too_big["data"]["createWatchPoint"]["fields"] == [
        {"field": "radius_m", "code": "out_of_range"}
    ]

    stale = await gql(client, h, UPDATE, id=point["id"], v=7, input={"name": "改名"})
    assert stale["data"]["updateWatchPoint"] == {"__typename": "Conflict", "code": "stale_version"}
    updated = await gql(
        client, h, UPDATE, id=point["id"], v=1, input={"name": "北门", "radiusM": 80}
    )
    assert updated["data"]["updateWatchPoint"]["watchPoint"] == {
        "name": "北门",
        "version": 2,
        "radiusM": 80,
    }

    other = auth(await officer_token(client, app, unit_code=tree.other_station_code))
    hidden = await gql(client, other, NODE, id=point["id"])
    assert hidden["data"]["node"] is None
    denied = await gql(client, other, DEACTIVATE, id=point["id"])
    assert denied["data"]["deactivateWatchPoint"] == {
        "__typename": "NotFound",
        "code": "watch_point.not_found",
    }
    listed = await gql(client, other, "{ watchPoints(first: 50) { edges { node { id } } } }")
    assert point["id"] not in {e["node"]["id"] for e in listed["data"]["watchPoints"]["edges"]}

    seen = (await gql(client, h, NODE, id=point["id"]))["data"]["node"]
    assert seen["station"] == {"code": tree.station_code}
    assert seen["grid"] == {"name": "网格一"}
    assert seen["qrToken"] == point["qrToken"]
    mine = await gql(
        client,
        h,
        "query($g: ID) { watchPoints(gridId: $g, first: 10) { edges { node { id active } } } }",
        g=gid("OrgUnit", tree.grid_id),
    )
    assert [e["node"]["id"] for e in mine["data"]["watchPoints"]["edges"]] == [point["id"]]

    done = await gql(client, h, DEACTIVATE, id=point["id"])
    assert done["data"]["deactivateWatchPoint"]["watchPoint"] == {"active": False, "version": 3}
    again = await gql(client, h, DEACTIVATE, id=point["id"])
    assert again["data"]["deactivateWatchPoint"] == {
        "__typename": "Conflict",
        "code": "watch_point.invalid_transition",
    }
