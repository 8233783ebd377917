"""The points ledger (积分) through REST: a valid named tip credits its reporter exactly
once through the worker (even when the event is delivered twice), rules are versioned,
staff see only their jurisdiction, redemption debits and reserves together, and a false
report's points are reversed (once)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.points import drain, my_points, redeliver, valid_tip
from support.tips import account_id, step
from support.volunteers import activate, application

from app.infra.db.tables.notifications import notifications
from app.infra.db.tables.points import points_entries
from app.settings import Settings


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def volunteer(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree, officer: str
) -> str:
    """An active volunteer of the tree's station (sees its catalogue); their token."""
    token, _ = await resident_token(client, settings)
    r = await client.post(
        "/api/v1/volunteer-applications", json=application(tree), headers=auth(token)
    )
    assert r.status_code == 201, r.text
    await activate(client, officer, str(r.json()["id"]))
    return token


async def test_valid_tip_credits_the_reporter_once(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other = await officer_token(client, app, unit_code=tree.other_station_code)
    reporter, _ = await resident_token(client, settings)
    reporter_id = await account_id(client, reporter)
    await drain(app)

    tid = await valid_tip(client, officer, reporter, tree)
    assert (await my_points(client, reporter))["balance"] == 0  # only the worker credits
    await drain(app)
    mine = await my_points(client, reporter)
    assert mine["balance"] == 20  # the default tip_valid rule, no grade
    [entry] = mine["items"]
    assert entry["kind"] == "credit"
    assert entry["amount"] == 20
    assert (entry["reason"], entry["source_type"], entry["source_id"]) == ("tip_valid", "tip", tid)
    assert entry["rule_version"] == 1
    assert entry["rule_id"]
    assert entry["account_id"] == reporter_id

    # The same event delivered again (a crash mid-batch) credits and notifies nothing more.
    await redeliver(
        app, session_factory, "tip.outcome_recorded", uuid.UUID(tid), "points.credit_reporter"
    )
    assert (await my_points(client, reporter))["balance"] == 20
    async with session_factory() as s:
        credits = (
            await s.execute(
                sa.select(sa.func.count())
                .select_from(points_entries)
                .where(points_entries.c.source_id == uuid.UUID(tid))
            )
        ).scalar_one()
        links = (
            await s.execute(
                sa.select(notifications.c.link, notifications.c.kind).where(
                    notifications.c.account_id == uuid.UUID(reporter_id),
                    notifications.c.kind == "points.credited",
                )
            )
        ).all()
    assert credits == 1
    assert [tuple(x) for x in links] == [(f"shouwang://points/{entry['id']}", "points.credited")]
    notes = await client.get("/api/v1/me/notifications", headers=auth(reporter))
    [note] = [n for n in notes.json()["items"] if n["kind"] == "points.credited"]
    assert note["title"] == "积分已到账"

    # Staff see entries of their jurisdiction only; outside it is simply not found.
    listed = await client.get(
        f"/api/v1/points/entries?account_id={reporter_id}", headers=auth(officer)
    )
    assert [e["id"] for e in listed.json()["items"]] == [entry["id"]]
    assert (
        await client.get(f"/api/v1/points/entries/{entry['id']}", headers=auth(other))
    ).status_code == 404
    theirs = await client.get("/api/v1/points/entries", headers=auth(other))
    assert entry["id"] not in [e["id"] for e in theirs.json()["items"]]
    assert (await client.get("/api/v1/points/entries", headers=auth(reporter))).status_code == 403

    # An anonymous valid tip earns nobody anything.
    anon = await valid_tip(client, officer, reporter, tree, anonymous=True)
    await drain(app)
    assert (await my_points(client, reporter))["balance"] == 20
    async with session_factory() as s:
        assert (
            await s.execute(
                sa.select(sa.func.count())
                .select_from(points_entries)
                .where(points_entries.c.source_id == uuid.UUID(anon))
            )
        ).scalar_one() == 0


async def test_rules_are_versioned_per_district(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    admin = await officer_token(client, app, unit_code=tree.district_code, role="district_admin")
    reporter, _ = await resident_token(client, settings)
    await valid_tip(client, officer, reporter, tree)
    await drain(app)

    forbidden = await client.put(
        "/api/v1/points/rules/tip_valid", json={"amount": 30}, headers=auth(officer)
    )
    assert forbidden.status_code == 403
    bad = await client.put(
        "/api/v1/points/rules/tip_valid",
        json={"amount": 30, "grade_amounts": {"Z": 1}},
        headers=auth(admin),
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "points.grade_invalid"
    r = await client.put(
        "/api/v1/points/rules/tip_valid",
        json={"amount": 30, "grade_amounts": {"A": 80, "B": 30, "C": 10}},
        headers=auth(admin),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["amount"]) == (2, 30)
    rules = await client.get("/api/v1/points/rules", headers=auth(officer))
    by_code = {x["code"]: x for x in rules.json()}
    assert by_code["tip_valid"]["version"] == 2
    assert by_code["hazard_verified"]["amount"] == 10  # the default, never edited

    await valid_tip(client, officer, reporter, tree)
    await drain(app)
    mine = await my_points(client, reporter)
    assert mine["balance"] == 50
    assert [(e["amount"], e["rule_version"]) for e in mine["items"]] == [(30, 2), (20, 1)]


async def test_redeem_debits_and_reserves_then_cancel_refunds(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other = await officer_token(client, app, unit_code=tree.other_station_code)
    reporter = await volunteer(client, settings, tree, officer)
    await valid_tip(client, officer, reporter, tree)
    await drain(app)
    assert (await my_points(client, reporter))["balance"] == 20

    item = await client.post(
        "/api/v1/points/items",
        json={
            "station_id": str(tree.station_id),
            "name": "反诈宣传帆布袋",
            "price": 15,
            "stock": 1,
        },
        headers=auth(officer),
    )
    assert item.status_code == 201, item.text
    iid = item.json()["id"]
    empty = await client.post(
        "/api/v1/points/items",
        json={"station_id": str(tree.station_id), "name": "平安志愿者马甲", "price": 1, "stock": 0},
        headers=auth(officer),
    )
    foreign = await client.post(
        "/api/v1/points/items",
        json={"station_id": str(tree.station_id), "name": "雨伞", "price": 1, "stock": 1},
        headers=auth(other),
    )
    assert foreign.status_code == 403
    shown = await client.get("/api/v1/points/items", headers=auth(reporter))
    assert {i["name"] for i in shown.json()} >= {"反诈宣传帆布袋", "平安志愿者马甲"}

    key = {"Idempotency-Key": uuid.uuid4().hex}
    r = await client.post(
        "/api/v1/points/redemptions", json={"item_id": iid}, headers={**auth(reporter), **key}
    )
    assert r.status_code == 201, r.text
    redemption = r.json()
    assert (redemption["status"], redemption["price"]) == ("reserved", 15)
    replay = await client.post(
        "/api/v1/points/redemptions", json={"item_id": iid}, headers={**auth(reporter), **key}
    )
    assert replay.json()["id"] == redemption["id"]  # same key: the same redemption
    mine = await my_points(client, reporter)
    assert mine["balance"] == 5
    assert mine["items"][0]["kind"] == "debit"
    assert mine["items"][0]["amount"] == -15

    poor = await client.post(
        "/api/v1/points/redemptions", json={"item_id": iid}, headers=auth(reporter)
    )
    assert poor.status_code == 409
    assert poor.json()["code"] == "points.insufficient"
    gone = await client.post(
        "/api/v1/points/redemptions", json={"item_id": empty.json()["id"]}, headers=auth(reporter)
    )
    assert gone.status_code == 409
    assert gone.json()["code"] == "points.out_of_stock"
    assert (await my_points(client, reporter))["balance"] == 5  # failed attempts changed nothing

    rid = redemption["id"]
    not_theirs = await client.post(f"/api/v1/points/redemptions/{rid}/cancel", headers=auth(other))
    assert not_theirs.status_code == 404
    cancelled = await client.post(f"/api/v1/points/redemptions/{rid}/cancel", headers=auth(officer))
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    mine = await my_points(client, reporter)
    assert mine["balance"] == 20
    assert mine["items"][0]["kind"] == "reversal"
    assert mine["items"][0]["reverses_id"] == redemption["debit_entry_id"]
    again = await client.post(f"/api/v1/points/redemptions/{rid}/fulfil", headers=auth(officer))
    assert again.status_code == 409
    # The unit is back in stock: redeem and hand over.
    r = await client.post(
        "/api/v1/points/redemptions", json={"item_id": iid}, headers=auth(reporter)
    )
    assert r.status_code == 201, r.text
    done = await client.post(
        f"/api/v1/points/redemptions/{r.json()['id']}/fulfil", headers=auth(officer)
    )
    assert done.json()["status"] == "fulfilled"
    listed = await client.get("/api/v1/me/points/redemptions", headers=auth(reporter))
    assert [x["status"] for x in listed.json()] == ["fulfilled", "cancelled"]


async def test_false_report_reverses_points_once_and_cancels_unpaid_reward(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    reporter, _ = await resident_token(client, settings)
    reporter_id = await account_id(client, reporter)
    tid = await valid_tip(client, officer, reporter, tree)
    await drain(app)
    [credit] = (await my_points(client, reporter))["items"]
    proposed = await client.post(
        "/api/v1/rewards",
        json={
            "source_type": "tip",
            "source_id": tid,
            "account_id": reporter_id,
            "outcome": "tip_valid",
        },
        headers=auth(officer),
    )
    assert proposed.status_code == 201, proposed.text

    bad = await client.post(
        f"/api/v1/points/entries/{credit['id']}/reverse",
        json={"reason": "  "},
        headers=auth(officer),
    )
    assert bad.status_code == 422
    denied = await client.post(
        f"/api/v1/points/entries/{credit['id']}/reverse",
        json={"reason": "不实"},
        headers=auth(reporter),
    )
    assert denied.status_code == 404
    r = await client.post(
        f"/api/v1/points/entries/{credit['id']}/reverse",
        json={"reason": "经复核该线索不实"},
        headers=auth(officer),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["amount"], r.json()["reverses_id"]) == (-20, credit["id"])
    twice = await client.post(
        f"/api/v1/points/entries/{credit['id']}/reverse",
        json={"reason": "再次冲正"},
        headers=auth(officer),
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "points.already_reversed"
    mine = await my_points(client, reporter)
    assert mine["balance"] == 0
    assert mine["items"][1]["reversed_by"] == r.json()["id"]

    await drain(app)  # points.reversed → the unpaid reward of the tip is cancelled
    reward = await client.get(f"/api/v1/rewards/{proposed.json()['id']}", headers=auth(officer))
    assert reward.json()["status"] == "cancelled"

    # A dispute of a valid outcome reverses that tip's credit through the worker.
    tid2 = await valid_tip(client, officer, reporter, tree)
    await drain(app)
    assert (await my_points(client, reporter))["balance"] == 20
    await step(client, reporter, tid2, "dispute", {"reason": "处理结果与事实不符"})
    await drain(app)
    mine = await my_points(client, reporter)
    assert mine["balance"] == 0
    assert mine["items"][0]["kind"] == "reversal"
    assert mine["items"][0]["source_id"] == tid2
