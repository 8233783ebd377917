"""Emergency units (最小应急单元) through the REST API against the real database: a unit made
from an emergency-unit team by its station's officer, equipment with locations, another
station's officer finding nothing, capability claims refused without a valid certificate,
duty on and off, location batches accepted on duty (thinned to one per 30 s, last known
location updated) and refused off duty, the retention purge; and the GraphQL door."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry import relay
from support.auth import auth, officer_token
from support.emergency import east, first_aid_certificate, new_unit, point, sample, team, volunteer
from support.org import OrgTree, make_org_tree

from app.bootstrap.emergency import purge_expired_locations
from app.domain.shared.clock import FixedClock
from app.infra.db.tables.emergency import emergency_last_locations, emergency_location_samples
from app.infra.db.tables.platform import audit_log, outbox
from app.main import create_app, platform_of
from app.settings import Settings

BASE = "/api/v1/emergency-units"
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Beijing, a Monday


@dataclass
class Clocked:
    app: Any
    clock: FixedClock


@pytest.fixture(scope="module")
async def clocked(settings: Settings) -> AsyncIterator[Clocked]:
    clock = FixedClock(START)
    app = create_app(settings, clock=clock)
    yield Clocked(app, clock)
    await platform_of(app).aclose()


@pytest.fixture
async def c(clocked: Clocked) -> AsyncIterator[httpx.AsyncClient]:
    clocked.clock.set(START)
    transport = httpx.ASGITransport(app=clocked.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def tree(clocked: Clocked) -> OrgTree:
    return await make_org_tree(clocked.app)


async def test_unit_from_team_with_equipment_and_scope(
    c: httpx.AsyncClient, clocked: Clocked, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(c, clocked.app, unit_code=tree.station_code)
    foreign = await officer_token(c, clocked.app, unit_code=tree.other_station_code)
    leader, leader_id = await volunteer(c, settings, officer, tree, "张伟")
    member, member_id = await volunteer(c, settings, officer, tree, "李娜")
    tid = await team(c, officer, tree, [leader_id, member_id], "emergency_unit")

    # Another station's officer cannot even find the team.
    r = await c.post(BASE, json={"team_id": tid, "base": point(tree.inside)}, headers=auth(foreign))
    assert r.status_code == 404, r.text
    # A volunteer is no station staff.
    r = await c.post(BASE, json={"team_id": tid, "base": point(tree.inside)}, headers=auth(leader))
    assert r.status_code == 403, r.text

    r = await c.post(
        BASE,
        json={"team_id": tid, "base": point(tree.inside), "offers": ["first_aid", "water_rescue"]},
        headers=auth(officer),
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{BASE}/{tid}"
    unit = r.json()
    assert unit["id"] == tid
    assert unit["name"] == "花园社区最小应急单元"
    assert unit["leader_id"] == leader_id
    assert unit["station_id"] == str(tree.station_id)
    assert unit["offers"] == ["first_aid", "water_rescue"]
    assert unit["base"] == {"lon": tree.inside[0], "lat": tree.inside[1], "crs": "wgs84"}
    assert unit["equipment"] == []

    again = await c.post(
        BASE, json={"team_id": tid, "base": point(tree.inside)}, headers=auth(officer)
    )
    assert again.status_code == 409
    assert again.json()["code"] == "emergency.unit_exists"
    patrol = await team(c, officer, tree, [], "patrol")
    r = await c.post(
        BASE, json={"team_id": patrol, "base": point(tree.inside)}, headers=auth(officer)
    )
    assert r.status_code == 409
    assert r.json()["code"] == "emergency.not_an_emergency_team"

    # Who sees it: the station's officer and the members; another station's officer: 404.
    assert (await c.get(f"{BASE}/{tid}", headers=auth(foreign))).status_code == 404
    assert (await c.get(f"{BASE}/{tid}/members", headers=auth(foreign))).status_code == 404
    listed = await c.get(BASE, headers=auth(foreign))
    assert tid not in [u["id"] for u in listed.json()["items"]]
    mine = await c.get(BASE, headers=auth(member))
    assert [u["id"] for u in mine.json()["items"]] == [tid]
    got = await c.get(f"{BASE}/{tid}", headers=auth(officer))
    assert got.status_code == 200
    etag = got.headers["etag"]

    # Equipment: the leader registers an AED at the gate; a plain member may not.
    aed = {"kind": "aed", "location": point(tree.inside), "label": "花园小区东门保安亭"}
    r = await c.post(f"{BASE}/{tid}/equipment", json=aed, headers=auth(member))
    assert r.status_code == 403
    assert r.json()["code"] == "emergency.not_unit_manager"
    r = await c.post(
        f"{BASE}/{tid}/equipment", json=aed, headers={**auth(leader), "If-Match": etag}
    )
    assert r.status_code == 201, r.text
    [item] = r.json()["equipment"]
    assert item["kind_label"] == "自动体外除颤器（AED）"
    assert item["label"] == "花园小区东门保安亭"
    moved_to = (round(tree.inside[0] + 0.0002, 7), tree.inside[1])
    stale = await c.patch(
        f"{BASE}/{tid}/equipment/{item['id']}",
        json={"location": point(moved_to)},
        headers={**auth(officer), "If-Match": etag},
    )
    assert stale.status_code == 412
    r = await c.patch(
        f"{BASE}/{tid}/equipment/{item['id']}",
        json={"location": point(moved_to)},
        headers={**auth(officer), "If-Match": r.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["equipment"][0]["location"]["lon"] == moved_to[0]
    r = await c.delete(f"{BASE}/{tid}/equipment/{item['id']}", headers=auth(officer))
    assert r.status_code == 200
    assert r.json()["equipment"] == []
    gone = await c.delete(f"{BASE}/{tid}/equipment/{item['id']}", headers=auth(officer))
    assert gone.status_code == 404
    assert gone.json()["code"] == "emergency.equipment_not_found"

    # The leader sets a member's roster; staff see it in the member list.
    r = await c.put(
        f"{BASE}/{tid}/members/{member_id}/roster",
        json={"slots": [{"weekday": 5, "start": "19:00:00", "end": "23:00:00"}]},
        headers=auth(leader),
    )
    assert r.status_code == 200, r.text
    assert r.json()["roster"] == [{"weekday": 5, "start": "19:00:00", "end": "23:00:00"}]
    listed = await c.get(f"{BASE}/{tid}/members", headers=auth(officer))
    assert listed.status_code == 200, listed.text
    by_id = {m["volunteer_id"]: m for m in listed.json()["items"]}
    assert by_id[leader_id]["name"] == "张伟"
    assert by_id[leader_id]["is_leader"] is True
    assert by_id[member_id]["roster"][0]["weekday"] == 5
    assert by_id[member_id]["on_duty"] is False


async def test_capability_claim_needs_a_valid_certificate(
    c: httpx.AsyncClient, clocked: Clocked, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(c, clocked.app, unit_code=tree.station_code)
    leader, leader_id = await volunteer(c, settings, officer, tree, "王芳")
    tid = await team(c, officer, tree, [leader_id], "emergency_unit")
    await new_unit(c, officer, tree, tid)
    claim = f"/api/v1/me/emergency-units/{tid}/capabilities"

    r = await c.put(claim, json={"capabilities": ["first_aid"]}, headers=auth(leader))
    assert r.status_code == 403, r.text
    problem = r.json()
    assert problem["code"] == "emergency.capability_not_certified"
    assert "first_aid" in problem["detail"]

    await first_aid_certificate(c, officer, tree, leader_id)
    r = await c.put(claim, json={"capabilities": ["first_aid"]}, headers=auth(leader))
    assert r.status_code == 200, r.text
    assert r.json()["claimed"] == ["first_aid"]
    assert r.json()["capabilities"] == ["first_aid"]
    # Water rescue still lacks a certificate: the whole claim is refused, nothing changes.
    r = await c.put(
        claim, json={"capabilities": ["first_aid", "water_rescue"]}, headers=auth(leader)
    )
    assert r.status_code == 403
    listed = await c.get(f"{BASE}/{tid}/members", headers=auth(officer))
    [me] = listed.json()["items"]
    assert me["claimed"] == ["first_aid"]
    assert me["capabilities"] == ["first_aid"]


async def test_duty_locations_thinning_and_retention(
    c: httpx.AsyncClient,
    clocked: Clocked,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    officer = await officer_token(c, clocked.app, unit_code=tree.station_code)
    token, vid = await volunteer(c, settings, officer, tree, "刘洋")
    tid = await team(c, officer, tree, [vid], "emergency_unit")
    await new_unit(c, officer, tree, tid)
    here = tree.inside
    clock = clocked.clock

    # Off duty: no location is collected.
    r = await c.post(
        "/api/v1/me/locations", json={"samples": [sample(clock.now(), here)]}, headers=auth(token)
    )
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "emergency.off_duty"

    # 我现在可以响应 for two hours.
    until = clock.now() + timedelta(hours=2)
    r = await c.post(
        "/api/v1/me/duty",
        json={"status": "available", "until": until.isoformat()},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    duty = r.json()
    assert duty["on_duty"] is True
    assert duty["units"][0]["basis"] == "ad_hoc"
    assert datetime.fromisoformat(duty["until"]) == until

    # A batch: one taken before going on duty (dropped), then points 10-20 s apart:
    # at most one per 30 s is kept.
    went_on = clock.now()
    clock.advance(minutes=2)
    now = clock.now()
    points = [
        sample(went_on - timedelta(seconds=30), here),
        sample(now - timedelta(seconds=60), here),
        sample(now - timedelta(seconds=50), here),
        sample(now - timedelta(seconds=25), east(here, 0.0001)),
        sample(now - timedelta(seconds=10), east(here, 0.0002)),
    ]
    r = await c.post("/api/v1/me/locations", json={"samples": points}, headers=auth(token))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["kept"] == 2
    assert report["thinned"] == 2
    assert report["off_duty"] == 1
    last = report["last_location"]
    assert datetime.fromisoformat(last["at"]) == now - timedelta(seconds=25)
    assert last["location"]["lon"] == east(here, 0.0001)[0]
    # Sent again (a retry): nothing new is kept.
    r = await c.post("/api/v1/me/locations", json={"samples": points}, headers=auth(token))
    assert r.json()["kept"] == 0

    # Staff of the station see the last known location; the member sees their own track.
    listed = await c.get(f"{BASE}/{tid}/members", headers=auth(officer))
    [m] = listed.json()["items"]
    assert m["on_duty"] is True
    assert datetime.fromisoformat(m["last_location"]["at"]) == now - timedelta(seconds=25)
    track = await c.get("/api/v1/me/locations", headers=auth(token))
    assert [datetime.fromisoformat(s["at"]) for s in track.json()["items"]] == [
        now - timedelta(seconds=25),
        now - timedelta(seconds=60),
    ]
    async with session_factory() as s:
        known = (
            await s.execute(
                sa.select(emergency_last_locations.c.on_duty_until).where(
                    emergency_last_locations.c.volunteer_id == uuid.UUID(vid)
                )
            )
        ).scalar_one()
    assert known == until

    # Off duty: refused again; the last known location stays, marked off duty.
    r = await c.post("/api/v1/me/duty", json={"status": "off_duty"}, headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["on_duty"] is False
    r = await c.post(
        "/api/v1/me/locations", json={"samples": [sample(clock.now(), here)]}, headers=auth(token)
    )
    assert r.status_code == 409
    listed = await c.get(f"{BASE}/{tid}/members", headers=auth(officer))
    [m] = listed.json()["items"]
    assert m["on_duty"] is False
    assert m["last_location"] is not None

    async with session_factory() as s:
        events = (
            await s.execute(
                sa.select(outbox.c.event_type, outbox.c.payload)
                .where(
                    outbox.c.aggregate_id == uuid.UUID(vid),
                    outbox.c.event_type.like("emergency.%"),
                )
                .order_by(outbox.c.seq)
            )
        ).all()
        reported = (
            await s.execute(
                sa.select(sa.func.count())
                .select_from(audit_log)
                .where(
                    audit_log.c.action == "emergency.locations_reported",
                    audit_log.c.record_id == uuid.UUID(vid),
                )
            )
        ).scalar_one()
    assert [e.event_type for e in events] == [
        "emergency.member_available",
        "emergency.member_off_duty",
    ]
    assert events[0].payload["unit_id"] == tid
    assert reported == 2

    # Retention (7 days by default): eight days later both the track and the last known
    # location are gone.
    clock.advance(days=8)
    removed = await purge_expired_locations(clocked.app.state.services)
    assert removed >= 3
    async with session_factory() as s:
        left = (
            await s.execute(
                sa.select(sa.func.count())
                .select_from(emergency_location_samples)
                .where(emergency_location_samples.c.volunteer_id == uuid.UUID(vid))
            )
        ).scalar_one()
        last_left = (
            await s.execute(
                sa.select(sa.func.count())
                .select_from(emergency_last_locations)
                .where(emergency_last_locations.c.volunteer_id == uuid.UUID(vid))
            )
        ).scalar_one()
    assert (left, last_left) == (0, 0)


async def test_graphql_door_reaches_the_same_use_cases(
    c: httpx.AsyncClient, clocked: Clocked, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(c, clocked.app, unit_code=tree.station_code)
    foreign = await officer_token(c, clocked.app, unit_code=tree.other_station_code)
    token, vid = await volunteer(c, settings, officer, tree, "陈静")
    tid = await team(c, officer, tree, [vid], "emergency_unit")
    await new_unit(c, officer, tree, tid)

    async def gql(tok: str, query: str, **variables: Any) -> dict[str, Any]:
        r = await c.post(
            "/graphql", json={"query": query, "variables": variables}, headers=auth(tok)
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert "errors" not in body, body
        return dict(body["data"])

    until = (clocked.clock.now() + timedelta(hours=1)).isoformat()
    data = await gql(
        token,
        """mutation($until: DateTime!) { setMyDuty(available: true, until: $until) {
             __typename ... on MyDuty { onDuty units { unitId basis } } } }""",
        until=until,
    )
    assert data["setMyDuty"]["onDuty"] is True
    assert data["setMyDuty"]["units"] == [{"unitId": tid, "basis": "AD_HOC"}]

    clocked.clock.advance(minutes=1)
    at = clocked.clock.now().isoformat()
    data = await gql(
        token,
        """mutation($at: DateTime!, $lon: Float!, $lat: Float!) {
             reportMyLocations(samples: [{at: $at, location: {lon: $lon, lat: $lat}}]) {
               __typename ... on LocationReport { kept } } }""",
        at=at,
        lon=tree.inside[0],
        lat=tree.inside[1],
    )
    assert data["reportMyLocations"]["kept"] == 1

    gid = str(relay.GlobalID("EmergencyUnit", tid))
    query = """query($id: ID!) { emergencyUnitMembers(unit: $id) {
                 items { volunteerId onDuty lastLocation { lon } } } }"""
    data = await gql(officer, query, id=gid)
    [member] = data["emergencyUnitMembers"]["items"]
    assert member["volunteerId"] == vid
    assert member["onDuty"] is True
    assert member["lastLocation"]["lon"] == tree.inside[0]
    # Another station's officer: the unit does not exist for them, through either door.
    r = await c.post(
        "/graphql", json={"query": query, "variables": {"id": gid}}, headers=auth(foreign)
    )
    [error] = r.json()["errors"]
    assert error["extensions"]["code"] == "emergency.unit_not_found"
    data = await gql(foreign, "query($id: ID!) { node(id: $id) { id } }", id=gid)
    assert data["node"] is None
    data = await gql(
        officer,
        "query($id: ID!) { node(id: $id) { ... on EmergencyUnit { name offers } } }",
        id=gid,
    )
    assert data["node"] == {"name": "花园社区最小应急单元", "offers": ["FIRST_AID", "WATER_RESCUE"]}
