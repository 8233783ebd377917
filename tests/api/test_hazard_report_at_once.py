"""A hazard report without a subcategory is written by one statement, photos attached and
Idempotency-Key stored with it: replay, photos that do not fit (404, 409: nothing written)
and a photo attached by another report while the statement runs (the whole statement is
undone)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import auth, resident_token
from support.hazards import BASE, hazard_body, upload
from support.org import OrgTree, make_org_tree

from app.domain.hazards.model import Hazard, Routing, TopCategory
from app.domain.hazards.ports import ReportOutcome, ReportWrite
from app.domain.hazards.services import HazardService
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, Scope
from app.infra.db.hazards_submit import SqlReportWriter
from app.infra.db.tables.hazards import hazard_events, hazard_reporters, hazards
from app.infra.db.tables.media import media_objects
from app.infra.db.tables.platform import audit_log, idempotency_keys, outbox
from app.main import create_app, platform_of
from app.settings import Settings

SF = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
async def hazard_app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = create_app(settings.model_copy(update={"media_dir": tmp_path_factory.mktemp("hz1")}))
    yield app
    await platform_of(app).aclose()


@pytest.fixture
async def c(hazard_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hazard_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def tree(hazard_app: Any) -> OrgTree:
    return await make_org_tree(hazard_app)


async def _count(sf: SF, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    async with sf() as s:
        query = sa.select(sa.func.count()).select_from(table).where(*where)
        return int((await s.execute(query)).scalar_one())


async def _attached_to(sf: SF, photo: str) -> Any:
    async with sf() as s:
        query = sa.select(media_objects.c.attached_record_id).where(media_objects.c.id == photo)
        return (await s.execute(query)).scalar_one()


async def test_report_with_photo_and_key_is_written_once_and_replayed(
    c: httpx.AsyncClient, hazard_app: Any, settings: Settings, tree: OrgTree
) -> None:
    sf = platform_of(hazard_app).session_factory
    service = hazard_app.state.services.get(HazardService)
    assert service.writer is not None
    resident, _ = await resident_token(c, settings)
    photo = await upload(c, resident)
    key = uuid.uuid4().hex
    headers = {**auth(resident), "Idempotency-Key": key}
    body = hazard_body(tree.inside, [photo], description="小区消防通道被三轮车和杂物堵死")
    first = await c.post(BASE, json=body, headers=headers)
    assert first.status_code == 201, first.text
    hazard_id = first.json()["id"]
    again = await c.post(BASE, json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert str(await _attached_to(sf, photo)) == hazard_id
    assert await _count(sf, hazards, hazards.c.id == hazard_id) == 1
    assert await _count(sf, hazard_reporters, hazard_reporters.c.hazard_id == hazard_id) == 1
    assert await _count(sf, hazard_events, hazard_events.c.hazard_id == hazard_id) == 1
    async with sf() as s:
        events = (
            await s.execute(
                sa.select(outbox.c.event_type).where(
                    outbox.c.aggregate_id.in_([uuid.UUID(hazard_id), uuid.UUID(photo)])
                )
            )
        ).scalars()
        audits = (
            await s.execute(
                sa.select(audit_log.c.action).where(
                    audit_log.c.record_id.in_([uuid.UUID(hazard_id), uuid.UUID(photo)])
                )
            )
        ).scalars()
        stored = (
            await s.execute(sa.select(idempotency_keys).where(idempotency_keys.c.key == key))
        ).one()
        events_of = list(events)
        audits_of = list(audits)
    assert events_of.count("hazard.reported") == events_of.count("media.attached") == 1
    assert audits_of.count("hazard.report") == audits_of.count("media.attach") == 1
    assert stored.state == "completed"
    assert bytes(stored.response_body) == first.content


async def test_photos_that_do_not_fit_refuse_the_report_and_write_nothing(
    c: httpx.AsyncClient, hazard_app: Any, settings: Settings, tree: OrgTree
) -> None:
    sf = platform_of(hazard_app).session_factory
    me, _ = await resident_token(c, settings)
    someone, _ = await resident_token(c, settings)
    theirs = await upload(c, someone)
    mine = await upload(c, me)
    before = await _count(sf, hazards)
    key = uuid.uuid4().hex
    foreign = await c.post(
        BASE,
        json=hazard_body(tree.inside, [mine, theirs]),
        headers={**auth(me), "Idempotency-Key": key},
    )
    assert foreign.status_code == 404, foreign.text
    assert await _attached_to(sf, mine) is None  # not even my own photo was attached
    used = await c.post(BASE, json=hazard_body(tree.inside, [mine]), headers=auth(me))
    assert used.status_code == 201, used.text
    again = await c.post(BASE, json=hazard_body(tree.inside, [mine]), headers=auth(me))
    assert again.status_code == 409, again.text
    assert await _count(sf, hazards) == before + 1
    async with sf() as s:
        query = sa.select(idempotency_keys).where(idempotency_keys.c.key == key)
        assert (await s.execute(query)).first() is None


async def test_a_photo_attached_while_the_statement_runs_undoes_all_of_it(
    c: httpx.AsyncClient, hazard_app: Any, settings: Settings, tree: OrgTree
) -> None:
    """The report's conditions hold in its snapshot, but another report attaches the photo
    before the write gets to it: the statement aborts (SW409) and nothing stays."""
    platform = platform_of(hazard_app)
    sf = platform.session_factory
    resident, _ = await resident_token(c, settings)
    photo = uuid.UUID(await upload(c, resident))
    me = (await c.get("/api/v1/me", headers=auth(resident))).json()["account"]["id"]
    scope = Scope(account_id=uuid.UUID(me), roles=frozenset({Role.RESIDENT}))
    now = datetime.now(UTC)
    hazard = Hazard.report(
        id=uuid.uuid4(),
        category=TopCategory.FIRE,
        description="配电箱门常开，线路裸露",
        location=GeoPoint(*tree.inside),
        routing=Routing(tree.district_id, tree.station_id, None, None),
        reporter_id=scope.account_id,
        media_ids=(photo,),
        at=now,
    )
    service = hazard_app.state.services.get(HazardService)
    writer = service.writer
    assert isinstance(writer, SqlReportWriter)
    async with sf() as other:  # the other report, holding the photo's row
        await other.execute(
            sa.update(media_objects)
            .where(media_objects.c.id == photo)
            .values(attached_record_type="hazard", attached_record_id=uuid.uuid4())
        )
        write = asyncio.create_task(writer.write(ReportWrite(hazard, scope, None, [], [])))
        await asyncio.sleep(0.3)
        assert not write.done()  # waiting for the photo's row
        await other.commit()
    result = await asyncio.wait_for(write, 10)
    assert result.outcome is ReportOutcome.MEDIA_UNFIT
    assert await _count(sf, hazards, hazards.c.id == hazard.id) == 0
    assert await _count(sf, hazard_events, hazard_events.c.hazard_id == hazard.id) == 0
