"""The realtime alert feed against the real database: the reader's scoping in SQL, the
one-statement delivery marks, the LISTEN fan-out across two listeners (two processes'
connections) and ``AlertFeed`` over them, resuming after a lost connection and after a
client reconnects."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import officer_token
from support.emergency_feed import NOW, IncidentRows, active_volunteer, delivered_at
from support.org import OrgTree, make_org_tree

from app.domain.emergency.feed import AlertFeed
from app.domain.emergency.incident_ports import EventSignal, FeedItem
from app.domain.shared.auth import Authenticator
from app.domain.shared.clock import FixedClock
from app.domain.shared.scope import Scope
from app.infra.db.emergency_feed import SqlEventFeedReader
from app.infra.realtime.pg_emergency import PgAlertListener
from app.settings import Settings


@dataclasses.dataclass
class Cast:
    tree: OrgTree
    officer: Scope
    other_officer: Scope
    alerted: Scope  # a volunteer who will be alerted
    bystander: Scope  # a volunteer of the same station, never alerted
    alerted_id: uuid.UUID
    bystander_id: uuid.UUID


async def scope_of(app: Any, token: str, volunteer_id: str | None = None) -> Scope:
    scope: Scope = await app.state.services.get_any(Authenticator).authenticate(
        token, request_id=None
    )
    if volunteer_id is not None:
        scope = dataclasses.replace(scope, volunteer_id=uuid.UUID(volunteer_id))
    return scope


@pytest.fixture
async def cast(client: httpx.AsyncClient, app: Any, settings: Settings) -> Cast:
    tree = await make_org_tree(app)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    other = await officer_token(client, app, unit_code=tree.other_station_code)
    alerted, alerted_id = await active_volunteer(client, settings, officer, tree)
    bystander, bystander_id = await active_volunteer(client, settings, officer, tree)
    return Cast(
        tree,
        await scope_of(app, officer),
        await scope_of(app, other),
        await scope_of(app, alerted, alerted_id),
        await scope_of(app, bystander, bystander_id),
        uuid.UUID(alerted_id),
        uuid.UUID(bystander_id),
    )


def rows(sf: async_sessionmaker[AsyncSession], cast: Cast, drill: bool = False) -> IncidentRows:
    t = cast.tree
    return IncidentRows(
        sf, station_id=t.station_id, district_id=t.district_id, at=t.inside, drill=drill
    )


async def test_reader_scopes_events_in_sql(
    cast: Cast, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    reader = SqlEventFeedReader(session_factory)
    start = await reader.head()
    incident = await rows(session_factory, cast, drill=True).create()
    raised = await incident.event("raised")
    started = await incident.event("dispatch_started", detail={"ring": 0})
    other_alert = await incident.event("alerted", cast.bystander_id)  # then stood down
    await incident.event("stood_down", cast.bystander_id)
    # The bystander's response is removed again: they were never alerted after all.
    async with session_factory() as s:
        await s.execute(
            sa.text("DELETE FROM emergency_responses WHERE member_id = :m"),
            {"m": cast.bystander_id},
        )
        await s.commit()
    alert = await incident.event("alerted", cast.alerted_id)
    accepted = await incident.event("accepted", cast.alerted_id)
    widened = await incident.event("ring_widened", detail={"ring": 1})

    staff = await reader.since(cast.officer, start, 100)
    stood_down = other_alert + 1
    assert [i.seq for i in staff] == [
        raised,
        started,
        other_alert,
        stood_down,
        alert,
        accepted,
        widened,
    ]
    assert all(i.drill and i.incident.drill for i in staff)
    assert staff[0].incident.description == "河边有人落水，需要救援"
    assert staff[0].incident.station_id == cast.tree.station_id

    assert await reader.since(cast.other_officer, start, 100) == []
    mine = await reader.since(cast.alerted, start, 100)
    assert [(i.seq, i.kind.value) for i in mine] == [
        (alert, "alerted"),
        (accepted, "accepted"),
        (widened, "ring_widened"),
    ]
    # Alerted, then their response removed: nothing incident-wide any more.
    bystander = await reader.since(cast.bystander, start, 100)
    assert all(i.member_id == cast.bystander_id for i in bystander)
    assert await reader.since(cast.alerted, widened, 100) == []
    assert [i.seq for i in await reader.since(cast.officer, start, 2)] == [raised, started]

    assert await reader.alerted_to(cast.alerted_id) == {incident.id: alert}
    assert await reader.volunteer_of(cast.alerted.account_id) == cast.alerted_id
    assert await reader.volunteer_of(cast.officer.account_id) is None
    loaded = await reader.by_seqs([alert, widened])
    assert [i.seq for i in loaded] == [alert, widened]


async def test_mark_delivered_keeps_the_first_time(
    cast: Cast, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    reader = SqlEventFeedReader(session_factory)
    incident = await rows(session_factory, cast).create()
    await incident.event("alerted", cast.alerted_id)
    await incident.event("alerted", cast.bystander_id)
    await reader.mark_delivered([(incident.id, cast.alerted_id)], NOW)
    await reader.mark_delivered(
        [(incident.id, cast.alerted_id), (incident.id, cast.bystander_id)],
        NOW + timedelta(seconds=5),
    )
    assert await delivered_at(session_factory, incident.id, cast.alerted_id) == NOW
    assert await delivered_at(session_factory, incident.id, cast.bystander_id) == NOW + timedelta(
        seconds=5
    )


async def next_signal(
    feed: AsyncGenerator[EventSignal | None, None], seconds: float = 5
) -> EventSignal | None:
    return await asyncio.wait_for(anext(feed), seconds)


async def test_two_listeners_both_hear_a_committed_event(
    cast: Cast, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    one, two = PgAlertListener(settings.database_url), PgAlertListener(settings.database_url)
    a, b = one.subscribe(), two.subscribe()
    try:
        assert await next_signal(a) is None  # listening: catch up now
        assert await next_signal(b) is None
        assert one.server_pid != two.server_pid  # two connections, as two processes
        incident = await rows(session_factory, cast, drill=True).create()
        seq = await incident.event("alerted", cast.alerted_id)
        for feed in (a, b):
            signal = await next_signal(feed)
            assert signal is not None
            assert (signal.seq, signal.incident_id, signal.kind.value) == (
                seq,
                incident.id,
                "alerted",
            )
            assert (signal.member_id, signal.station_id, signal.district_id, signal.drill) == (
                cast.alerted_id,
                cast.tree.station_id,
                cast.tree.district_id,
                True,
            )
        # The connection dies (database restart, network): the subscriber is told.
        pid = one.server_pid
        async with session_factory() as s:
            await s.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        assert await next_signal(a) is None
        with pytest.raises(StopAsyncIteration):
            await next_signal(a)
        assert one.subscribers == 0
    finally:
        await a.aclose()
        await b.aclose()
    assert two.subscribers == 0
    assert two.server_pid is None


class Collector:
    def __init__(self, feed: AlertFeed, scope: Scope, after: int | None) -> None:
        self.items: list[FeedItem] = []
        self.live = asyncio.Event()

        async def on_live(_: int) -> None:
            self.live.set()

        self.stream = feed.stream(scope, after, on_live=on_live)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.stream:
            self.items.append(item)

    async def until(self, n: int, seconds: float = 5) -> list[int]:
        async with asyncio.timeout(seconds):
            while len(self.items) < n:
                await asyncio.sleep(0.01)
        return [i.seq for i in self.items]

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def process(settings: Settings, sf: async_sessionmaker[AsyncSession]) -> AlertFeed:
    """What one API process wires (its own listener, cache and reader)."""
    reader = SqlEventFeedReader(sf)
    return AlertFeed(PgAlertListener(settings.database_url), reader, reader, FixedClock(NOW))


async def test_feeds_of_two_processes_deliver_resume_and_mark(
    cast: Cast, session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    first, second = process(settings, session_factory), process(settings, session_factory)
    incident = await rows(session_factory, cast).create()
    raised = await incident.event("raised")
    officer = Collector(first, cast.officer, raised - 1)  # resumes: gets `raised` from the db
    volunteer = Collector(second, cast.alerted, None)
    stranger = Collector(second, cast.other_officer, None)
    bystander = Collector(first, cast.bystander, None)
    try:
        for c in (officer, volunteer, stranger, bystander):
            await asyncio.wait_for(c.live.wait(), 5)
        assert await officer.until(1) == [raised]
        alert = await incident.event("alerted", cast.alerted_id)
        assert await officer.until(2) == [raised, alert]
        assert await volunteer.until(1) == [alert]
        assert volunteer.items[0].incident.id == incident.id
        assert volunteer.items[0].drill is False
        # Delivered over the realtime connection: recorded (batched) for escalation.
        await second.marks.drain()
        assert await delivered_at(session_factory, incident.id, cast.alerted_id) == NOW

        # The first process's listening connection dies; what is committed meanwhile is
        # read from the database when it listens again.
        pid = first.listener.server_pid  # type: ignore[attr-defined]
        async with session_factory() as s:
            await s.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        widened = await incident.event("ring_widened")
        assert await officer.until(3) == [raised, alert, widened]
        assert await volunteer.until(2) == [alert, widened]

        # The volunteer's client drops; two events happen; it reconnects with its last seq.
        await volunteer.close()
        accepted = await incident.event("accepted", cast.alerted_id)
        resolved = await incident.event("resolved")
        back = Collector(second, cast.alerted, widened)
        assert await back.until(2) == [accepted, resolved]
        await back.close()
        assert await officer.until(5) == [raised, alert, widened, accepted, resolved]
        await asyncio.sleep(0.3)
        assert stranger.items == []
        assert bystander.items == []
        assert second.cache.loads <= 4  # one load per live event, not per subscriber
    finally:
        for c in (officer, volunteer, stranger, bystander):
            await c.close()
