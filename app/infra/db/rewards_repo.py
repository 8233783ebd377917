"""Repository and unit of work of cash rewards (奖励). Every insert and save writes the
reward to its payee's sync feed in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.rewards.errors import RewardExists
from app.domain.rewards.model import COMMITTED, UNPAID, Reward, RewardRule, RewardStatus
from app.domain.rewards.ports import RewardRepository, RewardSlice
from app.domain.shared.clock import Clock
from app.domain.shared.errors import StaleVersion
from app.domain.shared.scope import Scope
from app.domain.sync.model import RecordType
from app.infra.db.scoping import station_scope
from app.infra.db.sync_repo import record_account_changes
from app.infra.db.tables.rewards import reward_rules, rewards
from app.infra.db.uow import SqlUnitOfWork

w = rewards
rr = reward_rules
_FIELDS = (
    "status",
    "first_approved_by",
    "second_approved_by",
    "approved_at",
    "payout_started_at",
    "paid_at",
    "provider_ref",
    "failure",
    "cancelled_reason",
)


def _reward(row: Any) -> Reward:
    return Reward(
        id=row.id,
        station_id=row.station_id,
        district_id=row.district_id,
        account_id=row.account_id,
        source_type=row.source_type,
        source_id=row.source_id,
        outcome=row.outcome,
        grade=row.grade,
        amount_fen=row.amount_fen,
        proposed_by=row.proposed_by,
        out_batch_no=row.out_batch_no,
        out_detail_no=row.out_detail_no,
        status=RewardStatus(row.status),
        first_approved_by=row.first_approved_by,
        second_approved_by=row.second_approved_by,
        approved_at=row.approved_at,
        payout_started_at=row.payout_started_at,
        paid_at=row.paid_at,
        provider_ref=row.provider_ref,
        failure=row.failure,
        cancelled_reason=row.cancelled_reason,
        version=row.version,
        created_at=row.created_at,
    )


def _rule(row: Any) -> RewardRule:
    return RewardRule(
        station_id=row.station_id,
        amounts=dict(row.amounts),
        monthly_budget_fen=int(row.monthly_budget_fen),
        second_approval_above_fen=row.second_approval_above_fen,
        max_fen=row.max_fen,
        version=row.version,
    )


class SqlRewardRepository(RewardRepository):
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def _visible(self) -> sa.ColumnElement[bool]:
        if self.scope.unrestricted:
            return sa.true()
        own = w.c.account_id == self.scope.account_id
        if not self.scope.is_staff:
            return own
        return sa.or_(own, station_scope(w.c.station_id, w.c.district_id, self.scope))

    async def rule(self, station_id: uuid.UUID, *, for_update: bool = False) -> RewardRule:
        if for_update:
            default = RewardRule(station_id)
            await self.session.execute(
                pg_insert(rr)
                .values(
                    station_id=station_id,
                    amounts=dict(default.amounts),
                    monthly_budget_fen=default.monthly_budget_fen,
                    second_approval_above_fen=default.second_approval_above_fen,
                    max_fen=default.max_fen,
                )
                .on_conflict_do_nothing()
            )
        query = sa.select(rr).where(rr.c.station_id == station_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return _rule(row) if row else RewardRule(station_id)

    async def put_rule(self, rule: RewardRule, expected_version: int | None) -> RewardRule:
        values = {
            "amounts": dict(rule.amounts),
            "monthly_budget_fen": rule.monthly_budget_fen,
            "second_approval_above_fen": rule.second_approval_above_fen,
            "max_fen": rule.max_fen,
            "updated_by": None if self.scope.unrestricted else self.scope.account_id,
        }
        insert = pg_insert(rr).values(station_id=rule.station_id, **values)
        guard = rr.c.version == expected_version if expected_version is not None else None
        stmt = insert.on_conflict_do_update(
            index_elements=["station_id"],
            set_={**values, "version": rr.c.version + 1, "updated_at": sa.func.now()},
            where=guard,
        ).returning(*rr.c)
        row = (await self.session.execute(stmt)).first()
        if row is None:
            raise StaleVersion()
        return _rule(row)

    async def insert(self, reward: Reward) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    sa.insert(w).values(
                        id=reward.id,
                        station_id=reward.station_id,
                        district_id=reward.district_id,
                        account_id=reward.account_id,
                        source_type=reward.source_type,
                        source_id=reward.source_id,
                        outcome=reward.outcome,
                        grade=reward.grade,
                        amount_fen=reward.amount_fen,
                        status=reward.status.value,
                        proposed_by=reward.proposed_by,
                        out_batch_no=reward.out_batch_no,
                        out_detail_no=reward.out_detail_no,
                    )
                )
        except IntegrityError as error:
            if "uq_rewards_source" in str(error.orig):
                raise RewardExists() from None
            raise
        await record_account_changes(self.session, RecordType.REWARD, reward.payee, [reward.id])

    async def get(self, reward_id: uuid.UUID, *, for_update: bool = False) -> Reward | None:
        query = sa.select(w).where(w.c.id == reward_id, self._visible())
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return _reward(row) if row else None

    async def save(self, reward: Reward) -> None:
        await self.session.execute(
            sa.update(w)
            .where(w.c.id == reward.id)
            .values(
                {f: getattr(reward, f) for f in _FIELDS}
                | {
                    "status": reward.status.value,
                    "version": w.c.version + 1,
                    "updated_at": sa.func.now(),
                }
            )
        )
        reward.version += 1
        await record_account_changes(self.session, RecordType.REWARD, reward.payee, [reward.id])

    async def committed_fen(self, station_id: uuid.UUID, start: datetime, end: datetime) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(w.c.amount_fen), 0)).where(
            w.c.station_id == station_id,
            w.c.approved_at >= start,
            w.c.approved_at < end,
            w.c.status.in_([s.value for s in COMMITTED]),
        )
        return int((await self.session.execute(query)).scalar_one())

    async def proposed_count(self, station_id: uuid.UUID) -> int:
        query = sa.select(sa.func.count()).where(
            w.c.station_id == station_id,
            w.c.status == RewardStatus.PROPOSED.value,
            self._visible(),
        )
        return int((await self.session.execute(query)).scalar_one())

    async def page(
        self,
        *,
        account_id: uuid.UUID | None,
        statuses: frozenset[RewardStatus] | None,
        limit: int,
        after: uuid.UUID | None,
    ) -> RewardSlice:
        query = sa.select(w).where(self._visible())
        if account_id is not None:
            query = query.where(w.c.account_id == account_id)
        if statuses:
            query = query.where(w.c.status.in_([s.value for s in statuses]))
        if after is not None:
            query = query.where(w.c.id < after)
        rows = (await self.session.execute(query.order_by(w.c.id.desc()).limit(limit + 1))).all()
        return RewardSlice([_reward(row) for row in rows[:limit]], len(rows) > limit)

    async def of_source(self, source_type: str, source_id: uuid.UUID) -> list[uuid.UUID]:
        query = sa.select(w.c.id).where(
            w.c.source_type == source_type,
            w.c.source_id == source_id,
            w.c.status.in_([s.value for s in UNPAID]),
        )
        return list((await self.session.execute(query)).scalars())

    async def unsettled(self, before: datetime, limit: int) -> list[uuid.UUID]:
        query = (
            sa.select(w.c.id)
            .where(
                sa.or_(
                    w.c.status == RewardStatus.UNKNOWN.value,
                    sa.and_(
                        w.c.status == RewardStatus.PAYING.value,
                        w.c.payout_started_at < before,
                    ),
                )
            )
            .order_by(w.c.updated_at)
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())


class SqlRewardsUnitOfWork(SqlUnitOfWork):
    rewards: RewardRepository

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], scope: Scope, clock: Clock
    ) -> None:
        super().__init__(session_factory, scope, clock)

    def _open_repositories(self) -> None:
        self.rewards = SqlRewardRepository(self.session, self.scope)
