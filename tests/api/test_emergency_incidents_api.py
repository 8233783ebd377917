"""Incidents and ring dispatch through the REST API against the real database: an officer
raises an incident near two on-duty members of a unit; both are alerted in the first
ring before the request returns; one accepts, goes and arrives, the other does not
answer and is escalated to push, then SMS, through the outbox; the timeline shows every
step; a volunteer sees their own response only; another station's officer and an
un-alerted volunteer find nothing; the officer stands everyone down; a drill yields
results and a readiness score; a volunteer raises an incident (never a drill)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from support.auth import auth, officer_token
from support.emergency import new_unit, point, sample, team, volunteer
from support.org import OrgTree, make_org_tree

from app.bootstrap.emergency import take_due_dispatch
from app.domain.delivery.services import DeliveryService
from app.domain.shared.clock import FixedClock
from app.infra.db.tables.platform import outbox
from app.main import create_app, platform_of
from app.settings import Settings

BASE = "/api/v1/emergency/incidents"
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


def near(tree: OrgTree, metres_east: float) -> tuple[float, float]:
    return (round(tree.inside[0] + metres_east / 94_800, 7), tree.inside[1])


async def on_duty(
    c: httpx.AsyncClient, clock: FixedClock, token: str, where: tuple[float, float]
) -> None:
    until = clock.now() + timedelta(hours=4)
    r = await c.post(
        "/api/v1/me/duty",
        json={"status": "available", "until": until.isoformat()},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    r = await c.post(
        "/api/v1/me/locations", json={"samples": [sample(clock.now(), where)]}, headers=auth(token)
    )
    assert r.status_code == 200, r.text


@dataclass
class Scene:
    officer: str
    a: str
    a_id: str
    b: str
    b_id: str
    unit_id: str


async def scene(c: httpx.AsyncClient, clocked: Clocked, settings: Settings, tree: OrgTree) -> Scene:
    officer = await officer_token(c, clocked.app, unit_code=tree.station_code)
    a, a_id = await volunteer(c, settings, officer, tree, "王芳")
    b, b_id = await volunteer(c, settings, officer, tree, "陈磊")
    tid = await team(c, officer, tree, [a_id, b_id], "emergency_unit")
    unit = await new_unit(c, officer, tree, tid)
    await on_duty(c, clocked.clock, a, near(tree, 80))
    await on_duty(c, clocked.clock, b, near(tree, 150))
    return Scene(officer, a, a_id, b, b_id, str(unit["id"]))


async def raise_fight(c: httpx.AsyncClient, token: str, tree: OrgTree, **extra: Any) -> Any:
    r = await c.post(
        BASE,
        json={
            "type": "fight",
            "severity": "high",
            "location": point(tree.inside),
            "description": "花园街菜场门口有人持械斗殴，已有人受伤",
            **extra,
        },
        headers=auth(token),
    )
    return r


async def outbox_rows(clocked: Clocked, incident_id: str) -> list[tuple[str, str]]:
    factory = platform_of(clocked.app).session_factory
    async with factory() as s:
        rows = await s.execute(
            sa.select(outbox.c.event_type, outbox.c.payload["member_id"].astext)
            .where(
                sa.or_(
                    outbox.c.aggregate_id == incident_id,
                    outbox.c.payload["incident_id"].astext == incident_id,
                )
            )
            .order_by(outbox.c.seq)
        )
        return [(r[0], r[1]) for r in rows]


async def test_raise_dispatch_answer_escalate_and_timeline(
    c: httpx.AsyncClient, clocked: Clocked, settings: Settings, tree: OrgTree
) -> None:
    clock = clocked.clock
    s = await scene(c, clocked, settings, tree)
    foreign = await officer_token(c, clocked.app, unit_code=tree.other_station_code)
    bystander, _ = await volunteer(c, settings, s.officer, tree, "赵敏")

    r = await raise_fight(c, s.officer, tree)
    assert r.status_code == 201, r.text
    incident = r.json()
    iid = incident["id"]
    assert r.headers["location"] == f"{BASE}/{iid}"
    assert incident["status"] == "dispatching"
    assert incident["drill"] is False
    assert incident["station_id"] == str(tree.station_id)
    assert incident["ring"] == 0
    # Both members within the first ring (300 m) were alerted before the request returned,
    # nearest first, through their unit.
    alerted = {x["member_id"]: x for x in incident["responses"]}
    assert set(alerted) == {s.a_id, s.b_id}
    assert {x["unit_id"] for x in alerted.values()} == {s.unit_id}
    assert [e["kind"] for e in incident["timeline"][:2]] == ["raised", "dispatch_started"]
    events = await outbox_rows(clocked, iid)
    assert events[0][0] == "emergency.incident_raised"  # the station is told first

    # Scope: another station's officer and a volunteer not alerted find nothing.
    for token in (foreign, bystander):
        r = await c.get(f"{BASE}/{iid}", headers=auth(token))
        assert r.status_code == 404, r.text
        r = await c.post(f"{BASE}/{iid}/response", json={"action": "accept"}, headers=auth(token))
        assert r.status_code in (403, 404), r.text
    r = await c.get(BASE, headers=auth(foreign))
    assert all(x["id"] != iid for x in r.json()["items"])

    # A accepts, is on the way and arrives; each step is timestamped.
    for action, seconds in (("accept", 20), ("on_my_way", 5), ("on_scene", 240)):
        clock.advance(seconds=seconds)
        r = await c.post(f"{BASE}/{iid}/response", json={"action": action}, headers=auth(s.a))
        assert r.status_code == 200, r.text
    mine = r.json()
    assert mine["my_response"]["status"] == "on_scene"
    assert [x["member_id"] for x in mine["responses"]] == [s.a_id]  # never B's
    assert all(e["member_id"] in (None, s.a_id) for e in mine["timeline"])
    # Arriving twice is refused and changes nothing.
    r = await c.post(f"{BASE}/{iid}/response", json={"action": "on_scene"}, headers=auth(s.a))
    assert r.status_code == 409, r.text
    r = await c.post(f"{BASE}/{iid}/response", json={"action": "dance"}, headers=auth(s.a))
    assert r.status_code == 422, r.text

    # B never answered: the escalation check found no realtime connection took the alert,
    # so push went at once, and SMS once 60 s had passed.
    await take_due_dispatch(clocked.app.state.services)
    sent = [e for e in await outbox_rows(clocked, iid) if e[0].startswith("emergency.alert_")]
    assert sent == [("emergency.alert_push", s.b_id), ("emergency.alert_sms", s.b_id)]
    await take_due_dispatch(clocked.app.state.services)  # nothing sent twice
    again = [e for e in await outbox_rows(clocked, iid) if e[0].startswith("emergency.alert_")]
    assert again == sent

    # The officer stands everyone down (police on scene); then resolves.
    r = await c.post(f"{BASE}/{iid}/stand-down", headers=auth(s.a))
    assert r.status_code == 403, r.text
    r = await c.post(f"{BASE}/{iid}/stand-down", headers=auth(foreign))
    assert r.status_code == 404, r.text
    clock.advance(seconds=30)
    r = await c.post(f"{BASE}/{iid}/stand-down", headers=auth(s.officer))
    assert r.status_code == 200, r.text
    done = r.json()
    assert {x["status"] for x in done["responses"]} == {"stood_down"}
    kinds = [e["kind"] for e in done["timeline"]]
    for kind in ("raised", "dispatch_started", "alerted", "accepted", "on_my_way", "on_scene"):
        assert kind in kinds
    assert kinds[-1] in ("all_stood_down", "stood_down")
    times = [datetime.fromisoformat(e["at"]) for e in done["timeline"]]
    assert times == sorted(times)
    r = await c.post(
        f"{BASE}/{iid}/resolve", json={"note": "民警到场，已处置"}, headers=auth(s.officer)
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved"
    r = await c.post(f"{BASE}/{iid}/cancel", json={"reason": "重复"}, headers=auth(s.officer))
    assert r.status_code == 409, r.text


async def test_drill_results_and_readiness(
    c: httpx.AsyncClient, clocked: Clocked, settings: Settings, tree: OrgTree
) -> None:
    clock = clocked.clock
    s = await scene(c, clocked, settings, tree)
    foreign = await officer_token(c, clocked.app, unit_code=tree.other_station_code)
    # A volunteer cannot raise a drill.
    r = await raise_fight(c, s.a, tree, drill=True)
    assert r.status_code == 403, r.text

    r = await raise_fight(c, s.officer, tree, drill=True)
    assert r.status_code == 201, r.text
    drill = r.json()
    assert drill["drill"] is True
    iid = drill["id"]
    clock.advance(seconds=30)
    await c.post(f"{BASE}/{iid}/response", json={"action": "accept"}, headers=auth(s.a))
    clock.advance(seconds=150)
    r = await c.post(f"{BASE}/{iid}/response", json={"action": "on_scene"}, headers=auth(s.a))
    assert r.status_code == 200, r.text
    clock.advance(seconds=10)
    await c.post(f"{BASE}/{iid}/response", json={"action": "decline"}, headers=auth(s.b))

    r = await c.get(f"{BASE}/{iid}/drill-results", headers=auth(s.officer))
    assert r.status_code == 200, r.text
    (result,) = r.json()["results"]
    assert result["unit_id"] == s.unit_id
    assert result["first_accept_s"] == 30.0
    assert result["first_arrival_s"] == 180.0
    assert result["response_share"] == 1.0
    # 0.3 × 1 (accept within 60 s) + 0.4 × 1 (arrival within 5 min) + 0.3 × 1 = 100
    assert result["score"] == 100.0

    # Drills never show up among real incidents.
    r = await c.get(BASE, params={"drill": "false"}, headers=auth(s.officer))
    assert all(x["id"] != iid for x in r.json()["items"])

    period = {
        "station_id": str(tree.station_id),
        "start": (START - timedelta(days=1)).isoformat(),
        "end": (START + timedelta(days=1)).isoformat(),
    }
    r = await c.get("/api/v1/emergency/readiness", params=period, headers=auth(s.officer))
    assert r.status_code == 200, r.text
    readiness = r.json()
    assert readiness["score"] == 100.0
    assert readiness["units"][0]["unit_id"] == s.unit_id
    assert readiness["units"][0]["drills"] == 1
    r = await c.get("/api/v1/emergency/readiness", params=period, headers=auth(foreign))
    assert r.status_code == 404, r.text
    r = await c.get("/api/v1/emergency/readiness", params=period, headers=auth(s.a))
    assert r.status_code == 403, r.text
    r = await c.get(f"{BASE}/{iid}/drill-results", headers=auth(foreign))
    assert r.status_code == 404, r.text


async def test_volunteer_raises_and_station_is_informed(
    c: httpx.AsyncClient, clocked: Clocked, settings: Settings, tree: OrgTree
) -> None:
    s = await scene(c, clocked, settings, tree)
    r = await raise_fight(c, s.a, tree)
    assert r.status_code == 201, r.text
    incident = r.json()
    assert incident["raised_by"] == "volunteer"
    # The raiser is alerted like any nearby member and sees the incident.
    r = await c.get(f"{BASE}/{incident['id']}", headers=auth(s.a))
    assert r.status_code == 200, r.text
    r = await c.get(BASE, params={"live": "true"}, headers=auth(s.officer))
    assert incident["id"] in [x["id"] for x in r.json()["items"]]
    events = await outbox_rows(clocked, incident["id"])
    assert events[0][0] == "emergency.incident_raised"
    # The station's staff are told (inbox, push) even when not on the realtime feed.
    await clocked.app.state.services.get(DeliveryService).drain()
    r = await c.get("/api/v1/me/notifications", headers=auth(s.officer))
    assert r.status_code == 200, r.text
    told = [n for n in r.json()["items"] if n["kind"] == "emergency.raised"]
    assert [n["link"] for n in told] == [f"shouwang://emergency-incidents/{incident['id']}"]
    r = await c.get("/api/v1/me/notifications", headers=auth(s.a))
    assert all(n["kind"] != "emergency.raised" for n in r.json()["items"])
    # Bad input: nothing stored.
    before = len((await c.get(BASE, headers=auth(s.officer))).json()["items"])
    r = await c.post(
        BASE,
        json={"type": "fight", "location": point(tree.inside), "description": "  "},
        headers=auth(s.a),
    )
    assert r.status_code == 422, r.text
    # Media that is unknown (or someone else's) is not found, and the incident not raised.
    r = await raise_fight(c, s.officer, tree, media_ids=[str(uuid.uuid4())])
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "media.not_found"
    assert len((await c.get(BASE, headers=auth(s.officer))).json()["items"]) == before


async def test_district_policy_shapes_the_next_incidents(
    c: httpx.AsyncClient, clocked: Clocked, settings: Settings, tree: OrgTree
) -> None:
    s = await scene(c, clocked, settings, tree)
    admin = await officer_token(c, clocked.app, unit_code=tree.district_code, role="district_admin")
    other = await make_org_tree(clocked.app)
    foreign_admin = await officer_token(
        c, clocked.app, unit_code=other.district_code, role="district_admin"
    )
    url = "/api/v1/emergency/dispatch-policies"
    q = {"district_id": str(tree.district_id)}

    r = await c.get(url, params=q, headers=auth(admin))
    assert r.status_code == 200, r.text
    fight = next(p for p in r.json() if p["incident_type"] == "fight")
    assert fight["customised"] is False
    assert fight["rings"][0]["radius_m"] == 300

    # One ring of 100 m alerting one member: only A (80 m away) is alerted, not B (150 m).
    body = {"rings": [{"radius_m": 100, "max_alerts": 1, "timeout_s": 30}], "needed_accepts": 1}
    r = await c.put(f"{url}/fight", params=q, json=body, headers=auth(s.officer))
    assert r.status_code in (403, 404), r.text
    r = await c.put(f"{url}/fight", params=q, json=body, headers=auth(foreign_admin))
    assert r.status_code == 404, r.text
    bad = {**body, "rings": [{"radius_m": 500, "max_alerts": 1, "timeout_s": 30}] * 2}
    r = await c.put(f"{url}/fight", params=q, json=bad, headers=auth(admin))
    assert r.status_code == 422, r.text
    r = await c.put(f"{url}/fight", params=q, json=body, headers=auth(admin))
    assert r.status_code == 200, r.text
    assert r.json()["customised"] is True

    r = await raise_fight(c, s.officer, tree)
    assert r.status_code == 201, r.text
    assert [x["member_id"] for x in r.json()["responses"]] == [s.a_id]

    r = await c.delete(f"{url}/fight", params=q, headers=auth(admin))
    assert r.status_code == 200, r.text
    assert r.json()["customised"] is False


async def test_graphql_door(
    c: httpx.AsyncClient, clocked: Clocked, settings: Settings, tree: OrgTree
) -> None:
    s = await scene(c, clocked, settings, tree)
    raise_q = """mutation($input: RaiseEmergencyIncidentInput!) {
      raiseEmergencyIncident(input: $input) {
        __typename
        ... on EmergencyIncidentPayload { incident { id status drill responses { memberId } } }
        ... on Problem { code }
      }
    }"""
    variables = {
        "input": {
            "type": "LOST_CHILD",
            "location": {"lon": tree.inside[0], "lat": tree.inside[1]},
            "description": "湖塘乐购门口走失一名5岁男孩，穿红色外套",
        }
    }
    r = await c.post(
        "/graphql", json={"query": raise_q, "variables": variables}, headers=auth(s.officer)
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"], r.text
    payload = r.json()["data"]["raiseEmergencyIncident"]
    assert payload["__typename"] == "EmergencyIncidentPayload", payload
    incident = payload["incident"]
    assert {x["memberId"] for x in incident["responses"]} == {s.a_id, s.b_id}

    respond_q = """mutation($id: UUID!) {
      respondToEmergencyIncident(id: $id, action: ACCEPT) {
        __typename
        ... on EmergencyIncidentPayload {
          incident { myResponse { status } responses { memberId } }
        }
        ... on Problem { code }
      }
    }"""
    r = await c.post(
        "/graphql",
        json={"query": respond_q, "variables": {"id": incident["id"]}},
        headers=auth(s.b),
    )
    answered = r.json()["data"]["respondToEmergencyIncident"]
    assert answered["incident"]["myResponse"]["status"] == "ACCEPTED", answered
    assert answered["incident"]["responses"] == [{"memberId": s.b_id}]

    foreign = await officer_token(c, clocked.app, unit_code=tree.other_station_code)
    read_q = "query($id: UUID!) { emergencyIncident(id: $id) { id } }"
    r = await c.post(
        "/graphql",
        json={"query": read_q, "variables": {"id": incident["id"]}},
        headers=auth(foreign),
    )
    body = r.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "incident.not_found"


async def test_scheduled_drill_is_raised_by_the_worker_at_its_time(
    c: httpx.AsyncClient, clocked: Clocked, settings: Settings, tree: OrgTree
) -> None:
    clock = clocked.clock
    s = await scene(c, clocked, settings, tree)
    foreign = await officer_token(c, clocked.app, unit_code=tree.other_station_code)
    url = "/api/v1/emergency/drills"
    body = {
        "type": "medical",
        "location": point(tree.inside),
        "description": "计划演练：花园社区老人突发疾病拉动测试",
        "scheduled_at": (START + timedelta(hours=2)).isoformat(),
    }
    for bad in (
        {**body, "scheduled_at": (START - timedelta(minutes=5)).isoformat()},
        {**body, "scheduled_at": (START + timedelta(days=400)).isoformat()},
        {**body, "description": "   "},
    ):
        r = await c.post(url, json=bad, headers=auth(s.officer))
        assert r.status_code == 422, r.text
    r = await c.post(url, json=body, headers=auth(s.a))
    assert r.status_code == 403, r.text
    r = await c.post(url, json=body, headers=auth(foreign))  # outside their jurisdiction
    assert r.status_code == 403, r.text

    r = await c.post(url, json=body, headers=auth(s.officer))
    assert r.status_code == 201, r.text
    planned = r.json()
    assert planned["status"] == "scheduled"
    assert planned["incident_id"] is None
    r = await c.post(url, json=body, headers=auth(s.officer))
    assert r.status_code == 201, r.text
    second = r.json()
    r = await c.get(f"{url}/{planned['id']}", headers=auth(foreign))
    assert r.status_code == 404, r.text
    r = await c.post(f"{url}/{second['id']}/cancel", headers=auth(s.officer))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"

    # Not yet due: nothing raised.
    services = clocked.app.state.services
    await take_due_dispatch(services)
    r = await c.get(f"{url}/{planned['id']}", headers=auth(s.officer))
    assert r.json()["status"] == "scheduled"
    # Its time comes: the worker raises it as a drill through the same dispatch path.
    clock.advance(hours=2, seconds=1)
    await take_due_dispatch(services)
    s.officer = await officer_token(c, clocked.app, unit_code=tree.station_code)  # 15 min TTL
    r = await c.get(f"{url}/{planned['id']}", headers=auth(s.officer))
    raised = r.json()
    assert raised["status"] == "raised"
    r = await c.get(f"{BASE}/{raised['incident_id']}", headers=auth(s.officer))
    assert r.status_code == 200, r.text
    incident = r.json()
    assert incident["drill"] is True
    assert incident["type"] == "medical"
    # Medical needs first aid: no certified member here, so nobody was alerted.
    assert incident["responses"] == []
    r = await c.post(f"{url}/{planned['id']}/cancel", headers=auth(s.officer))
    assert r.status_code == 409, r.text
    # The cancelled one never rises.
    r = await c.get(f"{url}/{second['id']}", headers=auth(s.officer))
    assert r.json()["status"] == "cancelled"
    assert r.json()["incident_id"] is None
    r = await c.get(url, params={"status": "raised"}, headers=auth(s.officer))
    assert [d["id"] for d in r.json()["items"]] == [planned["id"]]
