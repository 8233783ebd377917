"""TipService with in-memory fakes of its ports (no database)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import pytest

from app.domain.organisation.model import Placement
from app.domain.organisation.services import OrgUnitNotFound
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import InvalidInput, NotAllowed, StaleVersion
from app.domain.shared.events import DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, RoleCoverage, Scope
from app.domain.tips.errors import TipIdTaken, TipNotFound, TipRateLimited
from app.domain.tips.feedback import FeedbackTemplate
from app.domain.tips.model import Category, Outcome, Tip, TipEvent, TipStatus
from app.domain.tips.ports import (
    Informant,
    SubmissionWrite,
    SubmitOutcome,
    SubmitResult,
    TipFilter,
    TipSlice,
)
from app.domain.tips.services import NewTip, TipService

STATION, DISTRICT, GRID = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
OFFICER = uuid.uuid4()
INSIDE = GeoPoint(119.95, 31.70)
FAR = GeoPoint(100.0, 40.0)


@dataclass
class Store:
    tips: dict[uuid.UUID, Tip] = field(default_factory=dict)
    submitters: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    informants: dict[uuid.UUID, Informant] = field(default_factory=dict)
    events: dict[uuid.UUID, list[TipEvent]] = field(default_factory=dict)
    log: list[tuple[uuid.UUID, datetime]] = field(default_factory=list)
    audits: list[tuple[str, uuid.UUID | None, dict[str, Any], uuid.UUID]] = field(
        default_factory=list
    )
    outbox: list[DomainEvent] = field(default_factory=list)
    templates: FakeTemplates = field(default_factory=lambda: FakeTemplates())


class FakeTips:
    def __init__(self, store: Store, scope: Scope) -> None:
        self.s, self.scope = store, scope

    def _visible(self, tip: Tip) -> bool:
        own = self.s.informants.get(tip.id)
        r = tip.routing
        return self.scope.sees_station(r.station_id, r.district_id) or (
            own is not None and own.account_id == self.scope.account_id
        )

    async def insert(self, tip: Tip, *, informant: Informant | None, submitter: uuid.UUID) -> bool:
        if tip.id in self.s.tips:
            return False
        self.s.tips[tip.id] = replace(tip, pending=[])
        self.s.submitters[tip.id] = submitter
        if informant:
            self.s.informants[tip.id] = informant
        self.s.events[tip.id] = list(tip.pending)
        tip.pending.clear()
        return True

    async def submitted_by(self, tip_id: uuid.UUID, account_id: uuid.UUID) -> Tip | None:
        found = self.s.submitters.get(tip_id) == account_id
        return replace(self.s.tips[tip_id], pending=[]) if found else None

    async def get(self, tip_id: uuid.UUID, *, for_update: bool = False) -> Tip | None:
        tip = self.s.tips.get(tip_id)
        return replace(tip, pending=[]) if tip and self._visible(tip) else None

    async def is_reporter(self, tip_id: uuid.UUID, account_id: uuid.UUID) -> bool:
        own = self.s.informants.get(tip_id)
        return own is not None and own.account_id == account_id

    async def save(self, tip: Tip, *, expected_version: int | None) -> None:
        stored = self.s.tips[tip.id]
        if stored.version != (expected_version or tip.version):
            raise StaleVersion()
        tip.version = stored.version + 1
        self.s.events[tip.id] += tip.pending
        tip.pending = []
        self.s.tips[tip.id] = replace(tip)

    async def events(self, tip_id: uuid.UUID) -> list[TipEvent]:
        return list(self.s.events.get(tip_id, []))

    async def page(self, where: TipFilter, *, limit: int, after: uuid.UUID | None) -> TipSlice:
        items = [t for t in self.s.tips.values() if self._visible(t)]
        return TipSlice(items[:limit], len(items) > limit)

    async def of_reporter(
        self, account_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
    ) -> TipSlice:
        ids = [k for k, v in self.s.informants.items() if v.account_id == account_id]
        return TipSlice([self.s.tips[i] for i in ids][:limit], len(ids) > limit)

    async def counts(self) -> dict[TipStatus, int]:
        return {}

    async def informant(self, tip_id: uuid.UUID) -> Informant | None:
        return self.s.informants.get(tip_id)


class FakeLog:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def record(
        self, account_id: uuid.UUID, at: datetime, *, window_start: datetime
    ) -> Sequence[datetime]:
        earlier = [t for who, t in self.s.log if who == account_id and t > window_start]
        self.s.log.append((account_id, at))
        return earlier


class FakeRoster:
    async def is_officer_of(
        self, account_id: uuid.UUID, station_id: uuid.UUID | None, district_id: uuid.UUID
    ) -> bool:
        return account_id == OFFICER and station_id == STATION


class FakeTemplates:
    def __init__(self) -> None:
        self.saved: dict[tuple[uuid.UUID, str], FeedbackTemplate] = {}

    async def of_station(self, station_id: uuid.UUID) -> list[FeedbackTemplate]:
        return [t for (s, _), t in self.saved.items() if s == station_id]

    async def save(self, station_id: uuid.UUID, template: FeedbackTemplate) -> None:
        self.saved[(station_id, template.code)] = template


class FakeUow:
    def __init__(self, store: Store, scope: Scope) -> None:
        self.store, self.scope = store, scope
        self.tips = FakeTips(store, scope)
        self.submissions = FakeLog(store)
        self.roster = FakeRoster()
        self.templates = store.templates
        self._audits: list[Any] = []
        self._events: list[DomainEvent] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        self.store.audits += self._audits
        self.store.outbox += self._events

    async def rollback(self) -> None:
        self._audits.clear()
        self._events.clear()

    def add_event(self, event: DomainEvent) -> None:
        self._events.append(event)

    def audit(
        self, action: str, record_type: str, record_id: uuid.UUID | None, detail: Any = None
    ) -> None:
        self._audits.append((action, record_id, detail or {}, self.scope.account_id))


class FakeLocator:
    async def locate(self, point: GeoPoint) -> Placement:
        if point == FAR:
            return Placement.nowhere()
        return Placement(DISTRICT, STATION, None, GRID, outside=False)


def resident() -> Scope:
    return Scope(account_id=uuid.uuid4(), roles=frozenset({Role.RESIDENT}))


def staff(role: Role, account_id: uuid.UUID | None = None) -> Scope:
    return Scope(
        account_id=account_id or uuid.uuid4(),
        roles=frozenset({role}),
        station_ids=frozenset({STATION}),
        coverage=(RoleCoverage(role, frozenset({STATION})),),
    )


class FakeWriter:
    """The one-statement submission: all of it or nothing, under the same conditions."""

    def __init__(self, store: Store) -> None:
        self.s = store
        self.keys: dict[tuple[str, str], Any] = {}

    async def write(self, w: SubmissionWrite) -> SubmitResult:
        if w.receipt is not None and (w.receipt.principal, w.receipt.key) in self.keys:
            return SubmitResult(SubmitOutcome.KEY_TAKEN)
        start = w.rate.window_start
        earlier = [t for who, t in self.s.log if who == w.submitter and t > start]
        if len(earlier) >= w.rate.limit:
            return SubmitResult(SubmitOutcome.RATE_LIMITED, earlier)
        uow = FakeUow(self.s, w.scope)
        if not await uow.tips.insert(w.tip, informant=w.informant, submitter=w.submitter):
            return SubmitResult(SubmitOutcome.ID_TAKEN)
        self.s.log.append((w.submitter, w.tip.submitted_at))
        uow.add_event(w.event)
        await uow.commit()
        if w.receipt is not None:
            self.keys[(w.receipt.principal, w.receipt.key)] = w.response
        return SubmitResult(SubmitOutcome.STORED)


@pytest.fixture(params=["unit_of_work", "one_statement"])
def world(request: pytest.FixtureRequest) -> tuple[TipService, Store, FixedClock]:
    """Submissions through a unit of work, or (plain ones) in one statement."""
    store = Store()
    clock = FixedClock(datetime(2026, 11, 22, 8, 0, tzinfo=UTC))
    writer = FakeWriter(store) if request.param == "one_statement" else None
    service = TipService(
        lambda scope: FakeUow(store, scope), clock, FakeLocator(), hourly_limit=3, writer=writer
    )
    return service, store, clock


def new(**kw: Any) -> NewTip:
    return NewTip(Category.THEFT, "小区东门有人多次拉拽车门，疑似盗窃", kw.pop("at", INSIDE), **kw)


async def test_submit_routes_and_retry_returns_the_same_tip(world: Any) -> None:
    service, store, _ = world
    me = resident()
    tip_id = uuid.uuid4()
    first = await service.submit(me, new(id=tip_id))
    assert first.created
    assert first.tip.routing.station_id == STATION
    assert first.tip.routing.grid_id == GRID
    again = await service.submit(me, new(id=tip_id))
    assert not again.created
    assert again.tip.id == tip_id
    assert len(store.tips) == 1
    assert store.audits == []  # its actor would name the informant: only the sealed row does
    with pytest.raises(TipIdTaken):
        await service.submit(resident(), new(id=tip_id))
    with pytest.raises(InvalidInput) as caught:
        await service.submit(me, new(at=FAR))
    assert caught.value.code == "tip.outside_service_area"


async def test_rate_limit_counts_the_last_hour(world: Any) -> None:
    service, _, clock = world
    me = resident()
    for _ in range(3):
        await service.submit(me, new(anonymous=True))
    with pytest.raises(TipRateLimited) as caught:
        await service.submit(me, new())
    assert caught.value.retry_after_seconds == 3601
    clock.advance(hours=1, seconds=1)
    assert (await service.submit(me, new())).created


async def test_anonymous_tip_is_neither_audited_nor_linked(world: Any) -> None:
    service, store, _ = world
    me = resident()
    view = await service.submit(me, new(anonymous=True))
    assert store.informants == {}
    assert store.audits == []
    assert [e.event_type for e in store.outbox] == ["tip.submitted"]
    with pytest.raises(TipNotFound):
        await service.get(me, view.tip.id)


async def test_writes_need_a_writing_role_at_the_station(world: Any) -> None:
    service, _store, clock = world
    tip = (await service.submit(resident(), new())).tip
    due = clock.now() + timedelta(days=1)
    with pytest.raises(NotAllowed):
        await service.assign(staff(Role.AUDITOR), tip.id, OFFICER, due)
    # An auditor of this station who is an officer elsewhere gains no write access here.
    mixed = Scope(
        account_id=uuid.uuid4(),
        roles=frozenset({Role.AUDITOR, Role.OFFICER}),
        station_ids=frozenset({STATION, uuid.uuid4()}),
        coverage=(
            RoleCoverage(Role.AUDITOR, frozenset({STATION})),
            RoleCoverage(Role.OFFICER, frozenset({uuid.uuid4()})),
        ),
    )
    with pytest.raises(NotAllowed):
        await service.assign(mixed, tip.id, OFFICER, due)
    with pytest.raises(TipNotFound):
        await service.assign(resident(), tip.id, OFFICER, due)
    with pytest.raises(InvalidInput):
        await service.assign(staff(Role.STATION_ADMIN), tip.id, uuid.uuid4(), due)
    view = await service.assign(staff(Role.STATION_ADMIN), tip.id, OFFICER, due)
    assert view.tip.status == TipStatus.TRIAGED
    assert view.as_staff


async def test_bulk_assign_takes_one_to_a_hundred_ids_and_changes_nothing_otherwise(
    world: Any,
) -> None:
    service, store, clock = world
    tip = (await service.submit(resident(), new())).tip
    admin = staff(Role.STATION_ADMIN)
    due = clock.now() + timedelta(days=1)
    for ids in ([], [tip.id] * 101):
        with pytest.raises(InvalidInput) as caught:
            await service.bulk_assign(admin, ids, OFFICER, due)
        assert caught.value.code == "tip.bulk_size_invalid"
    assert store.tips[tip.id].status == TipStatus.SUBMITTED
    done = await service.bulk_assign(admin, [tip.id] * 100, OFFICER, due)
    assert [v.tip.status for v in done] == [TipStatus.TRIAGED]


async def test_reveal_rules_and_dispute_by_reporter_only(world: Any) -> None:
    service, store, clock = world
    me = resident()
    tip = (await service.submit(me, new(contact_phone="13800138000"))).tip
    handler = staff(Role.OFFICER, OFFICER)
    await service.assign(handler, tip.id, OFFICER, clock.now() + timedelta(days=1))
    revealed = await service.reveal_informant(handler, tip.id)
    assert revealed is not None
    assert revealed.account_id == me.account_id
    colleague = staff(Role.OFFICER)
    with pytest.raises(InvalidInput):
        await service.reveal_informant(colleague, tip.id)
    await service.reveal_informant(colleague, tip.id, "需要回访举报人")
    reveals = [a for a in store.audits if a[0] == "tip.reveal_informant"]
    assert [a[2]["reason"] for a in reveals] == [None, "需要回访举报人"]

    await service.start_verifying(handler, tip.id)
    await service.record_outcome(handler, tip.id, Outcome.VALID)
    with pytest.raises(NotAllowed):
        await service.dispute(handler, tip.id, "不同意")
    view = await service.dispute(me, tip.id, "情况仍在继续")
    assert view.tip.status == TipStatus.TRIAGED
    disputed = store.outbox[-1]
    assert disputed.event_type == "tip.disputed"
    assert disputed.payload["assignee_id"] == OFFICER
    assert me.account_id not in disputed.payload.values()


async def test_station_admin_words_feedback_that_officers_then_send(world: Any) -> None:
    service, store, clock = world
    with pytest.raises(NotAllowed):
        await service.save_feedback_template(
            staff(Role.OFFICER), STATION, "valid", "valid", "谢谢", "Thanks"
        )
    admin = staff(Role.STATION_ADMIN)
    await service.save_feedback_template(admin, STATION, "valid", "valid", "谢谢您的线索", "Thanks")
    offered = await service.feedback_templates(staff(Role.OFFICER), STATION)
    assert {t.code: t.text_zh for t in offered}["valid"] == "谢谢您的线索"
    with pytest.raises(OrgUnitNotFound):  # not their station to see
        await service.feedback_templates(resident(), STATION)

    me = resident()
    tip = (await service.submit(me, new())).tip
    handler = staff(Role.OFFICER, OFFICER)
    await service.assign(handler, tip.id, OFFICER, clock.now() + timedelta(days=1))
    await service.start_verifying(handler, tip.id)
    await service.record_outcome(handler, tip.id, Outcome.VALID)
    [sent] = (await service.get(me, tip.id)).feedback
    assert sent.feedback_text("zh-CN") == "谢谢您的线索"
    assert ("tip.save_feedback_template", STATION) in [(a[0], a[1]) for a in store.audits]
