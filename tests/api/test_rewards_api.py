"""Cash rewards (奖励) through REST and the outbox worker: approving twice pays once,
large amounts need a second admin, the monthly budget holds, and a payout interrupted
after sending is reconciled by a query and paid exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.points import CountingGateway, drain, redeliver, valid_tip
from support.tips import account_id

from app.domain.rewards.services import PayoutService
from app.infra.payments.dev import DevPaymentGateway
from app.settings import Settings


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


@pytest.fixture
def gateway(app: Any, tmp_path: Path) -> Iterator[CountingGateway]:
    payouts = app.state.services.get(PayoutService)
    original = payouts.gateway
    counting = CountingGateway(DevPaymentGateway(tmp_path / "payouts.jsonl"))
    payouts.gateway = counting
    try:
        yield counting
    finally:
        payouts.gateway = original


async def propose(
    client: httpx.AsyncClient, officer: str, tid: str, account: str | None, **extra: Any
) -> dict[str, Any]:
    body = {"source_type": "tip", "source_id": tid, "account_id": account, "outcome": "tip_valid"}
    r = await client.post("/api/v1/rewards", json={**body, **extra}, headers=auth(officer))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def approve(client: httpx.AsyncClient, token: str, rid: str) -> httpx.Response:
    return await client.post(f"/api/v1/rewards/{rid}/approve", headers=auth(token))


async def test_approving_twice_pays_once(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    gateway: CountingGateway,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    admin = await officer_token(client, app, unit_code=tree.station_code, role="station_admin")
    other = await officer_token(
        client, app, unit_code=tree.other_station_code, role="station_admin"
    )
    reporter, _ = await resident_token(client, settings)
    reporter_id = await account_id(client, reporter)
    tid = await valid_tip(client, officer, reporter, tree)
    await drain(app)

    reward = await propose(client, officer, tid, reporter_id, grade="C")
    assert (reward["status"], reward["amount_fen"]) == ("proposed", 500)
    dup = await client.post(
        "/api/v1/rewards",
        json={
            "source_type": "tip",
            "source_id": tid,
            "account_id": reporter_id,
            "outcome": "tip_valid",
        },
        headers=auth(officer),
    )
    assert dup.status_code == 409
    assert dup.json()["code"] == "reward.exists"
    assert (await approve(client, officer, reward["id"])).status_code == 403  # not an admin
    assert (await approve(client, other, reward["id"])).status_code == 404  # not their station
    pending = await client.get("/api/v1/rewards?status=proposed", headers=auth(admin))
    assert reward["id"] in [x["id"] for x in pending.json()["items"]]

    first = await approve(client, admin, reward["id"])
    assert first.status_code == 200
    assert first.json()["status"] == "approved"
    second = await approve(client, admin, reward["id"])
    assert second.status_code == 200
    assert second.json()["status"] == "approved"
    assert second.json()["version"] == first.json()["version"]  # no-op: nothing changed
    await drain(app)
    await drain(app)
    await redeliver(
        app, session_factory, "reward.approved", uuid.UUID(reward["id"]), "rewards.payout"
    )

    assert gateway.transfers == [gateway.transfers[0]]  # sent once
    records = DevPaymentGateway(gateway.inner.path).records()  # type: ignore[attr-defined]
    assert len(records) == 1
    assert records[0]["amount_fen"] == 500
    assert records[0]["account_id"] == reporter_id
    mine = await client.get("/api/v1/me/rewards", headers=auth(reporter))
    [paid] = mine.json()["items"]
    assert (paid["status"], paid["amount_fen"]) == ("paid", 500)
    assert "proposed_by" not in paid
    notes = await client.get("/api/v1/me/notifications", headers=auth(reporter))
    [note] = [n for n in notes.json()["items"] if n["kind"] == "reward.paid"]
    assert note["title"] == "奖励已发放"
    assert note["link"] == f"shouwang://rewards/{reward['id']}"
    late = await client.post(
        f"/api/v1/rewards/{reward['id']}/cancel", json={"reason": "举报不实"}, headers=auth(admin)
    )
    assert late.status_code == 409  # paid: no cancelling

    budget = await client.get(
        f"/api/v1/rewards/budget?station_id={tree.station_id}", headers=auth(admin)
    )
    assert budget.status_code == 200, budget.text
    assert budget.json()["committed_fen"] == 500
    assert budget.json()["remaining_fen"] == budget.json()["budget_fen"] - 500


async def test_large_reward_needs_a_second_admin_and_the_budget_holds(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    gateway: CountingGateway,
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    admin = await officer_token(client, app, unit_code=tree.station_code, role="station_admin")
    admin2 = await officer_token(client, app, unit_code=tree.station_code, role="station_admin")
    rule = await client.put(
        f"/api/v1/rewards/rules/{tree.station_id}",
        json={
            "amounts": {"tip_valid": 1000, "tip_valid:A": 2000},
            "monthly_budget_fen": 2500,
            "second_approval_above_fen": 1000,
            "max_fen": 2000,
        },
        headers=auth(admin),
    )
    assert rule.status_code == 200, rule.text
    reporter, _ = await resident_token(client, settings)
    reporter_id = await account_id(client, reporter)

    big = await propose(
        client, officer, await valid_tip(client, officer, reporter, tree), reporter_id, grade="A"
    )
    assert big["amount_fen"] == 2000
    once = await approve(client, admin, big["id"])
    assert once.json()["status"] == "proposed"
    assert once.json()["first_approved_by"]
    assert (await approve(client, admin, big["id"])).json()["status"] == "proposed"
    done = await approve(client, admin2, big["id"])
    assert done.json()["status"] == "approved"

    small = await propose(
        client, officer, await valid_tip(client, officer, reporter, tree), reporter_id
    )
    over = await approve(client, admin, small["id"])  # 2000 + 1000 > 2500
    assert over.status_code == 409
    assert over.json()["code"] == "reward.budget_exceeded"
    assert (await client.get(f"/api/v1/rewards/{small['id']}", headers=auth(admin))).json()[
        "status"
    ] == "proposed"
    cancelled = await client.post(
        f"/api/v1/rewards/{small['id']}/cancel", json={"reason": "超出预算"}, headers=auth(officer)
    )
    assert cancelled.json()["status"] == "cancelled"
    await drain(app)
    assert len(gateway.transfers) == 1


async def test_crash_after_send_is_reconciled_and_pays_once(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    gateway: CountingGateway,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    admin = await officer_token(client, app, unit_code=tree.station_code, role="station_admin")
    reporter, _ = await resident_token(client, settings)
    reporter_id = await account_id(client, reporter)
    # No account named: the payee is the tip's named reporter.
    reward = await propose(
        client, officer, await valid_tip(client, officer, reporter, tree), None, grade="B"
    )
    assert reward["account_id"] is None  # a tip's payee is not named to staff
    await drain(app)

    gateway.crash_after_send = True
    assert (await approve(client, admin, reward["id"])).json()["status"] == "approved"
    await drain(app)  # the payout reaches the provider, then the worker "crashes"
    seen = await client.get(f"/api/v1/rewards/{reward['id']}", headers=auth(admin))
    assert seen.json()["status"] == "paying"  # started, the answer never recorded
    assert len(gateway.transfers) == 1

    # The event comes back (retry): the worker asks the provider first and does not send.
    await redeliver(
        app, session_factory, "reward.approved", uuid.UUID(reward["id"]), "rewards.payout"
    )
    assert gateway.queries == [gateway.transfers[0]]
    assert len(gateway.transfers) == 1
    seen = await client.get(f"/api/v1/rewards/{reward['id']}", headers=auth(admin))
    assert seen.json()["status"] == "paid"
    [record] = DevPaymentGateway(gateway.inner.path).records()  # type: ignore[attr-defined]
    assert record["account_id"] == reporter_id  # paid to the tip's named reporter
    await redeliver(
        app, session_factory, "reward.approved", uuid.UUID(reward["id"]), "rewards.payout"
    )
    assert len(gateway.transfers) == 1
    assert len(gateway.queries) == 1
