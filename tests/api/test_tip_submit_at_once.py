"""A plain tip submission is written by one statement, its Idempotency-Key stored with it:
the key semantics (replay, other body, in flight, concurrent retries) and the hourly limit
hold exactly as for submissions that go through a unit of work."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import tip_body

from app.api.rest.idempotency import _hash
from app.api.rest.tips_schemas import TipIn
from app.domain.tips.services import TipService
from app.infra.db.tables.platform import audit_log, idempotency_keys, outbox
from app.infra.db.tables.tips import tip_submissions, tips
from app.settings import Settings

SF = async_sessionmaker[AsyncSession]


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def _count(sf: SF, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    async with sf() as s:
        query = sa.select(sa.func.count()).select_from(table).where(*where)
        return int((await s.execute(query)).scalar_one())


async def _key(sf: SF, key: str) -> Any:
    async with sf() as s:
        return (
            await s.execute(sa.select(idempotency_keys).where(idempotency_keys.c.key == key))
        ).one_or_none()


async def test_the_key_is_stored_completed_with_the_tip_and_replayed(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree, session_factory: SF
) -> None:
    assert app.state.services.get(TipService).writer is not None
    resident, _ = await resident_token(client, settings)
    key = f"app-retry-{uuid.uuid4().hex}"
    headers = {**auth(resident), "Idempotency-Key": key}
    body = tip_body(tree, description="菜市场门口有人兜售来路不明的手机")
    first = await client.post("/api/v1/tips", json=body, headers=headers)
    assert first.status_code == 201, first.text
    tip_id = first.json()["id"]
    stored = await _key(session_factory, key)
    assert stored.state == "completed"
    assert stored.response_status == 201
    assert stored.response_headers["location"] == f"/api/v1/tips/{tip_id}"
    assert bytes(stored.response_body) == first.content
    again = await client.post("/api/v1/tips", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    # Everything the submission writes, once.
    assert await _count(session_factory, tips, tips.c.id == tip_id) == 1
    assert await _count(session_factory, outbox, outbox.c.aggregate_id == tip_id) == 1
    # ... and no audit entry: its actor would name the informant.
    assert await _count(session_factory, audit_log, audit_log.c.record_id == tip_id) == 0
    other = await client.post("/api/v1/tips", json=tip_body(tree), headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency.key_reused"


async def test_concurrent_retries_with_one_key_store_one_tip(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree, session_factory: SF
) -> None:
    resident, _ = await resident_token(client, settings)
    key = uuid.uuid4().hex
    headers = {**auth(resident), "Idempotency-Key": key}
    body = tip_body(tree, description=f"同一键并发重试 {key}")
    answers = await asyncio.gather(
        *(client.post("/api/v1/tips", json=body, headers=headers) for _ in range(6))
    )
    assert {a.status_code for a in answers} <= {201, 409}
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1
    assert await _count(session_factory, tips, tips.c.description == body["description"]) == 1


async def test_a_key_in_flight_or_abandoned_is_decided_as_before(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree, session_factory: SF
) -> None:
    """A key claimed by a request still running answers 409; one whose claim lapsed (the
    request died) is taken over and the submission runs, its response stored."""
    resident, _ = await resident_token(client, settings)
    me = (await client.get("/api/v1/me", headers=auth(resident))).json()["account"]["id"]
    body = tip_body(tree)
    now = datetime.now(UTC)
    busy, lapsed = uuid.uuid4().hex, uuid.uuid4().hex
    async with session_factory() as s:
        for key, locked in ((busy, now + timedelta(minutes=1)), (lapsed, now - timedelta(1))):
            await s.execute(
                sa.insert(idempotency_keys).values(
                    principal=me,
                    key=key,
                    operation="submitTip",
                    request_hash=_hash(
                        "submitTip", TipIn.model_validate(body).model_dump(mode="json")
                    ),
                    state="in_flight",
                    created_at=now - timedelta(minutes=5),
                    locked_until=locked,
                    expires_at=now + timedelta(hours=1),
                )
            )
        await s.commit()
    running = await client.post(
        "/api/v1/tips", json=body, headers={**auth(resident), "Idempotency-Key": busy}
    )
    assert running.status_code == 409
    assert running.json()["code"] == "idempotency.in_flight"
    taken_over = await client.post(
        "/api/v1/tips", json=body, headers={**auth(resident), "Idempotency-Key": lapsed}
    )
    assert taken_over.status_code == 201, taken_over.text
    stored = await _key(session_factory, lapsed)
    assert stored.state == "completed"
    assert bytes(stored.response_body) == taken_over.content
    assert await _count(session_factory, tips, tips.c.id == taken_over.json()["id"]) == 1


async def test_over_the_hourly_limit_nothing_is_written_not_even_the_key(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree, session_factory: SF
) -> None:
    service = app.state.services.get(TipService)
    resident, _ = await resident_token(client, settings)
    for _ in range(service.hourly_limit):
        ok = await client.post("/api/v1/tips", json=tip_body(tree), headers=auth(resident))
        assert ok.status_code == 201, ok.text
    key = uuid.uuid4().hex
    before = await _count(session_factory, tips)
    logged = await _count(session_factory, tip_submissions)
    refused = await client.post(
        "/api/v1/tips", json=tip_body(tree), headers={**auth(resident), "Idempotency-Key": key}
    )
    assert refused.status_code == 429
    assert refused.json()["code"] == "tip.rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert await _count(session_factory, tips) == before
    assert await _count(session_factory, tip_submissions) == logged
    assert await _key(session_factory, key) is None


async def test_anonymous_tip_in_one_statement_leaves_no_trace_of_its_sender(
    client: httpx.AsyncClient, settings: Settings, tree: OrgTree, session_factory: SF
) -> None:
    resident, _ = await resident_token(client, settings)
    r = await client.post(
        "/api/v1/tips",
        json=tip_body(tree, anonymous=True),
        headers={
            **auth(resident),
            "Idempotency-Key": uuid.uuid4().hex,
            "X-Request-ID": "anon-req-0001",
        },
    )
    assert r.status_code == 201, r.text
    tip_id = r.json()["id"]
    assert await _count(session_factory, audit_log, audit_log.c.record_id == tip_id) == 0
    async with session_factory() as s:
        request_ids = (
            (await s.execute(sa.select(outbox.c.request_id).where(outbox.c.aggregate_id == tip_id)))
            .scalars()
            .all()
        )
    assert request_ids == [None]
