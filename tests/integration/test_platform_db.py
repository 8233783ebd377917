"""The unit of work writes outbox events and audit entries atomically with the change;
the audit log refuses edits; idempotency keys follow the IETF draft semantics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.shared.events import DomainEvent
from app.domain.shared.idempotency import BeginOutcome, StoredResponse
from app.domain.shared.ids import new_id
from app.domain.shared.scope import Role, Scope
from app.infra.db import raw
from app.infra.db.idempotency import SqlIdempotencyStore
from app.infra.db.tables.identity import accounts
from app.infra.db.tables.platform import audit_log, outbox
from app.infra.db.uow import SqlUnitOfWork

SF = async_sessionmaker[AsyncSession]


def _scope() -> Scope:
    return Scope(account_id=new_id(), roles=frozenset({Role.OFFICER}), request_id="req-test-1")


async def _count(sf: SF, table: sa.Table, where: sa.ColumnElement[bool]) -> int:
    async with sf() as s:
        return int(
            (
                await s.execute(sa.select(sa.func.count()).select_from(table).where(where))
            ).scalar_one()
        )


async def test_commit_writes_change_event_and_audit_together(session_factory: SF) -> None:
    account_id = new_id()
    async with SqlUnitOfWork(session_factory, _scope()) as uow:
        await uow.session.execute(
            sa.insert(accounts).values(id=account_id, kind="resident", display_name="王芳")
        )
        uow.add_event(
            DomainEvent("account.created", "account", account_id, datetime.now(UTC), {"k": 1})
        )
        uow.audit("account.create", "account", account_id, {"kind": "resident"})
        await uow.commit()
    assert await _count(session_factory, outbox, outbox.c.aggregate_id == account_id) == 1
    assert await _count(session_factory, audit_log, audit_log.c.record_id == account_id) == 1
    async with session_factory() as s:
        row = (
            await s.execute(sa.select(audit_log).where(audit_log.c.record_id == account_id))
        ).one()
    assert row.actor_role == "officer"
    assert row.request_id == "req-test-1"


async def test_without_commit_nothing_is_written(session_factory: SF) -> None:
    account_id = new_id()
    with pytest.raises(RuntimeError):  # noqa: PT012 - the failure happens mid unit of work
        async with SqlUnitOfWork(session_factory, _scope()) as uow:
            await uow.session.execute(sa.insert(accounts).values(id=account_id, kind="resident"))
            uow.add_event(DomainEvent("account.created", "account", account_id, datetime.now(UTC)))
            uow.audit("account.create", "account", account_id)
            raise RuntimeError("use case failed")
    assert await _count(session_factory, accounts, accounts.c.id == account_id) == 0
    assert await _count(session_factory, outbox, outbox.c.aggregate_id == account_id) == 0
    assert await _count(session_factory, audit_log, audit_log.c.record_id == account_id) == 0


async def test_a_raw_statement_first_in_a_unit_of_work_is_inside_its_transaction(
    session_factory: SF,
) -> None:
    """Statements on the driver connection (app/infra/db/raw.py) begin the session's
    transaction first: one run before any SQLAlchemy statement is rolled back with it."""
    account_id = new_id()
    with pytest.raises(RuntimeError):  # noqa: PT012 - the failure happens mid unit of work
        async with SqlUnitOfWork(session_factory, _scope()) as uow:
            await raw.execute(
                uow.session,
                "INSERT INTO accounts (id, kind) VALUES ($1, 'resident')",
                account_id,
            )
            await uow.session.execute(sa.select(1))
            raise RuntimeError("use case failed")
    assert await _count(session_factory, accounts, accounts.c.id == account_id) == 0
    async with SqlUnitOfWork(session_factory, _scope()) as uow:
        await raw.execute(
            uow.session, "INSERT INTO accounts (id, kind) VALUES ($1, 'resident')", account_id
        )
        await uow.commit()
    assert await _count(session_factory, accounts, accounts.c.id == account_id) == 1


async def test_audit_log_is_append_only(session_factory: SF) -> None:
    record = new_id()
    async with SqlUnitOfWork(session_factory, _scope()) as uow:
        uow.audit("thing.read", "thing", record)
        await uow.commit()
    for stmt in (
        sa.update(audit_log).where(audit_log.c.record_id == record).values(action="forged"),
        sa.delete(audit_log).where(audit_log.c.record_id == record),
    ):
        async with session_factory() as s:
            with pytest.raises(DBAPIError, match="append-only"):
                await s.execute(stmt)
    assert await _count(session_factory, audit_log, audit_log.c.record_id == record) == 1


async def test_idempotency_store_semantics(session_factory: SF) -> None:
    store = SqlIdempotencyStore(session_factory)
    principal, key, now = f"acct:{uuid.uuid4()}", "key-1", datetime.now(UTC)
    first = await store.begin(principal, key, "POST /x", b"h1", now)
    assert first.outcome == BeginOutcome.STARTED
    assert (
        await store.begin(principal, key, "POST /x", b"h1", now)
    ).outcome == BeginOutcome.IN_FLIGHT
    assert (
        await store.begin(principal, key, "POST /x", b"h2", now)
    ).outcome == BeginOutcome.MISMATCH
    await store.complete(principal, key, StoredResponse(201, {"location": "/x/1"}, b'{"id":1}'))
    replay = await store.begin(principal, key, "POST /x", b"h1", now)
    assert replay.outcome == BeginOutcome.REPLAY
    assert replay.response is not None
    assert replay.response.status == 201
    assert replay.response.body == b'{"id":1}'
    # Another caller's identical key is independent.
    other = await store.begin(f"acct:{uuid.uuid4()}", key, "POST /x", b"h1", now)
    assert other.outcome == BeginOutcome.STARTED
    # Keys live 24 hours, then expire and may be reused.
    later = now + timedelta(hours=25)
    assert (
        await store.begin(principal, key, "POST /x", b"h3", later)
    ).outcome == BeginOutcome.STARTED


async def test_abandoned_in_flight_key_can_be_taken_over(session_factory: SF) -> None:
    store = SqlIdempotencyStore(session_factory, lock_timeout=timedelta(seconds=30))
    principal, now = f"acct:{uuid.uuid4()}", datetime.now(UTC)
    await store.begin(principal, "k", "POST /x", b"h", now)
    again = await store.begin(principal, "k", "POST /x", b"h", now + timedelta(seconds=31))
    assert again.outcome == BeginOutcome.STARTED
    await store.release(principal, "k")
    assert (await store.begin(principal, "k", "POST /x", b"h", now)).outcome == BeginOutcome.STARTED
