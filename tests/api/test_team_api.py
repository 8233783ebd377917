"""Teams through the REST API: create, roster with join/leave history, leader, scope."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fakes.volunteers import random_phone, random_resident_id
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.volunteers import activate, application

from app.infra.db.tables.volunteers import team_memberships
from app.settings import Settings


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def test_team_roster_leader_and_history(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    resident, _ = await resident_token(client, settings)
    vid = (
        await client.post(
            "/api/v1/volunteer-applications", json=application(tree), headers=auth(resident)
        )
    ).json()["id"]
    active = await activate(client, officer, vid)

    created = await client.post(
        "/api/v1/teams",
        json={"brand": "阳湖N警", "name": "湖塘平安义巡队", "type": "patrol"},
        headers=auth(officer),
    )
    assert created.status_code == 201, created.text
    team = created.json()
    tid = team["id"]
    assert team["station_id"] == str(tree.station_id)
    assert team["type_label"] == "平安义巡"
    assert created.headers["location"] == f"/api/v1/teams/{tid}"

    joined = await client.post(
        f"/api/v1/teams/{tid}/members", json={"volunteer_id": vid}, headers=auth(officer)
    )
    assert joined.status_code == 201, joined.text
    assert [m["volunteer_id"] for m in joined.json()["members"]] == [vid]
    assert joined.json()["members"][0]["name"] == "张伟"
    twice = await client.post(
        f"/api/v1/teams/{tid}/members", json={"volunteer_id": vid}, headers=auth(officer)
    )
    assert twice.status_code == 409

    led = await client.put(
        f"/api/v1/teams/{tid}/leader", json={"volunteer_id": vid}, headers=auth(officer)
    )
    assert led.status_code == 200, led.text
    assert led.json()["leader_id"] == vid
    me = (await client.get("/api/v1/me", headers=auth(resident))).json()
    assert {"volunteer", "team_leader"} <= {r["role"] for r in me["account"]["roles"]}
    assert [t["id"] for t in me["volunteer"]["teams"]] == [tid]

    badge = (await client.get(f"/api/v1/badges/{active['badge_token']}")).json()
    assert badge["teams"] == [{"brand": "阳湖N警", "name": "湖塘平安义巡队"}]

    # The volunteer sees their own team, but never a teammate's record.
    mine = await client.get(f"/api/v1/teams/{tid}", headers=auth(resident))
    assert mine.status_code == 200
    assert [m["volunteer_id"] for m in mine.json()["members"]] == [vid]

    left = await client.delete(f"/api/v1/teams/{tid}/members/{vid}", headers=auth(officer))
    assert left.status_code == 200, left.text
    assert left.json()["members"] == []
    assert left.json()["leader_id"] is None
    me = (await client.get("/api/v1/me", headers=auth(resident))).json()
    assert "team_leader" not in {r["role"] for r in me["account"]["roles"]}
    gone = await client.delete(f"/api/v1/teams/{tid}/members/{vid}", headers=auth(officer))
    assert gone.status_code == 404
    async with session_factory() as s:
        rows = (
            await s.execute(
                sa.select(team_memberships).where(team_memberships.c.team_id == uuid.UUID(tid))
            )
        ).all()
    assert len(rows) == 1
    assert rows[0].left_at is not None
    assert rows[0].left_at >= rows[0].joined_at


async def test_team_scope_rules_and_if_match(
    client: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    stranger = await officer_token(client, app, unit_code=tree.other_station_code)
    created = await client.post(
        "/api/v1/teams",
        json={"brand": "江东大妈", "name": "花园社区宣传队", "type": "prevention_publicity"},
        headers=auth(officer),
    )
    tid = created.json()["id"]
    assert (await client.get(f"/api/v1/teams/{tid}", headers=auth(stranger))).status_code == 404
    theirs = await client.get("/api/v1/teams?limit=200", headers=auth(stranger))
    assert tid not in {t["id"] for t in theirs.json()["items"]}
    ours = await client.get("/api/v1/teams?type=prevention_publicity", headers=auth(officer))
    assert tid in {t["id"] for t in ours.json()["items"]}

    url = f"/api/v1/teams/{tid}"
    assert (await client.patch(url, json={"name": "x"}, headers=auth(officer))).status_code == 428
    renamed = await client.patch(
        url,
        json={"name": "花园社区吾@安居宣传队"},
        headers={**auth(officer), "If-Match": created.headers["etag"]},
    )
    assert renamed.status_code == 200
    assert renamed.json()["version"] == 2
    stale = await client.patch(
        url, json={"name": "y"}, headers={**auth(officer), "If-Match": created.headers["etag"]}
    )
    assert stale.status_code == 412

    # An applicant (not yet serving) cannot join; a volunteer of another station is not found.
    applicant = await client.post(
        "/api/v1/volunteers",
        json={
            "name": "赵磊",
            "phone": random_phone(),
            "resident_id": random_resident_id(),
            "address": "常州市武进区湖塘镇",
            "station_id": str(tree.station_id),
            "source_category": "property_staff",
        },
        headers=auth(officer),
    )
    aid = applicant.json()["id"]
    refused = await client.post(
        f"/api/v1/teams/{tid}/members", json={"volunteer_id": aid}, headers=auth(officer)
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "team.volunteer_not_serving"
    foreign = await client.post(
        f"/api/v1/teams/{tid}/members", json={"volunteer_id": aid}, headers=auth(stranger)
    )
    assert foreign.status_code == 404
    not_member = await client.put(
        f"/api/v1/teams/{tid}/leader", json={"volunteer_id": aid}, headers=auth(officer)
    )
    assert not_member.status_code == 409
    assert not_member.json()["code"] == "team.leader_not_member"
