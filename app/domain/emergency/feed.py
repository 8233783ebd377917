"""The realtime alert feed of a subscriber (``AlertFeed.stream``): what the WebSocket,
SSE and GraphQL doors send.

One hub per process holds the process's subscription to the listener and serves every
stream; the order of work keeps nothing lost and nothing sent twice:
1. the stream joins the hub FIRST (signals from then on reach its queue);
2. once the hub's LISTEN is in place, the stream reads from the database every visible
   event after the client's last ``seq`` (resume), page by page;
3. then live: for each signal the hub filters its subscribers cheaply by ids, loads the
   event ONCE for the process (``EventCache``) and applies the visibility rule in memory
   (``may_receive``, the twin of the SQL in ``EventFeedReader.since``) per subscriber;
   an event the cache cannot load makes those subscribers read through their own scope;
4. when the listener's connection is lost (or a subscriber fell a whole queue behind),
   the subscribers catch up from the database; the hub subscribes again.
Items are deduplicated by ``seq``. A volunteer's own ``alerted`` items are recorded as
delivered (batched across subscribers: one statement) so escalation to push and SMS
waits. Each subscriber is re-authenticated periodically (jittered, so thousands of
connections do not all re-authenticate at once): a revoked session ends the stream.

Visibility is that of ``incident_ports``: staff see the events of their stations' (or
district queue's) incidents; a volunteer sees their own events and, of incidents they
were alerted to, the incident-wide events after their alert (``raised`` excluded: the
alert carries the incident summary)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection
from typing import Protocol

import structlog

from app.domain.emergency.incident import IncidentEventKind
from app.domain.emergency.incident_ports import (
    AlertListener,
    EventFeedReader,
    EventSignal,
    FeedItem,
)
from app.domain.shared.clock import Clock
from app.domain.shared.errors import NotAllowed
from app.domain.shared.scope import Scope

log = structlog.get_logger("shouwang.emergency.feed")

PAGE = 200  # events per catch-up read
LOCAL_QUEUE = 1024  # items waiting for one subscriber before it catches up instead
# Every minute (jittered): a revoked session or an expired token ends the stream within
# about a minute. At 29 s (inside the principal cache's 30 s TTL) 5,000 subscribers cost
# 172 checks a second and the fan-out's tail went past 1 s in 2 of 10 rounds; at 60 s the
# tail stayed under 0.6 s (bench/RESULTS.md, realtime fan-out, run f).
REAUTH_EVERY_S = 60.0
REAUTH_LATE_S = 5.0  # how long a re-authentication may wait while alerts are going out
RESUBSCRIBE_MIN_S = 0.5
RESUBSCRIBE_MAX_S = 15.0

Reauthenticate = Callable[[], Awaitable[Scope]]
OnLive = Callable[[int], Awaitable[None]]


class EventLookup(Protocol):
    """Unscoped reads for the process-wide cache and the start of a stream (the feed
    applies the visibility rule itself)."""

    async def by_seqs(self, seqs: Collection[int]) -> list[FeedItem]: ...

    async def head(self) -> int:
        """The highest ``seq`` stored (0: none)."""
        ...

    async def alerted_to(self, volunteer_id: uuid.UUID) -> dict[uuid.UUID, int]:
        """Live incidents the volunteer was alerted to, with their first alert's seq."""
        ...

    async def volunteer_of(self, account_id: uuid.UUID) -> uuid.UUID | None:
        """The account's serving volunteer record (active or on probation), if any."""
        ...


def may_subscribe(scope: Scope) -> bool:
    return scope.unrestricted or scope.is_staff or scope.volunteer_id is not None


def passes(scope: Scope, alerted: dict[uuid.UUID, int], signal: EventSignal) -> bool:
    """Cheap filter on the ids of a signal (may let through what ``may_receive`` drops)."""
    staff = scope.is_staff or scope.unrestricted
    if staff and scope.sees_station(signal.station_id, signal.district_id):
        return True
    me = scope.volunteer_id
    if me is None:
        return False
    return signal.member_id == me or (signal.member_id is None and signal.incident_id in alerted)


def may_receive(scope: Scope, alerted: dict[uuid.UUID, int], item: FeedItem) -> bool:
    """In-memory twin of the SQL visibility of ``EventFeedReader.since``."""
    staff = scope.is_staff or scope.unrestricted
    if staff and scope.sees_station(item.incident.station_id, item.incident.district_id):
        return True
    me = scope.volunteer_id
    if me is None:
        return False
    if item.member_id is not None:
        return item.member_id == me
    since = alerted.get(item.incident.id)
    return since is not None and item.seq > since and item.kind != IncidentEventKind.RAISED


