"""Points and rewards over GraphQL: the volunteer's balance and history, the officer's
pending approvals and budget, approving twice, typed problems, and scoped nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from strawberry.relay import to_base64
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.points import CountingGateway, drain, valid_tip
from support.tips import account_id

from app.domain.rewards.services import PayoutService
from app.infra.payments.dev import DevPaymentGateway
from app.settings import Settings

MY_POINTS = """{ myPoints { balance entries(first: 10) {
  edges { node { id uuid kind amount reason sourceType ruleVersion } } } } }"""
PROPOSE = """mutation($input: ProposeRewardInput!) { proposeReward(input: $input) {
  ... on RewardPayload { reward { id uuid status amountFen } }
  ... on Problem { code message } } }"""
APPROVE = """mutation($id: ID!) { approveReward(id: $id) {
  ... on RewardPayload { reward { status version } }
  ... on Problem { code } } }"""
PENDING = "{ rewards(status: [PROPOSED]) { edges { node { uuid status } } } }"
BUDGET = (
    "query($s: ID!) { rewardBudget(stationId: $s) { budgetFen committedFen pendingApprovals } }"
)
MY_REWARDS = "{ myRewards { edges { node { uuid status amountFen } } } }"
REDEEM = """mutation($item: UUID!) { redeemPoints(itemId: $item) {
  ... on RedeemPayload { redemption { status } }
  ... on Problem { code } } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on PointsEntry { amount } } }"


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


async def gql(client: httpx.AsyncClient, query: str, token: str, **variables: Any) -> Any:
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth(token)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


async def test_points_and_rewards_over_graphql(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree, gateway: CountingGateway
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other = await officer_token(client, app, unit_code=tree.other_station_code)
    admin = await officer_token(client, app, unit_code=tree.station_code, role="station_admin")
    reporter, _ = await resident_token(client, settings)
    reporter_id = await account_id(client, reporter)
    tid = await valid_tip(client, officer, reporter, tree)
    await drain(app)

    mine = (await gql(client, MY_POINTS, reporter))["myPoints"]
    assert mine["balance"] == 20
    [edge] = mine["entries"]["edges"]
    assert edge["node"]["kind"] == "CREDIT"
    assert edge["node"]["ruleVersion"] == 1
    entry_gid = edge["node"]["id"]
    assert (await gql(client, NODE, officer, id=entry_gid))["node"] == {"amount": 20}
    assert (await gql(client, NODE, other, id=entry_gid))["node"] is None

    bad = await gql(
        client,
        PROPOSE,
        officer,
        input={
            "sourceType": "tip",
            "sourceId": tid,
            "accountId": reporter_id,
            "outcome": "nothing",
        },
    )
    assert bad["proposeReward"]["code"] == "reward.no_rule"
    made = await gql(
        client,
        PROPOSE,
        officer,
        input={
            "sourceType": "tip",
            "sourceId": tid,
            "accountId": reporter_id,
            "outcome": "tip_valid",
        },
    )
    reward = made["proposeReward"]["reward"]
    assert (reward["status"], reward["amountFen"]) == ("PROPOSED", 1000)
    pending = await gql(client, PENDING, admin)
    assert reward["uuid"] in [e["node"]["uuid"] for e in pending["rewards"]["edges"]]
    station = to_base64("OrgUnit", str(tree.station_id))
    budget = (await gql(client, BUDGET, admin, s=station))["rewardBudget"]
    assert budget["pendingApprovals"] >= 1
    assert budget["committedFen"] == 0

    first = (await gql(client, APPROVE, admin, id=reward["id"]))["approveReward"]
    again = (await gql(client, APPROVE, admin, id=reward["id"]))["approveReward"]
    assert first["reward"]["status"] == again["reward"]["status"] == "APPROVED"
    assert first["reward"]["version"] == again["reward"]["version"]
    refused = (await gql(client, APPROVE, other, id=reward["id"]))["approveReward"]
    assert refused["code"] == "reward.not_found"
    await drain(app)
    assert len(gateway.transfers) == 1
    [mine_reward] = (await gql(client, MY_REWARDS, reporter))["myRewards"]["edges"]
    assert mine_reward["node"]["status"] == "PAID"

    nothing = (await gql(client, REDEEM, reporter, item=reward["uuid"]))["redeemPoints"]
    assert nothing["code"] == "points.item_not_found"
