"""A named informant leaves no trail outside the sealed informant row: the access log does
not name who submitted or disputed a tip, and staff reading the points ledger or the
rewards see a tip's credit and reward without the account behind them (REST and
GraphQL). Only the account itself, and the handler through a reveal, learn the pair."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import to_base64
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.points import drain, valid_tip
from support.tips import account_id, submit, tip_body

from app.api import observability
from app.infra.db.tables.platform import audit_log
from app.settings import Settings

ENTRY = """query($id: ID!) { node(id: $id) {
  ... on PointsEntry { uuid accountId sourceType sourceId } } }"""
PROPOSE = """mutation($input: ProposeRewardInput!) { proposeReward(input: $input) {
  ... on RewardPayload { reward { id uuid accountId sourceId } }
  ... on Problem { code } } }"""
REWARDS = "{ rewards { edges { node { uuid accountId sourceId } } } }"


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


class AccessLines:
    """Stands in for the access logger: the fields of each line, in order."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append({"event": event, **fields})

    def of(self, method: str, route: str) -> list[Any]:
        return [
            line["account_id"]
            for line in self.lines
            if line["method"] == method and line["route"] == route
        ]


async def gql(client: httpx.AsyncClient, query: str, token: str, **variables: Any) -> Any:
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth(token)
    )
    assert r.status_code == 200, r.text
    assert "errors" not in r.json(), r.json()
    return r.json()["data"]


async def test_the_access_log_does_not_name_who_submits_or_disputes_a_tip(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    access = AccessLines()
    monkeypatch.setattr(observability, "access_log", access)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    officer_id = await account_id(client, officer)
    reporter, _ = await resident_token(client, settings)
    reporter_id = await account_id(client, reporter)

    tid = await valid_tip(client, officer, reporter, tree)
    anonymous = await submit(client, reporter, tip_body(tree, anonymous=True))
    disputed = await client.post(
        f"/api/v1/tips/{tid}/dispute",
        json={"reason": "可疑人员今天又在小区门口出现"},
        headers=auth(reporter),
    )
    assert disputed.status_code == 200, disputed.text
    assert (await client.get("/api/v1/me/tips", headers=auth(reporter))).status_code == 200

    assert access.of("POST", "/api/v1/tips") == [None, None]  # the named and the anonymous
    assert access.of("POST", "/api/v1/tips/{tip_id}/dispute") == [None]
    # Other requests still name their caller: the reporter's own reads, the officer's steps.
    assert access.of("GET", "/api/v1/me/tips") == [reporter_id]
    assert set(access.of("POST", "/api/v1/tips/{tip_id}/assign")) == {officer_id}
    # Nor does the audit log: a submission has no entry (its actor would be the informant).
    async with session_factory() as s:
        actions = (
            await s.execute(
                sa.select(audit_log.c.action).where(
                    audit_log.c.record_id.in_([tid, anonymous["id"]])
                )
            )
        ).scalars()
        assert sorted(set(actions)) == ["tip.assign", "tip.record_outcome", "tip.start_verifying"]


async def test_staff_see_a_tips_credit_and_reward_without_its_informant(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    handler = await officer_token(client, app, unit_code=tree.station_code)
    admin = await officer_token(client, app, unit_code=tree.station_code, role="station_admin")
    reporter, _ = await resident_token(client, settings)
    reporter_id = await account_id(client, reporter)
    tid = await valid_tip(client, handler, reporter, tree)
    await drain(app)  # the worker credits the tip's points

    # The reporter sees their own credit with its tip.
    mine = (await client.get("/api/v1/me/points", headers=auth(reporter))).json()
    [entry] = mine["items"]
    assert (entry["source_type"], entry["source_id"], entry["account_id"]) == (
        "tip",
        tid,
        reporter_id,
    )
    # Staff see the account and the reason, not which tip.
    for token in (handler, admin):
        listed = await client.get(
            f"/api/v1/points/entries?account_id={reporter_id}", headers=auth(token)
        )
        [seen] = listed.json()["items"]
        assert (seen["id"], seen["reason"], seen["source_type"]) == (
            entry["id"],
            "tip_valid",
            "tip",
        )
        assert seen["source_id"] is None
        one = await client.get(f"/api/v1/points/entries/{entry['id']}", headers=auth(token))
        assert one.json()["source_id"] is None
    node = (await gql(client, ENTRY, admin, id=to_base64("PointsEntry", entry["id"])))["node"]
    assert node == {
        "uuid": entry["id"],
        "accountId": reporter_id,
        "sourceType": "tip",
        "sourceId": None,
    }

    # A reward for the tip goes to its informant, whom staff are not shown.
    proposed = await client.post(
        "/api/v1/rewards",
        json={"source_type": "tip", "source_id": tid, "outcome": "tip_valid", "grade": "C"},
        headers=auth(handler),
    )
    assert proposed.status_code == 201, proposed.text
    reward = proposed.json()
    assert (reward["source_id"], reward["account_id"]) == (tid, None)
    approved = await client.post(f"/api/v1/rewards/{reward['id']}/approve", headers=auth(admin))
    assert (approved.json()["status"], approved.json()["account_id"]) == ("approved", None)
    got = await client.get(f"/api/v1/rewards/{reward['id']}", headers=auth(admin))
    assert got.json()["account_id"] is None
    listed = await client.get("/api/v1/rewards", headers=auth(admin))
    assert [(r["id"], r["account_id"]) for r in listed.json()["items"]] == [(reward["id"], None)]
    nodes = (await gql(client, REWARDS, admin))["rewards"]["edges"]
    assert [n["node"] for n in nodes] == [
        {"uuid": reward["id"], "accountId": None, "sourceId": tid}
    ]
    # The payee still has it.
    theirs = (await client.get("/api/v1/me/rewards", headers=auth(reporter))).json()["items"]
    assert [(r["id"], r["source_id"]) for r in theirs] == [(reward["id"], tid)]

    # Proposed over GraphQL, the same.
    other = await valid_tip(client, handler, reporter, tree)
    made = await gql(
        client,
        PROPOSE,
        handler,
        input={"sourceType": "tip", "sourceId": other, "outcome": "tip_valid"},
    )
    assert (
        made["proposeReward"]["reward"]["accountId"],
        made["proposeReward"]["reward"]["sourceId"],
    ) == (None, other)