class EventCache:
    """Events by seq, loaded once per process however many subscribers want them (the
    first asker loads, the others wait for that load)."""

    def __init__(self, lookup: EventLookup, size: int = 4096) -> None:
        self.lookup = lookup
        self.size = size
        self._items: OrderedDict[int, FeedItem | None] = OrderedDict()
        self._loading: dict[int, asyncio.Future[None]] = {}
        self.loads = 0  # round trips made (tests, metrics)

    async def get(self, seqs: Collection[int]) -> dict[int, FeedItem]:
        """The events found (a seq missing from the answer: not stored, or the load
        failed — the caller then reads through its own scope)."""
        missing = [s for s in seqs if s not in self._items and s not in self._loading]
        waits = {self._loading[s] for s in seqs if s in self._loading}
        if missing:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            for s in missing:
                self._loading[s] = done
            try:
                self.loads += 1
                found = {item.seq: item for item in await self.lookup.by_seqs(missing)}
                for s in missing:
                    self._items[s] = found.get(s)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            except Exception as exc:  # the database is away: subscribers fall back
                log.warning("emergency event load failed", error=type(exc).__name__)
            finally:
                for s in missing:
                    self._loading.pop(s, None)
                done.set_result(None)
        for wait in waits:
            await asyncio.shield(wait)
        return {s: item for s in seqs if (item := self._items.get(s)) is not None}


class DeliveryMarks:
    """Alerts taken by realtime connections, written in batches (one UPDATE for every
    subscriber's alerts of the last few milliseconds)."""

    def __init__(self, reader: EventFeedReader, clock: Clock, delay_s: float = 0.05) -> None:
        self.reader = reader
        self.clock = clock
        self.delay_s = delay_s
        self._pending: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self, incident_id: uuid.UUID, member_id: uuid.UUID) -> None:
        self._pending.add((incident_id, member_id))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(self.delay_s)
        pairs, self._pending = sorted(self._pending), set()
        try:
            await self.reader.mark_delivered(pairs, self.clock.now())
        except Exception as exc:  # escalation then pushes as if not delivered: safe side
            log.warning("marking alerts delivered failed", error=type(exc).__name__)

    async def drain(self) -> None:
        """Until pending marks are written (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await self._task


class _Subscriber:
    """One stream's state as the hub sees it."""

    __slots__ = ("alerted", "queue", "scope", "started")

    def __init__(self, scope: Scope, alerted: dict[uuid.UUID, int]) -> None:
        self.scope = scope
        self.alerted = alerted  # volunteer: incident -> seq of their first alert
        self.queue: asyncio.Queue[FeedItem | None] = asyncio.Queue()
        self.started = False  # its first catch-up is done

    def offer(self, item: FeedItem | None) -> None:
        """An item; ``None``: catch up from the database (also when this far behind)."""
        if item is None or self.queue.qsize() >= LOCAL_QUEUE:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)
        else:
            self.queue.put_nowait(item)


class _Hub:
    """The process's one subscription to the listener, shared by every stream: each
    signal is filtered by ids per subscriber, its event loaded once (``EventCache``) and
    the rule applied in memory. Runs while there are subscribers."""

    def __init__(self, listener: AlertListener, cache: EventCache) -> None:
        self.listener = listener
        self.cache = cache
        self.subscribers: set[_Subscriber] = set()
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def join(self, sub: _Subscriber) -> None:
        self.subscribers.add(sub)
        if self._task is None or self._task.done():
            self.listening.clear()
            self._task = asyncio.create_task(self._run())

    def leave(self, sub: _Subscriber) -> None:
        self.subscribers.discard(sub)
        if not self.subscribers and self._task is not None:
            self._task.cancel()
            self._task = None
            self.listening.clear()

    async def _run(self) -> None:
        pause = RESUBSCRIBE_MIN_S
        while True:
            signals = self.listener.subscribe()
            worked = False
            try:
                async for signal in signals:
                    if signal is not None:
                        await self._dispatch(signal)
                        continue
                    # Listening (again), or lost: whoever was live catches up from the db.
                    worked = True
                    for sub in list(self.subscribers):
                        if sub.started:
                            sub.offer(None)
                    self.listening.set()
            except Exception as exc:  # cannot listen (database away): retried
                log.warning("emergency listener unavailable", error=type(exc).__name__)
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await signals.aclose()
            if worked:  # it listened, then lost the connection: again at once
                pause = RESUBSCRIBE_MIN_S
                continue
            await asyncio.sleep(pause)
            pause = min(pause * 2, RESUBSCRIBE_MAX_S)

    async def _dispatch(self, signal: EventSignal) -> None:
        wanted: list[_Subscriber] = []
        own_alert = signal.kind == IncidentEventKind.ALERTED and signal.member_id is not None
        for sub in self.subscribers:
            if own_alert and signal.member_id == sub.scope.volunteer_id:
                sub.alerted.setdefault(signal.incident_id, signal.seq)
            if passes(sub.scope, sub.alerted, signal):
                wanted.append(sub)
        if not wanted:
            return
        item = (await self.cache.get([signal.seq])).get(signal.seq)
        for sub in wanted:
            if item is None:
                sub.offer(None)  # not loadable here: its own scoped read decides
            elif may_receive(sub.scope, sub.alerted, item):
                sub.offer(item)


