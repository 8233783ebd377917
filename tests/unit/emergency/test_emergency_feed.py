"""``AlertFeed`` with in-memory fakes of the listener and the reader: replay then live,
scoping (staff by station, volunteers by their alerts), dedupe, resume after a lost
listener, one load per event for many subscribers, delivery marks, re-authentication."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from app.domain.emergency.feed import AlertFeed, may_receive
from app.domain.emergency.glossary import IncidentType, Severity
from app.domain.emergency.incident import IncidentEventKind, IncidentStatus
from app.domain.emergency.incident_ports import EventSignal, FeedItem, IncidentSummary
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import NotAllowed, Unauthenticated
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, Scope

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
K = IncidentEventKind
STATION, OTHER, DISTRICT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


class FakeListener:
    def __init__(self) -> None:
        self.queues: list[asyncio.Queue[EventSignal | None]] = []
        self.subscriptions = 0

    async def subscribe(self) -> AsyncGenerator[EventSignal | None, None]:
        queue: asyncio.Queue[EventSignal | None] = asyncio.Queue()
        self.queues.append(queue)
        self.subscriptions += 1
        try:
            yield None  # listening: catch up
            while (item := await queue.get()) is not None:
                yield item
            yield None
        finally:
            self.queues.remove(queue)

    def emit(self, signal: EventSignal) -> None:
        for queue in self.queues:
            queue.put_nowait(signal)

    def lose(self) -> None:
        for queue in self.queues:
            queue.put_nowait(None)


class FakeStore:
    """Events and responses; ``since`` applies the documented rules independently."""

    def __init__(self) -> None:
        self.items: list[FeedItem] = []
        self.responses: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self.delivered: list[list[tuple[uuid.UUID, uuid.UUID]]] = []
        self.loads = 0
        self.reads = 0
        self.volunteers: dict[uuid.UUID, uuid.UUID] = {}

    def _visible(self, scope: Scope, item: FeedItem) -> bool:
        inc = item.incident
        if scope.is_staff and scope.sees_station(inc.station_id, inc.district_id):
            return True
        me = scope.volunteer_id
        if me is None or (inc.id, me) not in self.responses:
            return False
        if item.member_id is not None:
            return item.member_id == me
        first = min(
            (i.seq for i in self.items if i.incident.id == inc.id and i.member_id == me),
            default=None,
        )
        return first is not None and item.seq > first and item.kind != K.RAISED

    async def since(self, scope: Scope, after_seq: int, limit: int) -> list[FeedItem]:
        self.reads += 1
        found = [i for i in self.items if i.seq > after_seq and self._visible(scope, i)]
        return found[:limit]

    async def mark_delivered(
        self, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]], at: datetime
    ) -> None:
        self.delivered.append(list(pairs))

    async def by_seqs(self, seqs: Collection[int]) -> list[FeedItem]:
        self.loads += 1
        return [i for i in self.items if i.seq in set(seqs)]

    async def volunteer_of(self, account_id: uuid.UUID) -> uuid.UUID | None:
        return self.volunteers.get(account_id)

    async def head(self) -> int:
        return max((i.seq for i in self.items), default=0)

    async def alerted_to(self, volunteer_id: uuid.UUID) -> dict[uuid.UUID, int]:
        out: dict[uuid.UUID, int] = {}
        for i in self.items:
            if i.member_id == volunteer_id and i.kind == K.ALERTED:
                out.setdefault(i.incident.id, i.seq)
        return out


class World:
    def __init__(self) -> None:
        self.listener = FakeListener()
        self.store = FakeStore()
        self.feed = AlertFeed(self.listener, self.store, self.store, FixedClock(NOW))
        self.seq = 0

    def add(
        self,
        incident: uuid.UUID,
        kind: IncidentEventKind,
        member: uuid.UUID | None = None,
        *,
        station: uuid.UUID | None = STATION,
        drill: bool = False,
        signal: bool = True,
    ) -> int:
        self.seq += 1
        summary = IncidentSummary(
            id=incident,
            type=IncidentType.FIRE,
            severity=Severity.HIGH,
            location=GeoPoint(119.95, 31.70),
            description="小区3号楼起火",
            drill=drill,
            status=IncidentStatus.DISPATCHING,
            raised_at=NOW,
            station_id=station,
            district_id=DISTRICT,
        )
        item = FeedItem(self.seq, uuid.uuid4(), kind, NOW, drill, member, {}, summary)
        self.store.items.append(item)
        if kind == K.ALERTED and member is not None:
            self.store.responses.add((incident, member))
        if signal:
            self.listener.emit(
                EventSignal(self.seq, incident, kind, member, station, DISTRICT, drill)
            )
        return self.seq


def officer(station: uuid.UUID = STATION) -> Scope:
    return Scope(uuid.uuid4(), frozenset({Role.OFFICER}), station_ids=frozenset({station}))


def volunteer() -> Scope:
    return Scope(uuid.uuid4(), frozenset({Role.VOLUNTEER}), volunteer_id=uuid.uuid4())


class Reader:
    """Consumes a stream in the background."""

    def __init__(self, stream: AsyncGenerator[FeedItem, None], live: asyncio.Event) -> None:
        self.items: list[FeedItem] = []
        self.live = live
        self.error: BaseException | None = None
        self.stream = stream
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for item in self.stream:
                self.items.append(item)
        except Exception as exc:
            self.error = exc

    @property
    def seqs(self) -> list[int]:
        return [i.seq for i in self.items]

    async def until(self, n: int) -> None:
        for _ in range(200):
            if len(self.items) >= n or self.task.done():
                return
            await asyncio.sleep(0.005)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def start(world: World, scope: Scope, after: int | None, **kw: Any) -> Reader:
    live = asyncio.Event()

    async def on_live(_seq: int) -> None:
        live.set()

    return Reader(world.feed.stream(scope, after, on_live=on_live, **kw), live)


async def test_staff_get_the_replay_then_live_events_of_their_station_only() -> None:
    w = World()
    mine, other = uuid.uuid4(), uuid.uuid4()
    old = w.add(mine, K.RAISED, signal=False)
    w.add(other, K.RAISED, station=OTHER, signal=False)
    r = start(w, officer(), 0)
    await asyncio.wait_for(r.live.wait(), 2)
    assert r.seqs == [old]
    w.add(other, K.DISPATCH_STARTED, station=OTHER)
    live = w.add(mine, K.DISPATCH_STARTED, drill=True)
    w.listener.emit(
        EventSignal(live, mine, K.DISPATCH_STARTED, None, STATION, DISTRICT, True)
    )  # the same signal twice: sent once
    later = w.add(mine, K.RESOLVED)
    await r.until(3)
    await asyncio.sleep(0.02)
    assert r.seqs == [old, live, later]
    assert r.items[1].drill is True
    await r.close()


async def test_after_seq_none_starts_from_now() -> None:
    w = World()
    inc = uuid.uuid4()
    w.add(inc, K.RAISED, signal=False)
    r = start(w, officer(), None)
    await asyncio.wait_for(r.live.wait(), 2)
    new = w.add(inc, K.RESOLVED)
    await r.until(1)
    assert r.seqs == [new]
    await r.close()


async def test_volunteer_sees_own_alert_and_later_incident_wide_events_only() -> None:
    w = World()
    me, other_member = volunteer(), uuid.uuid4()
    assert me.volunteer_id is not None
    inc, foreign = uuid.uuid4(), uuid.uuid4()
    r = start(w, me, None)
    await asyncio.wait_for(r.live.wait(), 2)
    w.add(inc, K.RAISED)
    w.add(inc, K.DISPATCH_STARTED)
    w.add(inc, K.ALERTED, other_member)
    alert = w.add(inc, K.ALERTED, me.volunteer_id)
    w.add(inc, K.ACCEPTED, other_member)
    widened = w.add(inc, K.RING_WIDENED)
    w.add(foreign, K.RAISED)
    w.add(foreign, K.RESOLVED)
    done = w.add(inc, K.ALL_STOOD_DOWN)
    await r.until(3)
    await asyncio.sleep(0.05)
    assert r.seqs == [alert, widened, done]
    await w.feed.marks.drain()
    assert w.store.delivered == [[(inc, me.volunteer_id)]]
    await r.close()


async def test_in_memory_rule_matches_the_reader() -> None:
    """``may_receive`` is the twin of the SQL rule (here: of the fake's)."""
    w = World()
    me = volunteer()
    assert me.volunteer_id is not None
    inc = uuid.uuid4()
    for kind, member in [
        (K.RAISED, None),
        (K.ALERTED, uuid.uuid4()),
        (K.ALERTED, me.volunteer_id),
        (K.ACCEPTED, uuid.uuid4()),
        (K.RING_WIDENED, None),
        (K.ACCEPTED, me.volunteer_id),
        (K.RESOLVED, None),
    ]:
        w.add(inc, kind, member, signal=False)
    alerted = await w.store.alerted_to(me.volunteer_id)
    for scope in (me, officer(), officer(OTHER)):
        expected = [i.seq for i in await w.store.since(scope, 0, 100)]
        got = [i.seq for i in w.store.items if may_receive(scope, alerted, i)]
        assert got == expected
    assert [i.seq for i in await w.store.since(me, 0, 100)] == [3, 5, 6, 7]


async def test_events_missed_while_the_listener_was_lost_come_from_the_database() -> None:
    w = World()
    inc = uuid.uuid4()
    r = start(w, officer(), 0)
    await asyncio.wait_for(r.live.wait(), 2)
    first = w.add(inc, K.RAISED)
    await r.until(1)
    w.listener.lose()
    missed = w.add(inc, K.DISPATCH_STARTED, signal=False)  # nobody heard it
    await r.until(2)
    assert r.seqs == [first, missed]
    for _ in range(100):
        if w.listener.subscriptions == 2 and w.listener.queues:
            break
        await asyncio.sleep(0.01)
    assert w.listener.subscriptions == 2  # subscribed again
    later = w.add(inc, K.RESOLVED)
    await r.until(3)
    assert r.seqs == [first, missed, later]
    await r.close()


async def test_one_load_per_event_for_many_subscribers() -> None:
    w = World()
    readers = [start(w, officer(), None) for _ in range(50)]
    await asyncio.gather(*(asyncio.wait_for(r.live.wait(), 2) for r in readers))
    reads_before = w.store.reads
    w.add(uuid.uuid4(), K.RAISED)
    for r in readers:
        await r.until(1)
        assert len(r.items) == 1
    assert w.store.loads == 1
    assert w.store.reads == reads_before  # no per-subscriber read for a live event
    for r in readers:
        await r.close()


async def test_failed_reauthentication_ends_the_stream() -> None:
    w = World()
    w.feed.reauth_every_s = 0.05

    async def revoked() -> Scope:
        raise Unauthenticated()

    r = start(w, officer(), None, reauthenticate=revoked)
    await asyncio.wait_for(r.task, 2)
    assert isinstance(r.error, Unauthenticated)
    assert w.listener.queues == []  # unsubscribed


async def test_residents_may_not_subscribe() -> None:
    w = World()
    resident = Scope(uuid.uuid4(), frozenset({Role.RESIDENT}))
    with pytest.raises(NotAllowed):
        await anext(w.feed.stream(resident, None))


async def test_a_volunteer_token_is_matched_to_its_volunteer_record() -> None:
    """Tokens name accounts; the feed looks up the serving volunteer record once."""
    w = World()
    account, vid = uuid.uuid4(), uuid.uuid4()
    w.store.volunteers[account] = vid
    scope = Scope(account, frozenset({Role.VOLUNTEER}))
    assert (await w.feed.authorise(scope)).volunteer_id == vid
    r = start(w, scope, None)
    await asyncio.wait_for(r.live.wait(), 2)
    inc = uuid.uuid4()
    alert = w.add(inc, K.ALERTED, vid)
    await r.until(1)
    assert r.seqs == [alert]
    await r.close()
    stranger = Scope(uuid.uuid4(), frozenset({Role.VOLUNTEER}))  # no serving record
    with pytest.raises(NotAllowed):
        await w.feed.authorise(stranger)
