"""Hazard use cases with in-memory fakes of the ports: bad input changes nothing, retries are
safe, only the responsible party rectifies, the rectifying party never re-inspects, events
stay thin, and escalation follows the clock."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self

import pytest

from app.domain.hazards.errors import (
    HazardIdTaken,
    HazardNotFound,
    NotAssignee,
    NotReinspector,
)
from app.domain.hazards.model import (
    Category,
    Department,
    DepartmentKind,
    DuplicateRule,
    Hazard,
    HazardEvent,
    HazardStatus,
    Outcome,
    TopCategory,
)
from app.domain.hazards.ports import HazardFilter, HazardSlice, NearbyHazard
from app.domain.hazards.services import HazardService, NewHazard
from app.domain.help.ports import ServingVolunteer
from app.domain.media.model import MediaKind, MediaNotFound, MediaObject, MediaStatus
from app.domain.organisation.model import Placement
from app.domain.shared.clock import FixedClock
from app.domain.shared.errors import InvalidInput, NotAllowed
from app.domain.shared.events import DomainEvent
from app.domain.shared.geo import GeoPoint
from app.domain.shared.scope import Role, RoleCoverage, Scope, system_scope

DISTRICT, STATION, OTHER_STATION, GRID = (uuid.uuid4() for _ in range(4))
HERE = GeoPoint(119.95, 31.70)
DESCRIPTION = "出租屋内私拉乱接电线，插线板串联"


@dataclass
class Store:
    hazards: dict[uuid.UUID, Hazard] = field(default_factory=dict)
    media: dict[uuid.UUID, MediaObject] = field(default_factory=dict)
    departments: dict[uuid.UUID, Department] = field(default_factory=dict)
    members: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    volunteers: dict[uuid.UUID, frozenset[uuid.UUID]] = field(default_factory=dict)
    outbox: list[DomainEvent] = field(default_factory=list)
    locates: int = 0

    def departments_of(self, account: uuid.UUID) -> frozenset[uuid.UUID]:
        return frozenset(d for d, accounts in self.members.items() if account in accounts)


class FakeHazards:
    """New hazards are staged and reach the store on commit (a rollback drops them)."""

    def __init__(self, store: Store, scope: Scope) -> None:
        self.store, self.scope = store, scope
        self.staged: dict[uuid.UUID, Hazard] = {}

    def _visible(self, h: Hazard) -> bool:
        me = self.scope.account_id
        return (
            self.scope.sees_station(h.routing.station_id, h.routing.district_id)
            or me in h.reporters
            or h.department_id in self.store.departments_of(me)
            or (
                h.status == HazardStatus.RECTIFIED
                and h.routing.station_id in self.store.volunteers.get(me, frozenset())
            )
        )

    async def insert(self, hazard: Hazard) -> bool:
        if hazard.id in self.store.hazards or hazard.id in self.staged:
            return False
        hazard.pending.clear()
        hazard.new_reporters.clear()
        self.staged[hazard.id] = hazard
        return True

    async def own(self, hazard_id: uuid.UUID, account_id: uuid.UUID) -> Hazard | None:
        h = self.store.hazards.get(hazard_id)
        return h if h and h.reporter_id == account_id else None

    async def get(self, hazard_id: uuid.UUID, *, for_update: bool = False) -> Hazard | None:
        h = self.store.hazards.get(hazard_id)
        return h if h and self._visible(h) else None

    async def exists(self, hazard_id: uuid.UUID) -> bool:
        return await self.get(hazard_id) is not None

    async def save(self, hazard: Hazard, *, expected_version: int | None) -> None:
        hazard.version += 1
        hazard.pending.clear()
        hazard.new_reporters.clear()

    async def link(self, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
        return None

    async def linked(self, hazard_id: uuid.UUID) -> list[uuid.UUID]:
        return []

    async def events(self, hazard_id: uuid.UUID) -> list[HazardEvent]:
        return []

    async def page(
        self, where: HazardFilter, *, limit: int, after: uuid.UUID | None
    ) -> HazardSlice:
        return HazardSlice([h for h in self.store.hazards.values() if self._visible(h)], False)

    async def of_reporter(
        self, account_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
    ) -> HazardSlice:
        return HazardSlice([], False)

    async def nearby(
        self,
        category: TopCategory,
        point: GeoPoint,
        rule: DuplicateRule,
        since: datetime,
        *,
        limit: int,
        exclude: uuid.UUID | None = None,
    ) -> list[NearbyHazard]:
        return [
            NearbyHazard(h.id, h.category, h.status, 0, h.media_ids[0])
            for h in self.store.hazards.values()
            if h.category == category and h.is_open and h.location == point
        ]

    async def overdue(self, today: date, *, limit: int) -> list[Hazard]:
        return [h for h in self.store.hazards.values() if h.overdue(today)]

    async def stats(self, *args: Any) -> list[Any]:
        return []


class FakeCategories:
    async def add(self, category: Category) -> bool:
        return True

    async def get(self, category_id: uuid.UUID) -> Category | None:
        return None

    async def list(self, district_id: uuid.UUID | None) -> list[Category]:
        return []


class FakeDepartments:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, department: Department) -> None:
        self.store.departments[department.id] = department

    async def get(self, department_id: uuid.UUID) -> Department | None:
        return self.store.departments.get(department_id)

    async def visible(self) -> list[Department]:
        return list(self.store.departments.values())

    async def add_member(self, department_id: uuid.UUID, account_id: uuid.UUID) -> bool:
        self.store.members.setdefault(department_id, set()).add(account_id)
        return True

    async def account_exists(self, account_id: uuid.UUID) -> bool:
        return True

    async def of_account(self, account_id: uuid.UUID) -> frozenset[uuid.UUID]:
        return self.store.departments_of(account_id)

    async def members(self, department_id: uuid.UUID) -> list[uuid.UUID]:
        return sorted(self.store.members.get(department_id, set()))

    async def staff(self, station_id: uuid.UUID | None, district_id: uuid.UUID) -> list[uuid.UUID]:
        return []


class FakeRoster:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def serving(self, account_id: uuid.UUID) -> ServingVolunteer | None:
        stations = self.store.volunteers.get(account_id)
        return ServingVolunteer(uuid.uuid4(), stations) if stations else None

    async def cards(self, volunteer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
        return {}


class FakeMedia:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def owned_for_update(
        self, account_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> list[MediaObject]:
        return [
            m for i in ids if (m := self.store.media.get(i)) and m.owner_account_id == account_id
        ]

    async def update(self, media: MediaObject) -> None:
        return None


class FakeUow:
    def __init__(self, store: Store, scope: Scope, clock: FixedClock) -> None:
        self.store, self.scope, self.clock = store, scope, clock
        self.hazards = FakeHazards(store, scope)
        self.categories = FakeCategories()
        self.departments = FakeDepartments(store)
        self.roster = FakeRoster(store)
        self.media = FakeMedia(store)
        self._events: list[DomainEvent] = []

    async def __aenter__(self) -> Self:
        self._events = []
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        self.store.hazards.update(self.hazards.staged)
        self.store.outbox += self._events

    async def rollback(self) -> None:
        self.hazards.staged.clear()
        self._events.clear()

    def add_event(self, event: DomainEvent) -> None:
        self._events.append(event)

    def audit(self, action: str, record_type: str, record_id: Any, detail: Any = None) -> None:
        return None


class FakeLocator:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def locate(self, point: GeoPoint) -> Placement:
        self.store.locates += 1
        return Placement(DISTRICT, STATION, None, GRID, outside=False)


@dataclass
class World:
    service: HazardService
    store: Store
    clock: FixedClock

    def photo(self, owner: Scope) -> uuid.UUID:
        media = MediaObject(
            uuid.uuid4(),
            owner.account_id,
            MediaKind.PHOTO,
            "image/jpeg",
            10,
            "k",
            MediaStatus.READY,
            self.clock.now(),
        )
        self.store.media[media.id] = media
        return media.id


@pytest.fixture
def world() -> World:
    store = Store()
    clock = FixedClock(datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
    service = HazardService(lambda s: FakeUow(store, s, clock), clock, FakeLocator(store))  # type: ignore[arg-type, return-value]
    return World(service, store, clock)


def resident() -> Scope:
    return Scope(account_id=uuid.uuid4(), roles=frozenset({Role.RESIDENT}))


def officer(station: uuid.UUID = STATION) -> Scope:
    return Scope(
        account_id=uuid.uuid4(),
        roles=frozenset({Role.OFFICER}),
        station_ids=frozenset({station}),
        coverage=(RoleCoverage(Role.OFFICER, frozenset({station})),),
    )


def member(world: World, department_id: uuid.UUID) -> Scope:
    scope = Scope(account_id=uuid.uuid4(), roles=frozenset({Role.DEPARTMENT}))
    world.store.members.setdefault(department_id, set()).add(scope.account_id)
    return scope


def volunteer(world: World, station: uuid.UUID = STATION) -> Scope:
    scope = Scope(account_id=uuid.uuid4(), roles=frozenset({Role.VOLUNTEER}))
    world.store.volunteers[scope.account_id] = frozenset({station})
    return scope


def fire_department(world: World) -> uuid.UUID:
    dep = Department.new(DISTRICT, "武进区消防救援大队", DepartmentKind.FIRE)
    world.store.departments[dep.id] = dep
    return dep.id


async def test_bad_input_is_refused_before_locating_and_retries_are_safe(world: World) -> None:
    reporter = resident()
    with pytest.raises(InvalidInput):
        await world.service.report(reporter, NewHazard(TopCategory.FIRE, DESCRIPTION, HERE, ()))
    assert world.store.locates == 0
    assert world.store.hazards == {}
    hid = uuid.uuid4()
    new = NewHazard(TopCategory.FIRE, DESCRIPTION, HERE, (world.photo(reporter),), id=hid)
    first = await world.service.report(reporter, new)
    assert first.created
    assert first.hazard.routing.station_id == STATION
    again = await world.service.report(reporter, new)
    assert not again.created
    assert again.id == hid
    with pytest.raises(HazardIdTaken):
        await world.service.report(resident(), new)
    kinds = [e.event_type for e in world.store.outbox]
    assert sorted(kinds) == ["hazard.reported", "media.attached"]
    # Someone else's photo: not found, nothing stored.
    with pytest.raises(MediaNotFound):
        await world.service.report(
            resident(), NewHazard(TopCategory.FIRE, DESCRIPTION, HERE, (world.photo(reporter),))
        )
    assert list(world.store.hazards) == [hid]


async def test_only_the_department_rectifies_and_never_reinspects(world: World) -> None:
    reporter, staff = resident(), officer()
    dep = fire_department(world)
    fireman = member(world, dep)
    neighbour_dep = member(world, fire_department(world))
    report = NewHazard(TopCategory.FIRE, DESCRIPTION, HERE, (world.photo(reporter),))
    hid = (await world.service.report(reporter, report)).id
    await world.service.verify(staff, hid, Outcome.REAL)
    deadline = date(2026, 11, 29)
    view = await world.service.assign(staff, hid, department_id=dep, deadline=deadline)
    assert view.hazard.status == HazardStatus.ASSIGNED
    with pytest.raises(NotAssignee):
        await world.service.rectify(reporter, hid, (world.photo(reporter),), "已整改")
    with pytest.raises(NotAllowed):
        await world.service.verify(fireman, hid, Outcome.REAL)  # sees it, may not verify
    with pytest.raises(HazardNotFound):
        await world.service.get(neighbour_dep, hid)  # another department: not found
    done = await world.service.rectify(fireman, hid, (world.photo(fireman),), "已拆除私拉电线")
    assert done.hazard.status == HazardStatus.RECTIFIED
    # The rectifying party, even as a volunteer of the station, may not re-inspect.
    world.store.volunteers[fireman.account_id] = frozenset({STATION})
    with pytest.raises(NotReinspector):
        await world.service.reinspect(fireman, hid, True)
    with pytest.raises(HazardNotFound):  # another station's volunteer does not see it
        await world.service.reinspect(volunteer(world, OTHER_STATION), hid, True)
    closed = await world.service.reinspect(volunteer(world), hid, True, "复查合格")
    assert closed.hazard.status == HazardStatus.CLOSED
    events = {e.event_type: e for e in world.store.outbox}
    assert events["hazard.verified"].payload["outcome"] == "real"
    assert events["hazard.closed"].payload["reason"] == "rectified"
    assert events["hazard.assigned"].payload["department_id"] == dep
    for event in world.store.outbox:  # thin: no reporter, no text
        assert reporter.account_id not in event.payload.values()
        assert DESCRIPTION not in str(event.payload)


async def test_escalation_follows_the_clock_and_only_for_the_system(world: World) -> None:
    reporter, staff = resident(), officer()
    dep = fire_department(world)
    report = NewHazard(TopCategory.FIRE, DESCRIPTION, HERE, (world.photo(reporter),))
    hid = (await world.service.report(reporter, report)).id
    await world.service.verify(staff, hid, Outcome.REAL)
    await world.service.assign(staff, hid, department_id=dep, deadline=date(2026, 11, 23))
    with pytest.raises(NotAllowed):
        await world.service.escalate_overdue(staff)
    assert await world.service.escalate_overdue(system_scope()) == 0
    world.clock.advance(days=2)  # the 24th in Beijing: one day late
    assert await world.service.escalate_overdue(system_scope()) == 1
    assert await world.service.escalate_overdue(system_scope()) == 0
    world.clock.advance(days=2)  # the 26th: three days late
    assert await world.service.escalate_overdue(system_scope()) == 1
    levels = [e.payload["level"] for e in world.store.outbox if e.event_type == "hazard.escalated"]
    assert levels == [1, 2]
    assert world.store.hazards[hid].escalation == 2