class AlertFeed:
    def __init__(
        self,
        listener: AlertListener,
        reader: EventFeedReader,
        lookup: EventLookup,
        clock: Clock,
        *,
        reauth_every_s: float = REAUTH_EVERY_S,
    ) -> None:
        self.listener = listener
        self.reader = reader
        self.lookup = lookup
        self.cache = EventCache(lookup)
        self.hub = _Hub(listener, self.cache)
        self.marks = DeliveryMarks(reader, clock)
        self.reauth_every_s = reauth_every_s

    async def authorise(self, scope: Scope) -> Scope:
        """The scope with its serving volunteer record (tokens name accounts; the rules
        match events' member ids); ``NotAllowed`` for neither staff nor a volunteer."""
        if scope.volunteer_id is None and not scope.unrestricted:
            volunteer_id = await self.lookup.volunteer_of(scope.account_id)
            if volunteer_id is not None:
                scope = dataclasses.replace(scope, volunteer_id=volunteer_id)
        if not may_subscribe(scope):
            raise NotAllowed()
        return scope

    async def stream(
        self,
        scope: Scope,
        after_seq: int | None,
        *,
        reauthenticate: Reauthenticate | None = None,
        on_live: OnLive | None = None,
    ) -> AsyncGenerator[FeedItem, None]:
        """Visible events after ``after_seq`` (None: from now on), then live ones, until
        the caller stops or re-authentication fails (its error propagates)."""
        scope = await self.authorise(scope)
        last = after_seq if after_seq is not None else await self.lookup.head()
        alerted: dict[uuid.UUID, int] = {}
        if scope.volunteer_id is not None:
            alerted = await self.lookup.alerted_to(scope.volunteer_id)
        sub = _Subscriber(scope, alerted)
        recent: OrderedDict[int, None] = OrderedDict()  # seqs sent, for dedupe
        # Jittered: connections opened together do not re-authenticate together.
        next_auth = time.monotonic() + self.reauth_every_s * random.uniform(0.5, 1.0)  # noqa: S311
        self.hub.join(sub)  # FIRST: signals from now on reach the queue
        try:
            await self.hub.listening.wait()
            catch_up = True
            while True:
                if catch_up:
                    items = await self._catch_up(sub.scope, last)
                else:
                    got = await _get(sub.queue, next_auth - time.monotonic())
                    now = time.monotonic()
                    # Due: when idle, or at the latest a little later (alerts go out first).
                    due = now >= next_auth and (got is _TIMEOUT or now >= next_auth + REAUTH_LATE_S)
                    if reauthenticate is not None and due:
                        sub.scope = await self.authorise(await reauthenticate())
                        next_auth = time.monotonic() + self.reauth_every_s
                    if got is None:
                        catch_up = True
                        continue
                    items = [got] if isinstance(got, FeedItem) else []
                for item in items:
                    if item.seq in recent:
                        continue
                    _remember(recent, item.seq)
                    own_alert = (
                        item.kind == IncidentEventKind.ALERTED
                        and item.member_id is not None
                        and item.member_id == sub.scope.volunteer_id
                    )
                    if own_alert:
                        sub.alerted.setdefault(item.incident.id, item.seq)
                    yield item
                    last = max(last, item.seq)
                    if own_alert and item.member_id is not None:
                        self.marks.add(item.incident.id, item.member_id)
                if catch_up:
                    catch_up = False
                    if not sub.started:
                        sub.started = True
                        if on_live is not None:
                            await on_live(last)
        finally:
            self.hub.leave(sub)

    async def _catch_up(self, scope: Scope, last: int) -> list[FeedItem]:
        items: list[FeedItem] = []
        while True:
            page = await self.reader.since(scope, last, PAGE)
            items += page
            if len(page) < PAGE:
                return items
            last = page[-1].seq


_TIMEOUT = object()


async def _get(queue: asyncio.Queue[FeedItem | None], seconds: float) -> object:
    if not queue.empty():
        return queue.get_nowait()
    if seconds <= 0:
        return _TIMEOUT
    try:
        async with asyncio.timeout(seconds):  # no task per wait (unlike wait_for)
            return await queue.get()
    except TimeoutError:
        return _TIMEOUT


def _remember(recent: OrderedDict[int, None], seq: int, keep: int = 1024) -> None:
    recent[seq] = None
    while len(recent) > keep:
        recent.popitem(last=False)
