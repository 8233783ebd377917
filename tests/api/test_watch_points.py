"""REST: watch points (守望点) — routing by location, scope, ETags, GCJ-02 output."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree

from app.domain.shared.geo import Crs, GeoPoint, from_wgs84


def body(at: tuple[float, float], **extra: Any) -> dict[str, Any]:
    lon, lat = at
    return {
        "name": "花园小区北门守望点",
        "location": {"lon": lon, "lat": lat},
        "radius_m": 50,
    } | extra


async def officer(
    client: httpx.AsyncClient, app: object, tree: OrgTree, **kw: str
) -> dict[str, str]:
    return auth(
        await officer_token(
            client, app, unit_code=kw.get("unit", tree.station_code), role=kw.get("role", "officer")
        )
    )


async def test_create_routes_to_station_community_and_grid(
    client: httpx.AsyncClient, app: object
) -> None:
    tree = await make_org_tree(app)
    h = await officer(client, app, tree)
    r = await client.post("/api/v1/watch-points", headers=h, json=body(tree.inside))
    assert r.status_code == 201, r.text
    point = r.json()
    assert r.headers["location"] == f"/api/v1/watch-points/{point['id']}"
    assert r.headers["etag"] == f'W/"{point["id"]}-1"'
    assert (point["station_id"], point["community_id"], point["grid_id"], point["district_id"]) == (
        str(tree.station_id),
        str(tree.community_id),
        str(tree.grid_id),
        str(tree.district_id),
    )
    assert point["name"] == "花园小区北门守望点"
    assert point["code"].startswith(f"{tree.station_code}-WP")
    assert point["location"] == {"lon": tree.inside[0], "lat": tree.inside[1], "crs": "wgs84"}
    assert point["active"] is True
    assert len(point["qr_token"]) >= 22

    r = await client.get(f"/api/v1/watch-points/{point['id']}", headers=h, params={"crs": "gcj02"})
    assert r.status_code == 200
    lon, lat = from_wgs84(GeoPoint(*tree.inside), Crs.GCJ02)
    assert r.json()["location"] == {"lon": round(lon, 7), "lat": round(lat, 7), "crs": "gcj02"}


async def test_gcj02_input_is_stored_as_wgs84(client: httpx.AsyncClient, app: object) -> None:
    tree = await make_org_tree(app)
    h = await officer(client, app, tree)
    lon, lat = from_wgs84(GeoPoint(*tree.inside), Crs.GCJ02)
    payload = body(tree.inside) | {"location": {"lon": lon, "lat": lat, "crs": "gcj02"}}
    r = await client.post("/api/v1/watch-points", headers=h, json=payload)
    assert r.status_code == 201, r.text
    stored = r.json()["location"]
    assert abs(stored["lon"] - tree.inside[0]) < 1e-6
    assert abs(stored["lat"] - tree.inside[1]) < 1e-6
    assert r.json()["grid_id"] == str(tree.grid_id)


async def test_outside_the_callers_station_is_refused(
    client: httpx.AsyncClient, app: object
) -> None:
    tree = await make_org_tree(app)
    h = await officer(client, app, tree)
    for where in (tree.inside_other, (-70.0, -40.0)):
        r = await client.post(
            "/api/v1/watch-points", headers=h | {"Accept-Language": "en"}, json=body(where)
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "watch_point.outside_jurisdiction"
        assert "jurisdiction" in r.json()["detail"]
    admin = await officer(client, app, tree, unit=tree.district_code, role="district_admin")
    r = await client.post("/api/v1/watch-points", headers=admin, json=body(tree.inside_other))
    assert r.status_code == 201
    assert r.json()["station_id"] == str(tree.other_station_id)


async def test_who_may_create_and_list(
    client: httpx.AsyncClient, app: object, settings: object
) -> None:
    tree = await make_org_tree(app)
    auditor = await officer(client, app, tree, unit=tree.district_code, role="auditor")
    r = await client.post("/api/v1/watch-points", headers=auditor, json=body(tree.inside))
    assert r.status_code == 403
    assert r.json()["code"] == "watch_point.not_allowed"
    token, _ = await resident_token(client, settings)
    r = await client.post("/api/v1/watch-points", headers=auth(token), json=body(tree.inside))
    assert r.status_code == 403
    r = await client.get("/api/v1/watch-points", headers=auth(token))
    assert r.status_code == 403
    r = await client.get("/api/v1/watch-points")
    assert r.status_code == 401
    r = await client.post(
        "/api/v1/watch-points", headers=auditor, json=body(tree.inside, radius_m=5)
    )
    assert r.status_code == 422
    r = await client.post("/api/v1/watch-points", headers=auditor, json=body(tree.inside, x=1))
    assert r.status_code == 422


async def test_scope_officer_of_another_station_gets_404(
    client: httpx.AsyncClient, app: object
) -> None:
    tree = await make_org_tree(app)
    a = await officer(client, app, tree)
    b = await officer(client, app, tree, unit=tree.other_station_code)
    mine = (await client.post("/api/v1/watch-points", headers=a, json=body(tree.inside))).json()
    theirs = (
        await client.post("/api/v1/watch-points", headers=b, json=body(tree.inside_other))
    ).json()
    r = await client.get(f"/api/v1/watch-points/{mine['id']}", headers=b)
    assert r.status_code == 404
    assert r.json()["code"] == "watch_point.not_found"
    etag = f'W/"{mine["id"]}-1"'
    r = await client.patch(
        f"/api/v1/watch-points/{mine['id']}", headers=b | {"If-Match": etag}, json={"name": "改"}
    )
    assert r.status_code == 404
    r = await client.post(f"/api/v1/watch-points/{mine['id']}/deactivate", headers=b)
    assert r.status_code == 404
    listed = (await client.get("/api/v1/watch-points", headers=b)).json()["items"]
    assert [p["id"] for p in listed] == [theirs["id"]]
    auditor = await officer(client, app, tree, unit=tree.district_code, role="auditor")
    listed = (await client.get("/api/v1/watch-points", headers=auditor)).json()["items"]
    assert {p["id"] for p in listed} == {mine["id"], theirs["id"]}
    assert all(p["qr_token"] for p in listed)


async def test_filters_and_pages(client: httpx.AsyncClient, app: object) -> None:
    tree = await make_org_tree(app)
    h = await officer(client, app, tree, unit=tree.district_code, role="district_admin")
    x, y = tree.inside
    ids = []
    for i in range(3):
        payload = body((x + i * 0.0002, y), name=f"守望点{i}")
        ids.append(
            (await client.post("/api/v1/watch-points", headers=h, json=payload)).json()["id"]
        )
    other = (
        await client.post("/api/v1/watch-points", headers=h, json=body(tree.inside_other))
    ).json()["id"]
    by_grid = await client.get(
        "/api/v1/watch-points", headers=h, params={"grid_id": str(tree.grid_id)}
    )
    assert [p["id"] for p in by_grid.json()["items"]] == ids[::-1]
    by_station = await client.get(
        "/api/v1/watch-points", headers=h, params={"station_id": str(tree.other_station_id)}
    )
    assert [p["id"] for p in by_station.json()["items"]] == [other]
    near = await client.get(
        "/api/v1/watch-points", headers=h, params={"near": f"{x},{y}", "radius": 25}
    )
    assert [p["id"] for p in near.json()["items"]] == [ids[1], ids[0]]  # 0 m and ~19 m away
    glon, glat = from_wgs84(GeoPoint(x, y), Crs.GCJ02)
    near_gcj = await client.get(
        "/api/v1/watch-points",
        headers=h,
        params={"near": f"{glon},{glat}", "radius": 5, "crs": "gcj02"},
    )
    items = near_gcj.json()["items"]
    assert [p["id"] for p in items] == [ids[0]]
    assert items[0]["location"]["crs"] == "gcj02"
    bad = await client.get("/api/v1/watch-points", headers=h, params={"near": "abc"})
    assert bad.status_code == 422
    page1 = (
        await client.get(
            "/api/v1/watch-points",
            headers=h,
            params={"limit": 2, "station_id": str(tree.station_id)},
        )
    ).json()
    assert page1["next_cursor"]
    page2 = (
        await client.get(
            "/api/v1/watch-points",
            headers=h,
            params={"limit": 2, "station_id": str(tree.station_id), "cursor": page1["next_cursor"]},
        )
    ).json()
    assert [p["id"] for p in page1["items"] + page2["items"]] == ids[::-1]
    assert page2["next_cursor"] is None


async def test_edit_with_if_match(client: httpx.AsyncClient, app: object) -> None:
    tree = await make_org_tree(app)
    h = await officer(client, app, tree)
    created = await client.post("/api/v1/watch-points", headers=h, json=body(tree.inside))
    url = f"/api/v1/watch-points/{created.json()['id']}"
    etag = created.headers["etag"]

    r = await client.patch(url, headers=h, json={"name": "北门守望点"})
    assert r.status_code == 428
    r = await client.patch(
        url, headers=h | {"If-Match": etag}, json={"name": "北门", "radius_m": 120}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["radius_m"], r.json()["version"]) == ("北门", 120, 2)
    new_etag = r.headers["etag"]
    assert new_etag != etag
    r = await client.patch(url, headers=h | {"If-Match": etag}, json={"name": "旧版本"})
    assert r.status_code == 412
    assert r.json()["code"] == "stale_version"
    r = await client.patch(url, headers=h | {"If-Match": '"garbage"'}, json={"name": "x"})
    assert r.status_code == 412

    # Moving it re-routes; moving it into the other station is refused.
    x, y = tree.inside
    r = await client.patch(
        url,
        headers=h | {"If-Match": new_etag},
        json={"location": {"lon": x, "lat": y + 0.003}},  # above the grid, in the community
    )
    assert r.status_code == 200, r.text
    assert (r.json()["grid_id"], r.json()["community_id"]) == (None, str(tree.community_id))
    r = await client.patch(
        url,
        headers=h | {"If-Match": r.headers["etag"]},
        json={"location": {"lon": tree.inside_other[0], "lat": tree.inside_other[1]}},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "watch_point.outside_jurisdiction"


async def test_deactivate(client: httpx.AsyncClient, app: object) -> None:
    tree = await make_org_tree(app)
    h = await officer(client, app, tree, role="station_admin")
    created = await client.post("/api/v1/watch-points", headers=h, json=body(tree.inside))
    url = f"/api/v1/watch-points/{created.json()['id']}/deactivate"
    r = await client.post(url, headers=h | {"If-Match": 'W/"nope-1"'})
    assert r.status_code == 412
    r = await client.post(url, headers=h | {"If-Match": created.headers["etag"]})
    assert r.status_code == 200
    assert (r.json()["active"], r.json()["version"]) == (False, 2)
    r = await client.post(url, headers=h)
    assert r.status_code == 409
    assert r.json()["code"] == "watch_point.invalid_transition"
    active = await client.get(
        "/api/v1/watch-points",
        headers=h,
        params={"active": "true", "station_id": str(tree.station_id)},
    )
    assert active.json()["items"] == []


async def test_idempotent_create_and_unique_codes(client: httpx.AsyncClient, app: object) -> None:
    tree = await make_org_tree(app)
    h = await officer(client, app, tree)
    code = f"WP-{uuid.uuid4().hex[:8]}"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await client.post(
        "/api/v1/watch-points", headers=h | key, json=body(tree.inside, code=code)
    )
    again = await client.post(
        "/api/v1/watch-points", headers=h | key, json=body(tree.inside, code=code)
    )
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    r = await client.post("/api/v1/watch-points", headers=h, json=body(tree.inside, code=code))
    assert r.status_code == 409
    assert r.json()["code"] == "watch_point.code_taken"


async def test_directories_for_other_contexts(client: httpx.AsyncClient, app: Any) -> None:
    from app.domain.organisation.ports import OrgUnitDirectory, WatchPointDirectory

    tree = await make_org_tree(app)
    h = await officer(client, app, tree)
    created = (await client.post("/api/v1/watch-points", headers=h, json=body(tree.inside))).json()
    points = app.state.services.get_any(WatchPointDirectory)
    found = await points.by_qr_token(created["qr_token"])
    assert found is not None
    assert (str(found.id), found.grid_id) == (created["id"], tree.grid_id)
    assert await points.by_qr_token("not-a-token") is None
    assert set(await points.by_ids([found.id, uuid.uuid4()])) == {found.id}
    units = app.state.services.get_any(OrgUnitDirectory)
    station = await units.by_code(tree.station_code)
    assert (station.id, station.station_id, station.name) == (
        tree.station_id,
        tree.station_id,
        "湖塘派出所",
    )
    assert await units.by_code("NOPE-" + uuid.uuid4().hex) is None
    assert set(await units.by_ids([tree.grid_id, tree.other_station_id])) == {
        tree.grid_id,
        tree.other_station_id,
    }
