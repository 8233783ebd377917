"""GraphQL door of cash rewards (奖励): the payee's rewards, staff lists (pending
approvals), budgets, and propose / approve / cancel (same service as REST)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app.api.graphql.context import Info
from app.api.graphql.errors import MutationProblem, problem_of
from app.api.graphql.relay import first_of, keyset_connection, node_uuid, resolve_scoped
from app.api.pagination import after_id
from app.domain.rewards.errors import RewardNotFound
from app.domain.rewards.model import Reward, RewardStatus
from app.domain.rewards.services import NewReward, RewardService
from app.domain.shared.errors import DomainError, NotFound
from app.domain.shared.scope import Scope

strawberry.enum(RewardStatus, name="RewardStatus", description="Reward and payout status")


def reward_loader(info: Info) -> DataLoader[UUID, Reward | None]:
    service = info.context.services.get(RewardService)

    async def fetch(scope: Scope, keys: list[UUID]) -> dict[UUID, Reward]:
        found: dict[UUID, Reward] = {}
        for key in keys:
            try:
                found[key] = await service.get(scope, key)
            except NotFound:
                continue
        return found

    return info.context.scoped_loader("rewards.by_id", fetch)


@strawberry.type(name="Reward", description="A cash reward (奖励) for a verified report.")
class RewardNode(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    station_id: UUID
    account_id: UUID | None = strawberry.field(
        description="The payee. A tip's reward names it only to the payee: to staff it "
        "would name the tip's informant."
    )
    source_type: str
    source_id: UUID
    outcome: str
    grade: str | None
    amount_fen: int
    status: RewardStatus
    approved_at: datetime | None
    paid_at: datetime | None
    version: int

    @classmethod
    def of(cls, r: Reward) -> RewardNode:
        return cls(
            id=str(r.id),
            uuid=r.id,
            station_id=r.station_id,
            account_id=r.account_id,
            source_type=r.source_type,
            source_id=r.source_id,
            outcome=r.outcome,
            grade=r.grade,
            amount_fen=r.amount_fen,
            status=r.status,
            approved_at=r.approved_at,
            paid_at=r.paid_at,
            version=r.version,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[RewardNode | None]:
        return await resolve_scoped(node_ids, reward_loader(info), cls.of, RewardNotFound, required)


@strawberry.type(name="RewardBudget")
class RewardBudgetType:
    station_id: UUID
    month_start: str
    budget_fen: int
    committed_fen: int
    remaining_fen: int
    pending_approvals: int


@strawberry.type
class RewardsQuery:
    @strawberry.field(description="Your rewards and their payout status, newest first.")
    async def my_rewards(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> relay.Connection[RewardNode]:
        scope = await info.context.scope()
        page = await info.context.services.get(RewardService).mine(
            scope, limit=first_of(first), after=after_id(after)
        )
        return keyset_connection(page.items, RewardNode.of, more=page.has_more)

    @strawberry.field(description="Rewards of your stations (staff); PROPOSED = pending.")
    async def rewards(
        self,
        info: Info,
        status: list[RewardStatus] | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> relay.Connection[RewardNode]:
        scope = await info.context.scope()
        page = await info.context.services.get(RewardService).list(
            scope,
            statuses=frozenset(status) if status else None,
            limit=first_of(first),
            after=after_id(after),
        )
        return keyset_connection(page.items, RewardNode.of, more=page.has_more)

    @strawberry.field(description="The station's reward budget this month (staff).")
    async def reward_budget(self, info: Info, station_id: relay.GlobalID) -> RewardBudgetType:
        scope = await info.context.scope()
        b = await info.context.services.get(RewardService).budget(
            scope, node_uuid(station_id, "OrgUnit", NotFound)
        )
        return RewardBudgetType(
            station_id=b.station_id,
            month_start=b.month_start,
            budget_fen=b.budget_fen,
            committed_fen=b.committed_fen,
            remaining_fen=b.remaining_fen,
            pending_approvals=b.pending_count,
        )


@strawberry.input
class ProposeRewardInput:
    source_type: str
    source_id: UUID
    outcome: str
    account_id: UUID | None = None
    grade: str | None = None
    amount_fen: int | None = None


@strawberry.type
class RewardPayload:
    reward: RewardNode


RewardResult = Annotated[RewardPayload | MutationProblem, strawberry.union("RewardResult")]


@strawberry.type
class RewardsMutation:
    @strawberry.mutation(description="Propose a cash reward (officers).")
    async def propose_reward(self, info: Info, input: ProposeRewardInput) -> RewardResult:
        scope = await info.context.scope()
        try:
            reward = await info.context.services.get(RewardService).propose(
                scope,
                NewReward(
                    source_type=input.source_type,
                    source_id=input.source_id,
                    account_id=input.account_id,
                    outcome=input.outcome,
                    grade=input.grade,
                    amount_fen=input.amount_fen,
                ),
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return RewardPayload(reward=RewardNode.of(reward))

    @strawberry.mutation(description="Approve a reward (station admins); twice is a no-op.")
    async def approve_reward(self, info: Info, id: relay.GlobalID) -> RewardResult:
        scope = await info.context.scope()
        try:
            reward = await info.context.services.get(RewardService).approve(
                scope, node_uuid(id, "Reward", RewardNotFound)
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return RewardPayload(reward=RewardNode.of(reward))

    @strawberry.mutation(description="Cancel an unpaid reward (station staff).")
    async def cancel_reward(self, info: Info, id: relay.GlobalID, reason: str) -> RewardResult:
        scope = await info.context.scope()
        try:
            reward = await info.context.services.get(RewardService).cancel(
                scope, node_uuid(id, "Reward", RewardNotFound), reason
            )
        except DomainError as e:
            return problem_of(e, info.context.lang)
        return RewardPayload(reward=RewardNode.of(reward))
