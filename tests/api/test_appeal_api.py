"""Police appeals through the REST API: publish, who sees them, clues linked as tips."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import tip_body
from support.volunteers import activate, application

from app.infra.db.tables.appeals import appeals
from app.settings import Settings

BODY = "寻找走失老人：王某某，男，78岁，身穿蓝色外套"


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


def appeal_body(tree: OrgTree, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "missing_person",
        "title": "寻找走失老人",
        "body": BODY,
        "target": {"unit_ids": [str(tree.grid_id)]},
        "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
    }
    body.update(extra)
    return body


async def volunteer_of(
    client: httpx.AsyncClient, settings: Settings, officer: str, tree: OrgTree, station: uuid.UUID
) -> str:
    token, _ = await resident_token(client, settings)
    body = application(tree, station_id=str(station))
    if station != tree.station_id:
        body.pop("community_id")
    r = await client.post("/api/v1/volunteer-applications", json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    await activate(client, officer, r.json()["id"])
    return token


async def publish(client: httpx.AsyncClient, officer: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/appeals",
        json=body,
        headers={**auth(officer), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/v1/appeals/{r.json()['id']}"
    return dict(r.json())


async def test_volunteers_of_the_target_area_see_the_appeal_and_send_clues(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other_officer = await officer_token(client, app, unit_code=tree.other_station_code)
    near = await volunteer_of(client, settings, officer, tree, tree.station_id)
    far = await volunteer_of(client, settings, other_officer, tree, tree.other_station_id)

    appeal = await publish(client, officer, appeal_body(tree))
    aid = appeal["id"]
    assert appeal["status"] == "published"
    assert appeal["station_id"] == str(tree.station_id)
    assert appeal["target"]["unit_ids"] == [str(tree.grid_id)]

    seen = await client.get(f"/api/v1/appeals/{aid}", headers=auth(near))
    assert seen.status_code == 200, seen.text
    assert seen.json()["body"] == BODY
    listed = await client.get("/api/v1/appeals", headers=auth(near))
    assert aid in [a["id"] for a in listed.json()["items"]]

    assert (await client.get(f"/api/v1/appeals/{aid}", headers=auth(far))).status_code == 404
    listed = await client.get("/api/v1/appeals", headers=auth(far))
    assert aid not in [a["id"] for a in listed.json()["items"]]
    assert (
        await client.get(f"/api/v1/appeals/{aid}", headers=auth(other_officer))
    ).status_code == 404

    clue = await client.post(
        "/api/v1/tips",
        json=tip_body(
            tree,
            category="missing_person",
            description="在花园社区东门看到一位穿蓝色外套的老人",
            appeal_id=aid,
        ),
        headers=auth(near),
    )
    assert clue.status_code == 201, clue.text
    clues = await client.get(f"/api/v1/appeals/{aid}/clues", headers=auth(officer))
    assert clues.status_code == 200, clues.text
    assert [t["id"] for t in clues.json()["items"]] == [clue.json()["id"]]
    assert (await client.get(f"/api/v1/appeals/{aid}/clues", headers=auth(near))).status_code == 403

    refused = await client.post(
        "/api/v1/tips", json=tip_body(tree, appeal_id=aid), headers=auth(far)
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "tip.appeal_unknown"

    async with session_factory() as session, session.begin():
        await session.execute(
            sa.update(appeals)
            .where(appeals.c.id == uuid.UUID(aid))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    assert (await client.get(f"/api/v1/appeals/{aid}", headers=auth(near))).status_code == 404
    listed = await client.get("/api/v1/appeals", headers=auth(near))
    assert aid not in [a["id"] for a in listed.json()["items"]]
    expired = await client.post(
        "/api/v1/tips", json=tip_body(tree, appeal_id=aid), headers=auth(near)
    )
    assert expired.status_code == 422
    assert expired.json()["code"] == "tip.appeal_unknown"
    # Staff still see it (for the record), with its status.
    staff = await client.get(f"/api/v1/appeals/{aid}", headers=auth(officer))
    assert staff.status_code == 200


async def test_publish_rules_and_withdraw(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    resident, _ = await resident_token(client, settings)
    near = await volunteer_of(client, settings, officer, tree, tree.station_id)

    r = await client.post("/api/v1/appeals", json=appeal_body(tree), headers=auth(resident))
    assert r.status_code == 403
    foreign = appeal_body(tree, target={"unit_ids": [str(tree.other_station_id)]})
    r = await client.post("/api/v1/appeals", json=foreign, headers=auth(officer))
    assert r.status_code == 422
    assert r.json()["code"] == "appeal.target_outside_jurisdiction"
    far_future = (datetime.now(UTC) + timedelta(days=91)).isoformat()
    r = await client.post(
        "/api/v1/appeals", json=appeal_body(tree, expires_at=far_future), headers=auth(officer)
    )
    assert r.status_code == 422
    assert r.json()["code"] == "appeal.expiry_invalid"

    x, y = tree.inside
    square = [
        [x - 0.0005, y - 0.0005],
        [x + 0.0005, y - 0.0005],
        [x + 0.0005, y + 0.0005],
        [x - 0.0005, y + 0.0005],
        [x - 0.0005, y - 0.0005],
    ]
    drawn = await publish(
        client,
        officer,
        appeal_body(tree, target={"polygon": {"type": "Polygon", "coordinates": [square]}}),
    )
    assert drawn["target"]["polygon"]["type"] == "MultiPolygon"
    assert (
        await client.get(f"/api/v1/appeals/{drawn['id']}", headers=auth(near))
    ).status_code == 200

    withdrawn = await client.post(
        f"/api/v1/appeals/{drawn['id']}/withdraw",
        headers={**auth(officer), "If-Match": f'W/"{drawn["id"]}-1"'},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["version"] == 2
    assert (
        await client.get(f"/api/v1/appeals/{drawn['id']}", headers=auth(near))
    ).status_code == 404
    listed = await client.get("/api/v1/appeals?status=withdrawn", headers=auth(officer))
    assert [a["id"] for a in listed.json()["items"]] == [drawn["id"]]
    again = await client.post(f"/api/v1/appeals/{drawn['id']}/withdraw", headers=auth(officer))
    assert again.status_code == 409
