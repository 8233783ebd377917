"""Use cases of cash rewards: propose, approve (two approvers above the threshold, the
monthly budget checked under a lock of the station's rule row), cancel unpaid rewards,
pay out exactly once, reconcile lost answers.

Exactly once: ``pay`` first records ``paying`` (with the reward's stable out_batch_no) in
its own transaction, then calls the provider, then records the answer. A worker that
crashes after sending leaves ``paying``; the retried event then *queries* the provider
before anything else and only sends when the provider never received the request. The
provider is also idempotent on out_batch_no, so even a send after a lost query pays once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from app.domain.notifications.model import Kind, link_to
from app.domain.notifications.services import NotificationService
from app.domain.organisation.services import OrgUnitNotFound
from app.domain.rewards.errors import (
    RewardNotFound,
    SourceNotFound,
)
from app.domain.rewards.model import (
    UNPAID,
    Approval,
    PayoutResult,
    PayoutStatus,
    Reward,
    RewardRule,
    RewardStatus,
    month_bounds,
)
from app.domain.rewards.ports import (
    PayeeDirectory,
    PaymentGateway,
    PayoutRequest,
    RewardSlice,
    RewardSources,
    RewardsUnitOfWork,
)
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed, field_invalid
from app.domain.shared.events import DomainEvent
from app.domain.shared.ids import new_id
from app.domain.shared.scope import WRITING_STAFF_ROLES, Role, Scope, system_scope

UowFactory = Callable[[Scope], RewardsUnitOfWork]
APPROVER_ROLES = (Role.STATION_ADMIN, Role.DISTRICT_ADMIN)
SOURCE_TYPES = ("tip", "hazard")
REMARK = "守望志愿者奖励"  # what the payee's WeChat shows: no case detail
STALE_PAYING = timedelta(minutes=30)
log = structlog.get_logger("shouwang.rewards")


@dataclass(frozen=True, slots=True)
class NewReward:
    source_type: str
    source_id: uuid.UUID
    account_id: uuid.UUID | None  # None: the source's named reporter
    outcome: str
    grade: str | None = None
    amount_fen: int | None = None


@dataclass(frozen=True, slots=True)
class Budget:
    station_id: uuid.UUID
    month_start: str  # local date, YYYY-MM-DD
    budget_fen: int
    committed_fen: int
    pending_count: int
    rule: RewardRule

    @property
    def remaining_fen(self) -> int:
        return max(0, self.budget_fen - self.committed_fen)


def reward_id_of_batch(out_batch_no: str) -> uuid.UUID | None:
    """The reward whose ``out_batch_no`` this is (the inverse of ``payout_numbers``), or
    None when it is not one of ours."""
    prefix, digits = out_batch_no[:3], out_batch_no[3:].lower()
    if prefix != "swb" or not digits or len(digits) > 25 or not digits.isalnum():
        return None
    try:
        value = int(digits, 36)
    except ValueError:
        return None
    return uuid.UUID(int=value) if value < 2**128 else None


def _event(name: str, reward: Reward, reward_at: Any, **extra: Any) -> DomainEvent:
    payload = {"station_id": reward.station_id, "district_id": reward.district_id, **extra}
    return DomainEvent(name, "reward", reward.id, reward_at, payload)


class RewardService:
    def __init__(self, uow_factory: UowFactory, clock: Clock, sources: RewardSources) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.sources = sources

    async def propose(self, scope: Scope, new: NewReward) -> Reward:
        """An officer of the source's station proposes a reward for a person."""
        if new.source_type not in SOURCE_TYPES:
            raise field_invalid(
                "reward.source_type_invalid",
                "source_type",
                "Rewards are for tips or hazards.",
                "奖励只适用于线索或隐患。",
            )
        if not (scope.can_write_org_data or scope.unrestricted):
            raise NotAllowed()
        source = await self.sources.locate(scope, new.source_type, new.source_id)
        if source is None:
            raise SourceNotFound()
        if not (scope.unrestricted or source.station_id in scope.stations_as(*WRITING_STAFF_ROLES)):
            raise NotAllowed()
        payee = new.account_id or source.reporter
        if payee is None:
            raise field_invalid(
                "reward.payee_unknown",
                "account_id",
                "Name who is rewarded: the report has no named reporter.",
                "请指定受奖励人：该举报没有实名举报人。",
            )
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            rule = await uow.rewards.rule(source.station_id)
            reward = Reward.propose(
                id=new_id(),
                station_id=source.station_id,
                district_id=source.district_id,
                account_id=payee,
                source_type=new.source_type,
                source_id=new.source_id,
                outcome=new.outcome,
                grade=new.grade,
                amount_fen=new.amount_fen,
                rule=rule,
                by=scope.account_id,
            )
            reward.created_at = now
            await uow.rewards.insert(reward)
            uow.audit("reward.propose", "reward", reward.id, {"amount_fen": reward.amount_fen})
            uow.add_event(_event("reward.proposed", reward, now))
            await uow.commit()
        return reward.seen_by(scope.account_id)

    async def approve(self, scope: Scope, reward_id: uuid.UUID) -> Reward:
        """A station admin approves. Approving again is a no-op (state checked under the
        reward's row lock); the budget check runs under the station rule's row lock, so
        two approvals of one station cannot both spend the last of the budget."""
        now = self.clock.now()
        async with self.uow_factory(scope) as uow:
            reward = await uow.rewards.get(reward_id, for_update=True)
            if reward is None or not (scope.is_staff or scope.unrestricted):
                raise RewardNotFound()
            if not (scope.unrestricted or reward.station_id in scope.stations_as(*APPROVER_ROLES)):
                raise NotAllowed()
            rule = await uow.rewards.rule(reward.station_id, for_update=True)
            start, end = month_bounds(now)
            committed = await uow.rewards.committed_fen(reward.station_id, start, end)
            result = reward.approve(scope.account_id, now, rule, committed)
            if result == Approval.UNCHANGED:
                return reward.seen_by(scope.account_id)
            await uow.rewards.save(reward)
            uow.audit("reward.approve", "reward", reward.id, {"result": result.value})
            if result == Approval.APPROVED:
                uow.add_event(_event("reward.approved", reward, now))
            await uow.commit()
        return reward.seen_by(scope.account_id)

    async def cancel(self, scope: Scope, reward_id: uuid.UUID, reason: str) -> Reward:
        async with self.uow_factory(scope) as uow:
            reward = await uow.rewards.get(reward_id, for_update=True)
            if reward is None or not (scope.is_staff or scope.unrestricted):
                raise RewardNotFound()
            if not (
                scope.unrestricted or reward.station_id in scope.stations_as(*WRITING_STAFF_ROLES)
            ):
                raise NotAllowed()
            if reward.cancel(reason.strip()[:200] or "cancelled"):
                await uow.rewards.save(reward)
                uow.audit("reward.cancel", "reward", reward.id)
                uow.add_event(_event("reward.cancelled", reward, self.clock.now()))
                await uow.commit()
        return reward.seen_by(scope.account_id)

    async def cancel_unpaid(self, source_type: str, source_id: uuid.UUID, reason: str) -> int:
        """The report was found false: cancel its unpaid rewards (paid ones stay paid;
        the audit trail shows them for recovery by hand)."""
        cancelled = 0
        async with self.uow_factory(system_scope()) as uow:
            for reward_id in await uow.rewards.of_source(source_type, source_id):
                reward = await uow.rewards.get(reward_id, for_update=True)
                if reward is None or reward.status not in UNPAID:
                    continue
                reward.cancel(reason)
                await uow.rewards.save(reward)
                uow.audit("reward.cancel", "reward", reward.id, {"reason": reason})
                uow.add_event(_event("reward.cancelled", reward, self.clock.now()))
                cancelled += 1
            if cancelled:
                await uow.commit()
        return cancelled

    async def get(self, scope: Scope, reward_id: uuid.UUID) -> Reward:
        async with self.uow_factory(scope) as uow:
            reward = await uow.rewards.get(reward_id)
        if reward is None:
            raise RewardNotFound()
        return reward.seen_by(scope.account_id)

    async def mine(self, scope: Scope, *, limit: int, after: uuid.UUID | None) -> RewardSlice:
        async with self.uow_factory(scope) as uow:
            return await uow.rewards.page(
                account_id=scope.account_id, statuses=None, limit=limit, after=after
            )

    async def list(
        self,
        scope: Scope,
        *,
        statuses: frozenset[RewardStatus] | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> RewardSlice:
        """Staff: rewards of their stations (``proposed``: the pending approvals)."""
        if not (scope.is_staff or scope.unrestricted):
            raise NotAllowed()
        async with self.uow_factory(scope) as uow:
            page = await uow.rewards.page(
                account_id=None, statuses=statuses, limit=limit, after=after
            )
        return RewardSlice([r.seen_by(scope.account_id) for r in page.items], page.has_more)

    async def budget(self, scope: Scope, station_id: uuid.UUID) -> Budget:
        _require_reach(scope, station_id)
        if not (scope.unrestricted or scope.is_staff):
            raise NotAllowed()
        now = self.clock.now()
        start, end = month_bounds(now)
        async with self.uow_factory(scope) as uow:
            rule = await uow.rewards.rule(station_id)
            committed = await uow.rewards.committed_fen(station_id, start, end)
            pending = await uow.rewards.proposed_count(station_id)
        return Budget(
            station_id=station_id,
            month_start=start.date().isoformat(),
            budget_fen=rule.monthly_budget_fen,
            committed_fen=committed,
            pending_count=pending,
            rule=rule,
        )

    async def put_rule(
        self,
        scope: Scope,
        station_id: uuid.UUID,
        *,
        amounts: Mapping[str, int],
        monthly_budget_fen: int,
        second_approval_above_fen: int,
        max_fen: int,
        expected_version: int | None = None,
    ) -> RewardRule:
        _require_reach(scope, station_id)
        if not (scope.unrestricted or station_id in scope.stations_as(*APPROVER_ROLES)):
            raise NotAllowed()
        rule = RewardRule(
            station_id=station_id,
            amounts=dict(amounts),
            monthly_budget_fen=monthly_budget_fen,
            second_approval_above_fen=second_approval_above_fen,
            max_fen=max_fen,
        )
        rule.check()
        async with self.uow_factory(scope) as uow:
            stored = await uow.rewards.put_rule(rule, expected_version)
            uow.audit("reward.rule_put", "reward_rule", station_id, {"version": stored.version})
            await uow.commit()
        return stored


class PayoutService:
    """Runs in the outbox worker (``reward.approved``) and in housekeeping."""

    def __init__(
        self,
        uow_factory: UowFactory,
        clock: Clock,
        gateway: PaymentGateway,
        payees: PayeeDirectory,
        notifications: NotificationService | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.gateway = gateway
        self.payees = payees
        self.notifications = notifications

    async def _request(self, reward: Reward) -> PayoutRequest:
        return PayoutRequest(
            out_batch_no=reward.out_batch_no,
            out_detail_no=reward.out_detail_no,
            payee=await self.payees.payee(reward.payee),
            amount_fen=reward.amount_fen,
            remark=REMARK,
        )

    async def pay(self, reward_id: uuid.UUID) -> Reward | None:
        """Pay an approved reward once; resume a started one by asking the provider first."""
        async with self.uow_factory(system_scope()) as uow:
            reward = await uow.rewards.get(reward_id, for_update=True)
            if reward is None:
                return None
            if reward.status == RewardStatus.APPROVED:
                reward.start_payout(self.clock.now())
                await uow.rewards.save(reward)
                uow.audit(
                    "reward.payout_started", "reward", reward.id, {"batch": reward.out_batch_no}
                )
                await uow.commit()
                resumed = False
            elif reward.status in (RewardStatus.PAYING, RewardStatus.UNKNOWN):
                resumed = True
            else:
                return reward  # paid, failed, cancelled, or not approved yet: nothing to do
        request = await self._request(reward)
        result: PayoutResult | None = None
        if resumed:
            result = await self.gateway.query(request)
            if result.status == PayoutStatus.NOT_FOUND:
                result = None  # the request never arrived: sending is the first send
        if result is None:
            result = await self.gateway.transfer(request)
        return await self._record(reward.id, result)

    async def record_payout_result(
        self, out_batch_no: str, out_detail_no: str | None, result: PayoutResult
    ) -> Reward | None:
        """The provider's callback about a transfer: settle the reward as reconciliation
        would. Only final answers (succeeded, failed) change anything; repeating one
        changes nothing. None when no reward has these numbers."""
        reward_id = reward_id_of_batch(out_batch_no)
        if reward_id is None:
            return None
        async with self.uow_factory(system_scope()) as uow:
            reward = await uow.rewards.get(reward_id)
        if reward is None or reward.out_batch_no != out_batch_no:
            return None
        if out_detail_no is not None and out_detail_no != reward.out_detail_no:
            return None
        if result.status not in (PayoutStatus.SUCCEEDED, PayoutStatus.FAILED):
            return reward  # still processing: the reward stays as it is
        if reward.status == RewardStatus.PAID and result.status == PayoutStatus.FAILED:
            # An accepted batch counts as paid; a detail failing later needs a person.
            log.warning("reward.payout_failed_after_paid", reward_id=str(reward.id))
        return await self._record(reward_id, result, via="callback")

    async def _record(
        self, reward_id: uuid.UUID, result: PayoutResult, *, via: str | None = None
    ) -> Reward | None:
        now = self.clock.now()
        async with self.uow_factory(system_scope()) as uow:
            reward = await uow.rewards.get(reward_id, for_update=True)
            if reward is None or reward.status not in (RewardStatus.PAYING, RewardStatus.UNKNOWN):
                return reward
            before = reward.status
            status = reward.settle(result.status, now, result.provider_ref, result.failure)
            if status == before:
                return reward
            await uow.rewards.save(reward)
            details: dict[str, Any] = {"failure": result.failure} if result.failure else {}
            if via:
                details["via"] = via
            uow.audit("reward.payout_" + reward.status.value, "reward", reward.id, details or None)
            if status == RewardStatus.PAID:
                uow.add_event(_event("reward.paid", reward, now))
            await uow.commit()
        if status == RewardStatus.PAID and self.notifications is not None:
            await self.notifications.notify(
                reward.payee,
                Kind.REWARD_PAID,
                link_to("rewards", reward.id),
                key=f"reward.paid:{reward.id}",
            )
        return reward

    async def reconcile(self, limit: int = 100) -> int:
        """Housekeeping: settle rewards whose payout answer was lost. Returns how many
        changed status."""
        before = self.clock.now() - STALE_PAYING
        async with self.uow_factory(system_scope()) as uow:
            ids = await uow.rewards.unsettled(before, limit)
        changed = 0
        for reward_id in ids:
            async with self.uow_factory(system_scope()) as uow:
                reward = await uow.rewards.get(reward_id)
            if reward is None:
                continue
            result = await self.gateway.query(await self._request(reward))
            if result.status == PayoutStatus.NOT_FOUND:
                # Never arrived; the provider is idempotent on out_batch_no, so sending
                # now cannot pay twice even if the query raced a late arrival.
                result = await self.gateway.transfer(await self._request(reward))
            after = await self._record(reward_id, result)
            if after is not None and after.status != reward.status:
                changed += 1
        return changed


def _require_reach(scope: Scope, station_id: uuid.UUID) -> None:
    """A station outside the caller's jurisdiction is not found (like any foreign id)."""
    if not (scope.unrestricted or station_id in scope.station_ids):
        raise OrgUnitNotFound()
