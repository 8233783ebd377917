"""Helpers for points and rewards tests: a valid named tip, draining the worker, the
ledger as the volunteer sees it, a payment gateway that counts (and can crash)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth
from support.org import OrgTree
from support.tips import account_id, due_in, step, submit, tip_body

from app.domain.delivery.model import OutboxEvent
from app.domain.delivery.services import DeliveryService, HandlerRegistry
from app.domain.rewards.model import PayoutResult
from app.domain.rewards.ports import PaymentGateway, PayoutRequest
from app.infra.db.tables.platform import outbox


async def drain(app: Any) -> None:
    await app.state.services.get(DeliveryService).drain()


async def valid_tip(
    client: httpx.AsyncClient, officer: str, reporter: str, tree: OrgTree, **extra: Any
) -> str:
    """A named tip of ``reporter`` that ``officer`` (of the tip's station) found valid."""
    officer_id = await account_id(client, officer)
    tid = str((await submit(client, reporter, tip_body(tree, **extra)))["id"])
    await step(client, officer, tid, "assign", {"officer_id": officer_id, "due_at": due_in()})
    await step(client, officer, tid, "verify")
    await step(client, officer, tid, "outcome", {"outcome": "valid"})
    return tid


async def my_points(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    r = await client.get("/api/v1/me/points", headers=auth(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def redeliver(
    app: Any,
    session_factory: async_sessionmaker[AsyncSession],
    event_type: str,
    aggregate_id: uuid.UUID,
    handler_name: str,
) -> None:
    """Deliver an already delivered event once more to one handler (a crash mid-batch)."""
    async with session_factory() as s:
        row = (
            await s.execute(
                sa.select(outbox).where(
                    outbox.c.aggregate_id == aggregate_id, outbox.c.event_type == event_type
                )
            )
        ).one()
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
    handlers = app.state.services.get(HandlerRegistry).handlers_for(event_type)
    [(name, handler)] = [(n, h) for n, h in handlers if n == handler_name]
    await handler(event, event.key(name))


class CountingGateway:
    """Wraps a gateway, counting calls; ``crash_after_send`` makes the next transfer
    reach the provider and then fail as a worker crash would (nothing recorded)."""

    def __init__(self, inner: PaymentGateway) -> None:
        self.inner = inner
        self.transfers: list[str] = []
        self.queries: list[str] = []
        self.crash_after_send = False

    async def transfer(self, request: PayoutRequest) -> PayoutResult:
        self.transfers.append(request.out_batch_no)
        result = await self.inner.transfer(request)
        if self.crash_after_send:
            self.crash_after_send = False
            raise RuntimeError("worker crashed after sending")
        return result

    async def query(self, request: PayoutRequest) -> PayoutResult:
        self.queries.append(request.out_batch_no)
        return await self.inner.query(request)
