"""A published police appeal notifies the volunteers who can see it (in-app inbox, no
detail), once per account, through the outbox worker."""

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
from support.volunteers import activate, application

from app.domain.delivery.model import OutboxEvent
from app.domain.delivery.services import DeliveryService, HandlerRegistry
from app.infra.db.tables.notifications import notifications
from app.infra.db.tables.platform import outbox
from app.infra.db.tables.volunteers import team_memberships
from app.settings import Settings

BODY = "寻找走失老人：王某某，男，78岁，身穿蓝色外套"
HANDLER = "appeals.notify_volunteers"


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def applicant(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree, station: uuid.UUID
) -> tuple[str, str]:
    """A resident who applied as a volunteer of ``station``: (token, volunteer id)."""
    token, _ = await resident_token(client, settings)
    body = application(tree, station_id=str(station))
    if station != tree.station_id:
        body.pop("community_id")
    r = await client.post("/api/v1/volunteer-applications", json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    return token, str(r.json()["id"])


async def appeal_notes(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    r = await client.get(
        "/api/v1/me/notifications", headers={**auth(token), "Accept-Language": "zh"}
    )
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["kind"] == "appeal.published"]


async def test_volunteers_who_can_see_a_new_appeal_are_notified_once(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other_officer = await officer_token(client, app, unit_code=tree.other_station_code)
    near, near_vid = await applicant(client, settings, tree, tree.station_id)
    await activate(client, officer, near_vid)
    far, far_vid = await applicant(client, settings, tree, tree.other_station_id)
    await activate(client, other_officer, far_vid)
    teamed, teamed_vid = await applicant(client, settings, tree, tree.other_station_id)
    await activate(client, other_officer, teamed_vid)
    pending, _ = await applicant(client, settings, tree, tree.station_id)  # not yet vetted

    # A 新城 volunteer still in a 湖塘 team (joined before moving station) sees 湖塘's
    # appeals. Teams only admit their own station's volunteers, so the membership of the
    # moved volunteer is written directly.
    team = await client.post(
        "/api/v1/teams",
        json={"brand": "阳湖N警", "name": "湖塘平安义巡队", "type": "patrol"},
        headers=auth(officer),
    )
    assert team.status_code == 201, team.text
    async with session_factory() as s, s.begin():
        await s.execute(
            sa.insert(team_memberships).values(
                id=uuid.uuid4(),
                team_id=uuid.UUID(team.json()["id"]),
                volunteer_id=uuid.UUID(teamed_vid),
                joined_at=datetime.now(UTC),
            )
        )

    delivery = app.state.services.get(DeliveryService)
    await delivery.drain()  # the volunteers' own status notifications
    r = await client.post(
        "/api/v1/appeals",
        json={
            "kind": "missing_person",
            "title": "寻找走失老人",
            "body": BODY,
            "target": {"unit_ids": [str(tree.grid_id)]},
            "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        },
        headers={**auth(officer), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert await appeal_notes(client, near) == []  # only the worker delivers
    await delivery.drain()

    for token in (near, teamed):
        [note] = await appeal_notes(client, token)
        assert note["title"] == "新的协查通报"
        assert note["link"] == f"shouwang://appeals/{aid}"
        assert BODY not in str(note)
        assert "寻找走失老人" not in str(note)
        assert (await client.get(f"/api/v1/appeals/{aid}", headers=auth(token))).status_code == 200
    for token in (far, pending):
        assert await appeal_notes(client, token) == []
        assert (await client.get(f"/api/v1/appeals/{aid}", headers=auth(token))).status_code == 404

    # A redelivery of the same event (say after a crash mid-batch) adds nothing.
    async with session_factory() as s:
        row = (
            await s.execute(
                sa.select(outbox).where(
                    outbox.c.aggregate_id == uuid.UUID(aid),
                    outbox.c.event_type == "appeal.published",
                )
            )
        ).one()
    assert row.status == "delivered"
    event = OutboxEvent(
        row.seq,
        row.id,
        row.event_type,
        row.aggregate_type,
        row.aggregate_id,
        row.payload,
        row.occurred_at,
        row.attempts + 1,
    )
    [(name, handler)] = [
        (n, h)
        for n, h in app.state.services.get(HandlerRegistry).handlers_for("appeal.published")
        if n == HANDLER
    ]
    await handler(event, event.key(name))
    async with session_factory() as s:
        count = (
            await s.execute(
                sa.select(sa.func.count())
                .select_from(notifications)
                .where(notifications.c.link == f"shouwang://appeals/{aid}")
            )
        ).scalar_one()
    assert count == 2
    assert len(await appeal_notes(client, near)) == 1


async def test_a_withdrawn_appeal_notifies_nobody(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    near, near_vid = await applicant(client, settings, tree, tree.station_id)
    await activate(client, officer, near_vid)
    r = await client.post(
        "/api/v1/appeals",
        json={
            "kind": "appeal",
            "title": "协查嫌疑人",
            "body": "请留意一名戴黑色口罩、骑电动车的男子",
            "target": {"unit_ids": [str(tree.station_id)]},
            "expires_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        },
        headers={**auth(officer), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    withdrawn = await client.post(f"/api/v1/appeals/{aid}/withdraw", headers=auth(officer))
    assert withdrawn.status_code == 200, withdrawn.text
    await app.state.services.get(DeliveryService).drain()
    assert await appeal_notes(client, near) == []
