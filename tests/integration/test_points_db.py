"""The ledger's guarantees are the database's: entries are append-only (triggers), the
same source credits an account once and an entry is reversed once (unique indexes), the
running balance follows every insert, and reading it stays fast at 10,000 entries."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.org import make_org_tree

from app.domain.points.errors import AlreadyReversed
from app.domain.points.model import Entry, EntryKind
from app.domain.rewards.model import PayoutResult, PayoutStatus, RewardStatus
from app.domain.rewards.ports import Payee, PayoutRequest
from app.domain.rewards.services import PayoutService
from app.domain.shared.clock import FixedClock
from app.domain.shared.ids import new_id
from app.domain.shared.scope import system_scope
from app.infra.db.points_repo import SqlPointsUnitOfWork
from app.infra.db.rewards_repo import SqlRewardsUnitOfWork
from app.infra.db.tables.identity import accounts
from app.infra.db.tables.points import points_balances, points_entries
from app.infra.db.tables.rewards import rewards

SF = async_sessionmaker[AsyncSession]


async def _account(sf: SF) -> uuid.UUID:
    account = new_id()
    async with sf() as s, s.begin():
        await s.execute(sa.insert(accounts).values(id=account, kind="resident"))
    return account


def _credit(account: uuid.UUID, source: uuid.UUID, amount: int = 10) -> Entry:
    return Entry(
        id=new_id(),
        account_id=account,
        kind=EntryKind.CREDIT,
        amount=amount,
        reason="tip_valid",
        source_type="tip",
        source_id=source,
        station_id=None,
        district_id=None,
    )


def _row(entry: Entry) -> dict[str, object]:
    return {
        "id": entry.id,
        "account_id": entry.account_id,
        "kind": entry.kind.value,
        "amount": entry.amount,
        "reason": entry.reason,
        "source_type": entry.source_type,
        "source_id": entry.source_id,
        "reverses_id": entry.reverses_id,
    }


async def test_entries_are_append_only(session_factory: SF) -> None:
    account = await _account(session_factory)
    entry = _credit(account, new_id())
    async with session_factory() as s, s.begin():
        await s.execute(sa.insert(points_entries).values(_row(entry)))
    for stmt in (
        sa.update(points_entries).where(points_entries.c.id == entry.id).values(amount=1000),
        sa.delete(points_entries).where(points_entries.c.id == entry.id),
        sa.text("TRUNCATE points_entries CASCADE"),
    ):
        async with session_factory() as s:
            with pytest.raises(DBAPIError, match="append-only"):
                await s.execute(stmt)
    async with session_factory() as s:
        amount = (
            await s.execute(
                sa.select(points_entries.c.amount).where(points_entries.c.id == entry.id)
            )
        ).scalar_one()
    assert amount == 10


async def test_a_source_credits_once_and_an_entry_is_reversed_once(session_factory: SF) -> None:
    account, source = await _account(session_factory), new_id()
    first = _credit(account, source)
    async with session_factory() as s, s.begin():
        await s.execute(sa.insert(points_entries).values(_row(first)))
    # The database refuses a second credit of the same source, even bypassing the code.
    async with session_factory() as s:
        with pytest.raises(IntegrityError, match="uq_points_entries_source"):
            await s.execute(sa.insert(points_entries).values(_row(_credit(account, source, 99))))

    # Through the repository: the existing credit comes back, nothing is added.
    async with SqlPointsUnitOfWork(
        session_factory, system_scope(), FixedClock(datetime.now(UTC))
    ) as uow:
        again = await uow.points.add_entry(_credit(account, source, 99))
        assert (again.id, again.amount) == (first.id, 10)
        reversal = await uow.points.add_entry(first.reversal(id=new_id(), note="不实", by=None))
        assert reversal.amount == -10
        with pytest.raises(AlreadyReversed):
            await uow.points.add_entry(first.reversal(id=new_id(), note="再次", by=None))
        await uow.commit()
    async with session_factory() as s:
        with pytest.raises(IntegrityError, match="uq_points_entries_reverses_id"):
            await s.execute(
                sa.insert(points_entries).values(
                    _row(first.reversal(id=new_id(), note="x", by=None))
                )
            )
    async with session_factory() as s:
        balance = (
            await s.execute(
                sa.select(points_balances.c.balance, points_balances.c.entries).where(
                    points_balances.c.account_id == account
                )
            )
        ).one()
    assert tuple(balance) == (0, 2)


async def test_balance_of_10000_entries_is_fast(session_factory: SF) -> None:
    account = await _account(session_factory)
    async with session_factory() as s, s.begin():
        await s.execute(
            sa.text(
                """
                INSERT INTO points_entries (id, account_id, kind, amount, reason, source_type,
                                            source_id)
                SELECT gen_random_uuid(), :account, 'credit', 1 + (n % 7), 'tip_valid', 'tip',
                       gen_random_uuid()
                FROM generate_series(1, 10000) AS n
                """
            ),
            {"account": account},
        )
    async with session_factory() as s:
        expected = (
            await s.execute(
                sa.select(sa.func.sum(points_entries.c.amount)).where(
                    points_entries.c.account_id == account
                )
            )
        ).scalar_one()
        uow = SqlPointsUnitOfWork(session_factory, system_scope(), FixedClock(datetime.now(UTC)))
        async with uow:
            timings = []
            for _ in range(50):
                started = time.perf_counter()
                balance = await uow.points.balance(account)
                timings.append(time.perf_counter() - started)
    assert (balance.balance, balance.entries) == (expected, 10000)
    timings.sort()
    assert timings[len(timings) // 2] < 0.005  # median under 5 ms (a sanity bound)


class _Gateway:
    def __init__(self, answer: PayoutResult) -> None:
        self.answer = answer
        self.sent: list[str] = []

    async def transfer(self, request: PayoutRequest) -> PayoutResult:
        self.sent.append(request.out_batch_no)
        return self.answer

    async def query(self, request: PayoutRequest) -> PayoutResult:
        return self.answer


class _Payees:
    async def payee(self, account_id: uuid.UUID) -> Payee:
        return Payee(account_id, None)


async def test_unknown_payouts_are_reconciled_by_housekeeping(session_factory: SF) -> None:
    account = await _account(session_factory)
    tree = await make_org_tree(session_factory)
    station, district = tree.station_id, tree.district_id
    reward_id = new_id()
    async with session_factory() as s, s.begin():
        await s.execute(
            sa.insert(rewards).values(
                id=reward_id,
                station_id=station,
                district_id=district,
                account_id=account,
                source_type="hazard",
                source_id=new_id(),
                outcome="hazard_verified",
                amount_fen=800,
                status="unknown",
                proposed_by=account,
                approved_at=datetime.now(UTC),
                payout_started_at=datetime.now(UTC) - timedelta(hours=1),
                out_batch_no=f"swbtest{reward_id.hex[:20]}",
                out_detail_no=f"swdtest{reward_id.hex[:20]}",
            )
        )
    clock = FixedClock(datetime.now(UTC))

    def factory(scope):  # type: ignore[no-untyped-def]
        return SqlRewardsUnitOfWork(session_factory, scope, clock)

    still = PayoutService(factory, clock, _Gateway(PayoutResult(PayoutStatus.UNKNOWN)), _Payees())
    await still.reconcile()
    settled = PayoutService(
        factory, clock, _Gateway(PayoutResult(PayoutStatus.SUCCEEDED, "ref-1")), _Payees()
    )
    assert await settled.reconcile() >= 1
    async with session_factory() as s:
        status, ref = (
            await s.execute(
                sa.select(rewards.c.status, rewards.c.provider_ref).where(rewards.c.id == reward_id)
            )
        ).one()
    assert (status, ref) == (RewardStatus.PAID.value, "ref-1")
