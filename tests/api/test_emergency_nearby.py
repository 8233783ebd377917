"""GET /api/v1/emergency/nearby and the GraphQL query nearbyEmergencyResponders against the
real database: an officer finds the nearest units and on-duty members of their district
(members with distance and unit only, never a position); a volunteer is refused (403); a
radius out of range is 422; an officer of another district finds none of them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from integration.test_emergency_candidates import Seeder, north
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.volunteers import activate, application

from app.settings import Settings

URL = "/api/v1/emergency/nearby"
LATER = datetime.now(UTC) + timedelta(hours=2)


@pytest.fixture(scope="module")
async def world(app: Any, session_factory: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    tree = await make_org_tree(app)
    other = await make_org_tree(app)
    p = tree.inside
    w: dict[str, Any] = {"tree": tree, "other": other, "p": p}
    async with session_factory() as session:
        seed = Seeder(session)
        unit = await seed.unit(tree, north(p, 200), ["first_aid", "fire"], name="花园应急一队")
        w["unit"] = unit
        w["zhang"] = await seed.volunteer(tree, "张伟")
        await seed.member(unit, w["zhang"], ["first_aid", "fire"])
        await seed.located(w["zhang"], north(p, 100), LATER)
        w["li"] = await seed.volunteer(tree, "李娜")
        await seed.member(unit, w["li"], ["first_aid"], available_until=LATER)
        w["wang"] = await seed.volunteer(tree, "王芳")
        await seed.member(unit, w["wang"], ["first_aid"])
        await seed.located(w["wang"], north(p, 50), None)  # off duty
        await session.commit()
    return w


def query(p: tuple[float, float], **extra: Any) -> dict[str, Any]:
    return {"lon": p[0], "lat": p[1], **extra}


async def test_officer_finds_units_and_members_without_positions(
    client: httpx.AsyncClient, app: Any, world: dict[str, Any]
) -> None:
    tree: OrgTree = world["tree"]
    officer = await officer_token(client, app, unit_code=tree.station_code)
    r = await client.get(URL, params=query(world["p"], radius_m=1000), headers=auth(officer))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [u["unit_id"] for u in body["units"]] == [str(world["unit"])]
    assert body["units"][0]["on_duty"] == 2
    assert body["units"][0]["offers"] == ["fire", "first_aid"]
    assert body["units"][0]["distance_m"] == pytest.approx(200, abs=2)
    members = body["members"]
    assert [m["volunteer_id"] for m in members] == [str(world["zhang"]), str(world["li"])]
    assert members[0]["located"] is True
    assert members[1]["located"] is False
    assert members[0]["distance_m"] == pytest.approx(100, abs=2)
    assert set(members[0]) == {"volunteer_id", "unit_id", "distance_m", "located"}

    fire = await client.get(
        URL,
        params=[
            ("lon", world["p"][0]),
            ("lat", world["p"][1]),
            ("capability", "fire"),
            ("capability", "first_aid"),
            ("radius_m", 1000),
        ],
        headers=auth(officer),
    )
    assert fire.status_code == 200, fire.text
    assert [m["volunteer_id"] for m in fire.json()["members"]] == [str(world["zhang"])]

    # The other station's officer of the same district sees the district's responders.
    neighbour = await officer_token(client, app, unit_code=tree.other_station_code)
    same = await client.get(URL, params=query(world["p"], limit=1), headers=auth(neighbour))
    assert same.status_code == 200, same.text
    assert [m["volunteer_id"] for m in same.json()["members"]] == [str(world["zhang"])]


async def test_officer_of_another_district_sees_none(
    client: httpx.AsyncClient, app: Any, world: dict[str, Any]
) -> None:
    other: OrgTree = world["other"]
    officer = await officer_token(client, app, unit_code=other.station_code)
    r = await client.get(URL, params=query(world["p"], radius_m=20000), headers=auth(officer))
    assert r.status_code == 200, r.text
    seen = {m["volunteer_id"] for m in r.json()["members"]}
    assert seen.isdisjoint({str(world["zhang"]), str(world["li"])})
    assert str(world["unit"]) not in {u["unit_id"] for u in r.json()["units"]}


async def test_volunteer_refused_and_bad_input(
    client: httpx.AsyncClient, app: Any, settings: Settings, world: dict[str, Any]
) -> None:
    tree: OrgTree = world["tree"]
    officer = await officer_token(client, app, unit_code=tree.station_code)
    token, _ = await resident_token(client, settings)
    made = await client.post(
        "/api/v1/volunteer-applications", json=application(tree, name="赵磊"), headers=auth(token)
    )
    assert made.status_code == 201, made.text
    await activate(client, officer, str(made.json()["id"]))
    r = await client.get(URL, params=query(world["p"]), headers=auth(token))
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "emergency.not_dispatcher"

    for bad in ({"radius_m": 0}, {"radius_m": 20001}, {"limit": 201}):
        r = await client.get(URL, params=query(world["p"], **bad), headers=auth(officer))
        assert r.status_code == 422, r.text
        assert r.json()["code"].startswith("emergency."), r.text
    r = await client.get(URL, params=query(world["p"], capability="flying"), headers=auth(officer))
    assert r.status_code == 422, r.text
    r = await client.get(URL, params=query(world["p"]))
    assert r.status_code == 401, r.text


async def test_graphql_door(client: httpx.AsyncClient, app: Any, world: dict[str, Any]) -> None:
    tree: OrgTree = world["tree"]
    officer = await officer_token(client, app, unit_code=tree.station_code)
    lon, lat = world["p"]
    r = await client.post(
        "/graphql",
        json={
            "query": """query($lon: Float!, $lat: Float!) {
                nearbyEmergencyResponders(location: {lon: $lon, lat: $lat},
                                          capabilities: [FIRE], radiusM: 1000) {
                    units { unitId onDuty distanceM offers }
                    members { volunteerId unitId distanceM located }
                }
            }""",
            "variables": {"lon": lon, "lat": lat},
        },
        headers=auth(officer),
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]["nearbyEmergencyResponders"]
    assert [uuid.UUID(m["volunteerId"]) for m in data["members"]] == [world["zhang"]]
    assert [uuid.UUID(u["unitId"]) for u in data["units"]] == [world["unit"]]
