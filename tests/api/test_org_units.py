"""REST: the organisation tree as each caller's scope shows it, and /locate."""

from __future__ import annotations

import httpx
from support.auth import auth, officer_token, resident_token
from support.org import make_org_tree

from app.domain.shared.geo import Crs, GeoPoint, from_wgs84


async def test_station_officer_sees_own_subtree_and_district_only(
    client: httpx.AsyncClient, app: object
) -> None:
    tree = await make_org_tree(app)
    h = auth(await officer_token(client, app, unit_code=tree.station_code))
    r = await client.get("/api/v1/org-units", headers=h, params={"limit": 200})
    assert r.status_code == 200, r.text
    codes = {u["code"] for u in r.json()["items"]}
    assert codes == {tree.district_code, tree.station_code, tree.community_code, tree.grid_code}

    r = await client.get(f"/api/v1/org-units/{tree.other_station_id}", headers=h)
    assert r.status_code == 404
    assert r.json()["code"] == "org_unit.not_found"

    r = await client.get(f"/api/v1/org-units/{tree.district_id}/children", headers=h)
    assert r.status_code == 200
    assert [u["code"] for u in r.json()["items"]] == [tree.station_code]

    r = await client.get("/api/v1/org-units", headers=h, params={"level": "grid"})
    assert [u["id"] for u in r.json()["items"]] == [str(tree.grid_id)]

    r = await client.get(f"/api/v1/org-units/{tree.grid_id}", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert (body["name"], body["level"], body["boundary"]) == ("网格一", "grid", None)
    assert body["parent_id"] == str(tree.community_id)
    assert (body["station_id"], body["district_id"]) == (
        str(tree.station_id),
        str(tree.district_id),
    )
    assert r.headers["etag"] == f'W/"{tree.grid_id}-1"'


async def test_other_trees_are_invisible(client: httpx.AsyncClient, app: object) -> None:
    mine, theirs = await make_org_tree(app), await make_org_tree(app)
    h = auth(await officer_token(client, app, unit_code=mine.district_code, role="district_admin"))
    r = await client.get(f"/api/v1/org-units/{theirs.district_id}", headers=h)
    assert r.status_code == 404
    r = await client.get(f"/api/v1/org-units/{theirs.grid_id}/children", headers=h)
    assert r.status_code == 404
    r = await client.get("/api/v1/org-units", headers=h, params={"limit": 200})
    ids = {u["id"] for u in r.json()["items"]}
    assert str(mine.other_station_id) in ids
    assert str(theirs.station_id) not in ids


async def test_district_admin_pages_through_the_district(
    client: httpx.AsyncClient, app: object
) -> None:
    tree = await make_org_tree(app)
    h = auth(await officer_token(client, app, unit_code=tree.district_code, role="district_admin"))
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/org-units", headers=h, params=params)
        assert r.status_code == 200, r.text
        seen += [u["code"] for u in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(
        [
            tree.district_code,
            tree.station_code,
            tree.other_station_code,
            tree.community_code,
            tree.grid_code,
        ]
    )
    r = await client.get("/api/v1/org-units", headers=h, params={"cursor": "!!"})
    assert r.status_code == 422
    assert r.json()["code"] == "pagination.invalid_cursor"


async def test_boundary_in_wgs84_and_gcj02(client: httpx.AsyncClient, app: object) -> None:
    tree = await make_org_tree(app)
    h = auth(await officer_token(client, app, unit_code=tree.station_code, role="station_admin"))
    url = f"/api/v1/org-units/{tree.grid_id}"
    wgs = (await client.get(url, headers=h, params={"include": "boundary"})).json()["boundary"]
    assert wgs["type"] == "MultiPolygon"
    ring = wgs["coordinates"][0][0]
    assert len(ring) == 5
    x0, y0 = ring[0]
    assert abs(x0 - (tree.inside[0] - 0.001)) < 1e-9
    assert abs(y0 - (tree.inside[1] - 0.0015)) < 1e-9
    gcj = (await client.get(url, headers=h, params={"include": "boundary", "crs": "gcj02"})).json()[
        "boundary"
    ]
    expected = from_wgs84(GeoPoint(x0, y0), Crs.GCJ02)
    assert gcj["coordinates"][0][0][0] == [round(expected[0], 7), round(expected[1], 7)]
    r = await client.get(url, headers=h, params={"include": "everything"})
    assert r.status_code == 422


async def test_non_staff_and_anonymous_callers(
    client: httpx.AsyncClient, app: object, settings: object
) -> None:
    tree = await make_org_tree(app)
    r = await client.get("/api/v1/org-units")
    assert r.status_code == 401
    token, _ = await resident_token(client, settings)
    r = await client.get("/api/v1/org-units", headers=auth(token))
    assert r.status_code == 403
    assert r.json()["code"] == "organisation.staff_only"
    h = auth(await officer_token(client, app, unit_code=tree.station_code))
    r = await client.get("/api/v1/org-units/not-a-uuid", headers=h)
    assert r.status_code == 404


async def test_locate_for_any_signed_in_caller(
    client: httpx.AsyncClient, app: object, settings: object
) -> None:
    tree = await make_org_tree(app)
    token, _ = await resident_token(client, settings)
    lon, lat = tree.inside
    r = await client.get("/api/v1/locate", headers=auth(token), params={"lon": lon, "lat": lat})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outside"] is False
    assert body["grid_id"] == str(tree.grid_id)
    assert body["station"] == {
        "id": str(tree.station_id),
        "code": tree.station_code,
        "name": "湖塘派出所",
    }
    assert body["community"]["name"] == "花园社区"
    assert body["grid"]["name"] == "网格一"
    assert body["district"]["code"] == tree.district_code

    # The same place as a WeChat map reports it (GCJ-02).
    glon, glat = from_wgs84(GeoPoint(lon, lat), Crs.GCJ02)
    r = await client.get(
        "/api/v1/locate", headers=auth(token), params={"lon": glon, "lat": glat, "crs": "gcj02"}
    )
    assert r.json()["grid_id"] == str(tree.grid_id)
    # Read as WGS-84 the GCJ-02 numbers land hundreds of metres away, outside the grid.
    r = await client.get("/api/v1/locate", headers=auth(token), params={"lon": glon, "lat": glat})
    assert r.json()["grid_id"] != str(tree.grid_id)

    r = await client.get("/api/v1/locate", headers=auth(token), params={"lon": -70, "lat": -40})
    assert r.json() == {
        "outside": True,
        "district_id": None,
        "station_id": None,
        "community_id": None,
        "grid_id": None,
        "district": None,
        "station": None,
        "community": None,
        "grid": None,
    }
    r = await client.get("/api/v1/locate", params={"lon": lon, "lat": lat})
    assert r.status_code == 401
    r = await client.get("/api/v1/locate", headers=auth(token), params={"lon": 200, "lat": lat})
    assert r.status_code == 422
